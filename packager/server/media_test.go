package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/dims"
)

const fps = 25 // the test media's frame rate

// saved writes a response body to a file for ffmpeg.
func saved(t *testing.T, body []byte, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func duration(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// topBoxes lists an MP4's top-level box types.
func topBoxes(b []byte) []string {
	var out []string
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		if size < 8 {
			break
		}
		out = append(out, string(b[pos+4:pos+8]))
		pos += size
	}
	return out
}

func TestTrimmingURLs(t *testing.T) {
	root := testRoot(t)
	_, base := startServer(t, root, allOn)
	src := filepath.Join(root, "h264_aac.mp4")
	srcFrames := mediatest.VideoFrames(t, src, "")
	total := float64(len(srcFrames)) / fps

	// ?start=3&end=13 on an 8 s file: keyframe at or before 3 s to the end, a complete MP4.
	a := get(t, base+"/h264_aac.mp4?start=3&end=13")
	if a.status != 200 || a.header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("trim: %d %v", a.status, a.header)
	}
	out := saved(t, a.body, "trim.mp4")
	got := mediatest.VideoFrames(t, out, "")
	first := len(srcFrames) - len(got)
	if first < 0 || first > 3*fps || !equal(got, srcFrames[first:]) {
		t.Fatalf("trimmed frames are not the source's from a keyframe at or before 3 s (%d frames, source %d)", len(got), len(srcFrames))
	}
	if d := duration(t, out); math.Abs(d-(total-float64(first)/fps)) > 0.05 {
		t.Fatalf("duration %.3f", d)
	}
	checkRanges(t, base+"/h264_aac.mp4?start=3&end=13", a.body, a.header.Get("ETag"), a.header.Get("Last-Modified"))

	// Other query parameters change nothing; the same cut asked another way is the same object.
	if b := get(t, base+"/h264_aac.mp4?tag=3277&start=3&end=13&date=20130726"); !bytes.Equal(b.body, a.body) || b.header.Get("ETag") != a.header.Get("ETag") {
		t.Fatal("other parameters changed the trimmed file")
	}
	if b := get(t, base+"/h264_aac.mp4?trimming=3-13&start=0&end=1"); !bytes.Equal(b.body, a.body) {
		t.Fatal("trimming= does not win over start/end, or differs from the same range")
	}
	// Multi-trimming, repeated and reversed ranges.
	m := get(t, base+"/h264_aac.mp4?trimming=4-6,0-2,4-6")
	if m.status != 200 {
		t.Fatalf("multi-trim: %d %s", m.status, m.body)
	}
	if d := duration(t, saved(t, m.body, "multi.mp4")); math.Abs(d-6) > 0.2 {
		t.Fatalf("multi-trim duration %.3f, want about 6", d)
	}
	// start after end is no range: the file as it is (header moved up front, as configured).
	whole := get(t, base+"/h264_aac.mp4?start=5&end=2")
	if orig, _ := os.ReadFile(src); whole.status != 200 || !bytes.Equal(whole.body, orig) {
		t.Fatalf("start > end: %d, %d bytes", whole.status, len(whole.body))
	}
	// M4A and MP3 trimming.
	for _, name := range []string{"audio.m4a", "audio.mp3"} {
		b := get(t, base+"/"+name+"?start=1&end=3")
		if d := duration(t, saved(t, b.body, name)); b.status != 200 || math.Abs(d-2) > 0.1 {
			t.Fatalf("%s: %d, %.3f s", name, b.status, d)
		}
	}
	// Bad values are refused with the manual's code.
	for _, q := range []string{"start=abc", "end=-1", "trimming=5", "start=1e3"} {
		if b := get(t, base+"/h264_aac.mp4?"+q); b.status != 400 || !strings.HasPrefix(string(b.body), "1102: ") {
			t.Errorf("?%s: %d %q", q, b.status, b.body)
		}
	}
}

