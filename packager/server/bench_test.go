package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServe measures requests/s (1e9 / ns/op) and MB/s through a real server on 127.0.0.1
// with parallel clients: a plain file next to net/http's FileServer on the same folder, and
// derived objects served from the cache and computed afresh (cache of size 0: sample index,
// plan and segment every time).
func BenchmarkServe(b *testing.B) {
	root := testRoot(&testing.T{})
	cases := []struct {
		name, path string
		uncached   bool
		fileServer bool
	}{
		{name: "plain-fileserver", path: "/h264_aac.mp4", fileServer: true},
		{name: "plain", path: "/h264_aac.mp4"},
		{name: "trim-cached", path: "/h264_aac.mp4?start=3&end=13"},
		{name: "trim-uncached", path: "/h264_aac.mp4?start=3&end=13", uncached: true},
		{name: "playlist-cached", path: "/h264_aac.mp4/mp4hls/index.m3u8"},
		{name: "segment-cached", path: "/h264_aac.mp4/mp4hls/1.ts"},
		{name: "segment-uncached", path: "/h264_aac.mp4/mp4hls/1.ts", uncached: true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg, err := ParseConfig([]byte(`<Server><VHostDefault><Media><MP4Trimming>ON</MP4Trimming>
				<MP4HLS Status="Active"><Duration>2</Duration></MP4HLS></Media></VHostDefault></Server>`))
			if err != nil {
				b.Fatal(err)
			}
			if c.uncached {
				cfg.Cache.MemoryBytes = 0
			}
			s, err := New(root, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var h http.Handler = s
			if c.fileServer {
				h = http.FileServer(http.Dir(root))
			}
			hs := httptest.NewServer(h)
			defer hs.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			n := fetch(b, client, hs.URL+c.path)
			b.SetBytes(n)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					fetch(b, client, hs.URL+c.path)
				}
			})
		})
	}
}

func fetch(b *testing.B, client *http.Client, url string) int64 {
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("%s: %d %v", url, resp.StatusCode, err)
	}
	return n
}

// BenchmarkBigFileTTFB measures time to first byte on $DRMPACK_BENCH_BIG (scripts/bench-serve.sh
// makes a 1 GB MP4): the first playlist on a new server (the sample index is built from the
// moov), then segments spread over the file with the index cached but each segment new. It
// reports the bytes of the source each read, to show that no request reads the whole file.
func BenchmarkBigFileTTFB(b *testing.B) {
	big := os.Getenv("DRMPACK_BENCH_BIG")
	if big == "" {
		b.Skip("DRMPACK_BENCH_BIG names no file (see scripts/bench-serve.sh)")
	}
	cfg, _ := ParseConfig([]byte(`<Server><VHostDefault><Media><MP4HLS Status="Active"/></Media></VHostDefault></Server>`))
	for range b.N {
		s, err := New(filepath.Dir(big), cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		var read atomic.Int64
		s.source = func(r io.ReaderAt) io.ReaderAt { return countingReaderAt{r, &read} }
		hs := httptest.NewServer(s)
		base := hs.URL + "/" + filepath.Base(big) + "/mp4hls/"
		ttfb := func(name string) time.Duration {
			var first time.Time
			req, _ := http.NewRequest(http.MethodGet, base+name, nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}))
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%s: %v %v", name, err, resp)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return first.Sub(start)
		}
		b.ReportMetric(float64(ttfb("index.m3u8").Microseconds())/1000, "index-cold-ms")
		b.ReportMetric(float64(read.Swap(0))/(1<<20), "index-read-MB")
		var worst time.Duration
		var maxRead int64
		for _, seg := range []string{"5.ts", "20.ts", "40.ts", "60.ts"} {
			worst = max(worst, ttfb(seg))
			maxRead = max(maxRead, read.Swap(0))
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "segment-worst-ms")
		b.ReportMetric(float64(maxRead)/(1<<20), "segment-read-MB")
		hs.Close()
		s.Close()
	}
}