func TestCacheKeyDropsOnlyTrimmingParameters(t *testing.T) {
	cfg, _ := ParseConfig([]byte(allOn))
	s, err := New(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range [][3]string{
		{"video.mp4", "start=30&end=100", "video.mp4"},
		{"video.mp4", "tag=3277&start=30&end=100&date=20130726", "video.mp4?tag=3277&date=20130726"},
		{"video.mp4", "trimming=0-30,60-&z=1", "video.mp4?z=1"},
		{"img.jpg", "start=30&x=1", "img.jpg?start=30&x=1"},
	} {
		if got := s.CacheKey(c[0], c[1]); got != c[2] {
			t.Errorf("%s?%s: %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

func TestUpfrontHeader(t *testing.T) {
	root := testRoot(t)
	os.WriteFile(filepath.Join(root, "broken.mp4"), []byte("\x00\x00\x00\x10mdatxxxxxxxx\x00\x00\x01\x00moov"), 0o644)
	_, on := startServer(t, root, allOn)
	_, off := startServer(t, root, "<Server/>")
	orig, _ := os.ReadFile(filepath.Join(root, "h264_aac_moov_end.mp4"))
	if b := topBoxes(orig); strings.Index(strings.Join(b, " "), "moov") < strings.Index(strings.Join(b, " "), "mdat") {
		t.Fatalf("test media has its moov first: %v", b)
	}
	a := get(t, on+"/h264_aac_moov_end.mp4")
	boxes := strings.Join(topBoxes(a.body), " ")
	if a.status != 200 || len(a.body) != len(orig) || strings.Index(boxes, "moov") > strings.Index(boxes, "mdat") {
		t.Fatalf("upfront: %d, %s", a.status, boxes)
	}
	if !equal(mediatest.VideoFrames(t, saved(t, a.body, "up.mp4"), ""), mediatest.VideoFrames(t, filepath.Join(root, "h264_aac_moov_end.mp4"), "")) {
		t.Fatal("upfront file decodes differently")
	}
	checkRanges(t, on+"/h264_aac_moov_end.mp4", a.body, a.header.Get("ETag"), a.header.Get("Last-Modified"))
	if b := get(t, off+"/h264_aac_moov_end.mp4"); !bytes.Equal(b.body, orig) {
		t.Fatal("UpfrontMP4Header OFF changed the file")
	}
	// An unanalysable file is served as it is.
	broken, _ := os.ReadFile(filepath.Join(root, "broken.mp4"))
	if b := get(t, on+"/broken.mp4"); b.status != 200 || !bytes.Equal(b.body, broken) {
		t.Fatalf("broken file: %d", b.status)
	}
}

// segmentURIs are a media playlist's URI lines.
func segmentURIs(playlist string) []string {
	var uris []string
	for _, l := range strings.Split(playlist, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			uris = append(uris, l)
		}
	}
	return uris
}

func TestMP4HLS(t *testing.T) {
	root := testRoot(t)
	_, base := startServer(t, root, allOn)
	src := filepath.Join(root, "h264_aac.mp4")
	index := get(t, base+"/h264_aac.mp4/mp4hls/index.m3u8")
	if index.status != 200 || index.header.Get("Content-Type") != "application/vnd.apple.mpegurl" || !strings.Contains(string(index.body), "#EXT-X-VERSION:3\n") {
		t.Fatalf("index: %d %v\n%s", index.status, index.header, index.body)
	}
	uris := segmentURIs(string(index.body))
	if len(uris) != 4 || uris[0] != "/h264_aac.mp4/mp4hls/0.ts" {
		t.Fatalf("segments: %v", uris)
	}
	// ffmpeg plays the HLS over HTTP to the source's frames.
	if !equal(mediatest.VideoFrames(t, base+"/h264_aac.mp4/mp4hls/index.m3u8", ""), mediatest.VideoFrames(t, src, "")) {
		t.Fatal("HLS from the server decodes to other frames than the source")
	}
	seg := get(t, base+uris[1])
	if seg.status != 200 || seg.header.Get("Content-Type") != "video/mp2t" || len(seg.body)%188 != 0 || seg.body[0] != 0x47 {
		t.Fatalf("segment: %d %v %d bytes", seg.status, seg.header, len(seg.body))
	}
	checkRanges(t, base+uris[1], seg.body, seg.header.Get("ETag"), seg.header.Get("Last-Modified"))
	for _, p := range []string{"4.ts", "-1.ts", "01.ts", "x.ts", "playlist.m3u8", "index.m3u8/x"} {
		if a := get(t, base+"/h264_aac.mp4/mp4hls/"+p); a.status != 404 {
			t.Errorf("%s: %d, want 404", p, a.status)
		}
	}

	// The manual's three placements of the trimming parameters give one playlist, whose
	// segments carry the trim.
	var first string
	for _, u := range []string{
		"/h264_aac.mp4?start=2&end=6/mp4hls/index.m3u8",
		"/h264_aac.mp4/mp4hls/index.m3u8?start=2&end=6",
		"/h264_aac.mp4?start=2/mp4hls/index.m3u8?end=6",
	} {
		status, body := rawGet(t, base, u)
		if status != 200 {
			t.Fatalf("%s: %d %s", u, status, body)
		}
		if first == "" {
			first = body
		} else if body != first {
			t.Fatalf("%s:\n%s\nwant\n%s", u, body, first)
		}
	}
	uris = segmentURIs(first)
	if len(uris) != 2 || !strings.HasSuffix(uris[0], "0.ts?end=6&start=2") {
		t.Fatalf("trimmed segments: %v", uris)
	}
	trimmed := mediatest.VideoFrames(t, base+"/h264_aac.mp4/mp4hls/index.m3u8?start=2&end=6", "")
	if !equal(trimmed, mediatest.VideoFrames(t, src, "")[2*fps:6*fps]) {
		t.Fatalf("trimmed HLS: %d frames, not the source's 2-6 s", len(trimmed))
	}
}

func TestHLSAlternatesVersionAndMP3(t *testing.T) {
	root := testRoot(t)
	_, base := startServer(t, root, `<Server><VHostDefault><Media>
		<MP4HLS Status="Active" Keyword="hls"><Index Ver="1" Alternates="ON">main.m3u8</Index><Sequence>100</Sequence><Duration>3</Duration><AlternatesName>media.m3u8</AlternatesName></MP4HLS>
		<MP3HLS Status="Active" Keyword="mp3hls"><Duration>2</Duration></MP3HLS></Media></VHostDefault></Server>`)
	master := string(get(t, base+"/h264_aac.mp4/hls/main.m3u8").body)
	if !regexp.MustCompile(`#EXT-X-STREAM-INF:BANDWIDTH=\d+,.*RESOLUTION=640x360`).MatchString(master) || !strings.HasSuffix(master, "\n/h264_aac.mp4/hls/media.m3u8\n") || strings.Contains(master, "VERSION") {
		t.Fatalf("master:\n%s", master)
	}
	media := string(get(t, base+"/h264_aac.mp4/hls/media.m3u8").body)
	if !strings.Contains(media, "#EXT-X-MEDIA-SEQUENCE:100\n") || strings.Contains(media, "VERSION") || !regexp.MustCompile(`#EXTINF:\d+,\n/h264_aac.mp4/hls/100.ts\n`).MatchString(media) {
		t.Fatalf("media playlist:\n%s", media)
	}
	if !equal(mediatest.VideoFrames(t, base+"/h264_aac.mp4/hls/main.m3u8", ""), mediatest.VideoFrames(t, filepath.Join(root, "h264_aac.mp4"), "")) {
		t.Fatal("HLS with Alternates decodes differently")
	}
	// MP3 HLS decodes to the MP3's samples (ffmpeg aligns both on the stream's start).
	pcm := mediatest.AudioPCM(t, base+"/audio.mp3/mp3hls/index.m3u8", "")
	want := mediatest.AudioPCM(t, filepath.Join(root, "audio.mp3"), "")
	if len(pcm) < len(want)*9/10 || mediatest.AudioOffset(want, pcm, 1<<20) < 0 {
		t.Fatalf("MP3 HLS: %d bytes of PCM, source %d", len(pcm), len(want))
	}
	// MP3HLS's keyword on an MP4, MP4HLS's on an MP3: not found.
	for _, p := range []string{"/h264_aac.mp4/mp3hls/index.m3u8", "/audio.mp3/hls/main.m3u8"} {
		if a := get(t, base+p); a.status != 404 {
			t.Errorf("%s: %d", p, a.status)
		}
	}
	// With MP3HLS sharing MP4HLS's keyword, MP3HLS does not run.
	_, shared := startServer(t, root, `<Server><VHostDefault><Media><MP4HLS Status="Active"/><MP3HLS Status="Active" Keyword="mp4hls"/></Media></VHostDefault></Server>`)
	if a := get(t, shared+"/audio.mp3/mp4hls/index.m3u8"); a.status != 404 {
		t.Fatalf("MP3HLS with MP4HLS's keyword: %d", a.status)
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n *atomic.Int64
}

func (c countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// TestReadsOnlyWhatIsNeeded: a segment reads its samples (after the index), a range of a trimmed
// file reads that range, and the index is read once.
func TestReadsOnlyWhatIsNeeded(t *testing.T) {
	root := testRoot(t)
	s, base := startServer(t, root, allOn)
	var read atomic.Int64
	s.source = func(r io.ReaderAt) io.ReaderAt { return countingReaderAt{r, &read} }
	fi, _ := os.Stat(filepath.Join(root, "h264_aac.mp4"))
	size := fi.Size()

	get(t, base+"/h264_aac.mp4/mp4hls/index.m3u8")
	indexRead := read.Swap(0)
	if indexRead > size/4 {
		t.Fatalf("the playlist read %d of %d bytes", indexRead, size)
	}
	m, err := s.media(&request{source: "h264_aac.mp4", info: fi})
	if err != nil {
		t.Fatal(err)
	}
	var segBytes int64 // samples of segment 2: 4 s to 6 s
	for _, tr := range m.Tracks {
		var dts int64
		for _, smp := range tr.Samples {
			if sec := float64(dts) / float64(tr.Timescale); sec >= 3.9 && sec < 6.1 {
				segBytes += int64(smp.Size)
			}
			dts += int64(smp.Dur)
		}
	}
	read.Store(0)
	seg := get(t, base+"/h264_aac.mp4/mp4hls/2.ts")
	if n := read.Swap(0); seg.status != 200 || n == 0 || n > segBytes {
		t.Fatalf("segment 2 read %d bytes; its samples are at most %d, the file %d", n, segBytes, size)
	}
	get(t, base+"/h264_aac.mp4?start=3")
	read.Store(0)
	if a := get(t, base+"/h264_aac.mp4?start=3", "Range", "bytes=200000-200999"); a.status != 206 || read.Load() > 1000 {
		t.Fatalf("a 1000-byte range of a cached trim read %d bytes", read.Load())
	}
}

// TestSingleflightAndSaturation: concurrent requests for one new segment compute it once; with
// every derivation slot taken a derivation answers 503, while plain files still answer.
func TestSingleflightAndSaturation(t *testing.T) {
	root := testRoot(t)
	s, base := startServer(t, root, strings.Replace(allOn, "<Server>", `<Server><Limits HeavyRequests="1" HeavyWaitMs="100"/>`, 1))
	get(t, base+"/h264_aac.mp4/mp4hls/index.m3u8")
	before, _ := s.cache.snapshot()
	var wg sync.WaitGroup
	bodies := make([][]byte, 8)
	for i := range bodies {
		wg.Go(func() { bodies[i] = get(t, base+"/h264_aac.mp4/mp4hls/1.ts").body })
	}
	wg.Wait()
	after, _ := s.cache.snapshot()
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) || len(b) == 0 {
			t.Fatal("concurrent answers differ")
		}
	}
	// Each request looks up the playlist object (hit) and the segment; the segment is computed once.
	if misses := after.Misses - before.Misses; misses != 1 {
		t.Fatalf("%d computations for 8 concurrent requests of one segment", misses)
	}
	s.heavy <- struct{}{} // the one slot is busy
	a := get(t, base+"/h264_aac.mp4/mp4hls/3.ts")
	plain := get(t, base+"/audio.mp3")
	<-s.heavy
	if a.status != 503 || a.header.Get("Retry-After") == "" || plain.status != 200 {
		t.Fatalf("saturated: derived %d %v, plain %d", a.status, a.header, plain.status)
	}
	if a := get(t, base+"/h264_aac.mp4/mp4hls/3.ts"); a.status != 200 {
		t.Fatalf("after the slot is free: %d", a.status)
	}
}

func TestDims(t *testing.T) {
	root := testRoot(t)
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	os.WriteFile(filepath.Join(root, "img.jpg"), buf.Bytes(), 0o644)
	s, base := startServer(t, root, `<Server><VHostDefault><Options><Dims Status="Active" Keyword="12AB"/></Options></VHostDefault></Server>`)
	a := get(t, base+"/img.jpg/12AB/thumbnail/78x110/format/png/")
	cfg, format, err := image.DecodeConfig(bytes.NewReader(a.body))
	if a.status != 200 || a.header.Get("Content-Type") != "image/png" || err != nil || format != "png" || cfg.Width != 78 || cfg.Height != 59 {
		t.Fatalf("thumbnail: %d %v %v %s %+v", a.status, a.header, err, format, cfg)
	}
	if b := get(t, base+"/img.jpg?session=5&type=37/12AB/thumbnail/78x110/format/png/"); !bytes.Equal(b.body, a.body) {
		t.Fatal("a query before the keyword changed the result")
	}
	if b := get(t, base+"/img.jpg/12AB/thumbnail/78x110/format/png/", "Range", "bytes=0-7"); b.status != 206 || !bytes.Equal(b.body, a.body[:8]) {
		t.Fatalf("range on an image: %d", b.status)
	}
	if b := get(t, base+"/img.jpg/12AB/resize/50%25/"); b.status != 200 {
		t.Fatalf("percent: %d %s", b.status, b.body)
	}
	if b := get(t, base+"/img.jpg/12AB/nonsense/1/"); b.status != 500 || string(b.body) != dims.ConvertFailed.Sentence() {
		t.Fatalf("bad command: %d %q", b.status, b.body)
	}
	if b := get(t, base+"/h264_aac.mp4/12AB/resize/10x10/"); b.status != 500 || string(b.body) != dims.LoadFailed.Sentence() && string(b.body) != dims.ConvertFailed.Sentence() {
		t.Fatalf("not an image: %d %q", b.status, b.body)
	}
	s.cfg.Dims.MaxSourceSize = 1000
	if b := get(t, base+"/img.jpg/12AB/resize/20x20/"); b.status != 500 || string(b.body) != dims.TooLarge.Sentence() {
		t.Fatalf("too large: %d %q", b.status, b.body)
	}
	_, redirect := startServer(t, root, `<Server><VHostDefault><Options><Dims Status="Active" OnFailure="redirect"/></Options></VHostDefault></Server>`)
	if b := get(t, redirect+"/img.jpg/dims/nonsense/"); b.status != http.StatusFound || b.header.Get("Location") != "/img.jpg" {
		t.Fatalf("redirect: %d %v", b.status, b.header)
	}
	_, off := startServer(t, root, "<Server/>")
	if b := get(t, off+"/img.jpg/dims/resize/10x10/"); b.status != 404 {
		t.Fatalf("DIMS inactive: %d", b.status)
	}
}

// TestDiskCache: with no memory for them, segments are kept on disk and served from there
// without being muxed again; the disk tier stays within its limit and removes what it evicts.
func TestDiskCache(t *testing.T) {
	root := testRoot(t)
	dir := filepath.Join(t.TempDir(), "cache")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "stale"+diskSuffix), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644)
	s, base := startServer(t, root, strings.Replace(allOn, "<Server>", `<Server><Cache MemoryMB="0" DiskMB="1" Dir="`+dir+`"/>`, 1))
	if _, err := os.Stat(filepath.Join(dir, "stale"+diskSuffix)); err == nil {
		t.Fatal("a previous run's cache file was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Fatal("a file that is not the cache's was removed")
	}
	first := get(t, base+"/h264_aac.mp4/mp4hls/1.ts")
	before, _ := s.cache.snapshot()
	again := get(t, base+"/h264_aac.mp4/mp4hls/1.ts")
	after, _ := s.cache.snapshot()
	if !bytes.Equal(first.body, again.body) || after.DiskHits != before.DiskHits+1 || again.header.Get("Content-Type") != "video/mp2t" {
		t.Fatalf("second request: disk hits %d → %d, equal %v", before.DiskHits, after.DiskHits, bytes.Equal(first.body, again.body))
	}
	// Every segment once: the tier holds at most 1 MB of them.
	for k := range 4 {
		get(t, base+fmt.Sprintf("/h264_aac.mp4/mp4hls/%d.ts", k))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"+diskSuffix))
	var total int64
	for _, f := range files {
		fi, _ := os.Stat(f)
		total += fi.Size()
	}
	if len(files) == 0 || total > 1<<20 || total != s.cache.disk.used {
		t.Fatalf("%d files, %d bytes on disk, %d accounted", len(files), total, s.cache.disk.used)
	}
}

// TestMP4HLSOtherInputs: HEVC, AC-3 with a Korean language tag, a moov at the end and a Korean
// file name (escaped in the playlist's absolute URIs) all decode over HTTP to the source frames.
func TestMP4HLSOtherInputs(t *testing.T) {
	root := testRoot(t)
	_, base := startServer(t, root, allOn)
	for _, name := range []string{"hevc_aac.mp4", "h264_ac3_kor.mp4", "h264_aac_moov_end.mp4", "한글 제목 01.mp4"} {
		escaped := strings.ReplaceAll(url.PathEscape(name), "+", "%20")
		index := get(t, base+"/"+escaped+"/mp4hls/index.m3u8")
		if index.status != 200 || !strings.Contains(string(index.body), "/"+escaped+"/mp4hls/0.ts\n") {
			t.Fatalf("%s: %d\n%s", name, index.status, index.body)
		}
		if !equal(mediatest.VideoFrames(t, base+"/"+escaped+"/mp4hls/index.m3u8", ""), mediatest.VideoFrames(t, filepath.Join(root, name), "")) {
			t.Fatalf("%s: HLS from the server decodes to other frames than the source", name)
		}
	}
}
