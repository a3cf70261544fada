package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
)

func TestMain(m *testing.M) { mediatest.Main(m) }

// allOn turns every operation on with the manual's other defaults (2 s HLS segments for the
// short test media).
const allOn = `<Server><VHostDefault>
  <Media>
    <UpfrontMP4Header>ON</UpfrontMP4Header>
    <UpfrontM4AHeader>ON</UpfrontM4AHeader>
    <MP4Trimming>ON</MP4Trimming><M4ATrimming>ON</M4ATrimming><MP3Trimming>ON</MP3Trimming>
    <MP4HLS Status="Active"><Duration>2</Duration></MP4HLS>
    <MP3HLS Status="Active"><Duration>2</Duration></MP3HLS>
  </Media>
  <Options><Dims Status="Active"/></Options>
</VHostDefault></Server>`

// testRoot is a folder with the test media (hard links) and whatever extra files are given.
func testRoot(t *testing.T) string {
	t.Helper()
	media := mediatest.Media(t)
	root := t.TempDir()
	entries, err := os.ReadDir(media)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Link(filepath.Join(media, e.Name()), filepath.Join(root, e.Name())); err != nil {
			b, err := os.ReadFile(filepath.Join(media, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// startServer serves root with the configuration document on 127.0.0.1.
func startServer(t *testing.T, root, doc string) (*Server, string) {
	t.Helper()
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(root, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs.URL
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, url string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// rawGet sends a request target exactly as written, which an HTTP client would normalise.
func rawGet(t *testing.T, base, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPlainFileConventions(t *testing.T) {
	root := testRoot(t)
	_, base := startServer(t, root, "<Server/>")
	want, _ := os.ReadFile(filepath.Join(root, "h264_aac_moov_end.mp4"))
	a := get(t, base+"/h264_aac_moov_end.mp4?start=1&end=2")
	if a.status != 200 || !bytes.Equal(a.body, want) || a.header.Get("Content-Type") != "video/mp4" || a.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET: %d %v, %d bytes (trimming is off: the file as it is)", a.status, a.header, len(a.body))
	}
	etag, lastMod := a.header.Get("ETag"), a.header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("no validators: %v", a.header)
	}
	checkRanges(t, base+"/h264_aac_moov_end.mp4", want, etag, lastMod)
	if a := get(t, base+"/"+strings.ReplaceAll("한글 제목 01.mp4", " ", "%20")); a.status != 200 || len(a.body) == 0 {
		t.Fatalf("Korean name: %d", a.status)
	}
	resp, err := http.Head(base + "/audio.mp3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if fi, _ := os.Stat(filepath.Join(root, "audio.mp3")); resp.StatusCode != 200 || resp.ContentLength != fi.Size() || resp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("HEAD: %d %d %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	resp, err = http.Post(base+"/audio.mp3", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	for _, p := range []string{"/missing.mp4", "/", "/h264_aac.mp4/extra", "/h264_aac.mp4/mp4hls/index.m3u8"} {
		if a := get(t, base+p); a.status != 404 {
			t.Errorf("%s: %d, want 404", p, a.status)
		}
	}
}

// checkRanges applies the net/http conventions to url, whose full body is want: single and
// multiple ranges (206), unsatisfiable (416), conditional requests (304, 412), If-Range.
func checkRanges(t *testing.T, url string, want []byte, etag, lastMod string) {
	t.Helper()
	n := len(want)
	if a := get(t, url, "Range", "bytes=100-199"); a.status != 206 || !bytes.Equal(a.body, want[100:200]) ||
		a.header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", n) {
		t.Fatalf("single range: %d %q %d bytes", a.status, a.header.Get("Content-Range"), len(a.body))
	}
	if a := get(t, url, "Range", "bytes=-50"); a.status != 206 || !bytes.Equal(a.body, want[n-50:]) {
		t.Fatalf("suffix range: %d", a.status)
	}
	a := get(t, url, "Range", "bytes=0-9,1000-1019")
	_, params, err := mime.ParseMediaType(a.header.Get("Content-Type"))
	if a.status != 206 || err != nil {
		t.Fatalf("multiple ranges: %d %q", a.status, a.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(a.body), params["boundary"])
	for _, r := range [][2]int{{0, 10}, {1000, 1020}} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(p)
		if !bytes.Equal(got, want[r[0]:r[1]]) {
			t.Fatalf("part %v differs", r)
		}
	}
	if a := get(t, url, "Range", fmt.Sprintf("bytes=%d-", n)); a.status != 416 || a.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
		t.Fatalf("unsatisfiable: %d %q", a.status, a.header.Get("Content-Range"))
	}
	if a := get(t, url, "If-None-Match", etag); a.status != 304 || len(a.body) != 0 {
		t.Fatalf("If-None-Match: %d", a.status)
	}
	if a := get(t, url, "If-Modified-Since", lastMod); a.status != 304 {
		t.Fatalf("If-Modified-Since: %d", a.status)
	}
	if a := get(t, url, "If-Match", `"other"`); a.status != 412 {
		t.Fatalf("If-Match: %d", a.status)
	}
	if a := get(t, url, "Range", "bytes=0-9", "If-Range", `"other"`); a.status != 200 || len(a.body) != n {
		t.Fatalf("If-Range with a stale tag: %d", a.status)
	}
}

func TestTraversalRefused(t *testing.T) {
	outside := t.TempDir()
	secret := "SECRET-OUTSIDE-THE-ROOT"
	os.WriteFile(filepath.Join(outside, "secret.mp4"), []byte(secret), 0o644)
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	os.Mkdir(root, 0o755)
	os.WriteFile(filepath.Join(parent, "secret.mp4"), []byte(secret), 0o644)
	os.WriteFile(filepath.Join(root, "ok.mp4"), []byte("inside"), 0o644)
	os.Symlink(filepath.Join(outside, "secret.mp4"), filepath.Join(root, "link.mp4"))
	os.Symlink(outside, filepath.Join(root, "linkdir"))
	os.Symlink("../secret.mp4", filepath.Join(root, "rel.mp4"))
	_, base := startServer(t, root, allOn)
	for _, target := range []string{
		"/../secret.mp4", "/..%2fsecret.mp4", "/%2e%2e/secret.mp4", "/%2E%2E%2Fsecret.mp4", "/./../secret.mp4",
		"/ok.mp4/../../secret.mp4", "/..%5csecret.mp4", "/..\\secret.mp4", "/ok.mp4%00", "/ok%00.mp4",
		"/link.mp4", "/linkdir/secret.mp4", "/rel.mp4", "/%252e%252e/secret.mp4",
		"/ok.mp4?start=0/../../secret.mp4", "/ok.mp4?x=/mp4hls/../../secret.mp4",
		"/link.mp4/mp4hls/index.m3u8", "/link.mp4?start=0&end=1", "/linkdir/secret.mp4/dims/resize/1x1/",
		"http://x/../secret.mp4", "//../secret.mp4", "/%", "*",
	} {
		status, body := rawGet(t, base, target)
		if status < 400 || status >= 500 || strings.Contains(body, secret) {
			t.Errorf("%s: %d %q", target, status, body)
		}
	}
	if status, body := rawGet(t, base, "/ok.mp4"); status != 200 || body != "inside" {
		t.Fatalf("the root itself: %d %q", status, body)
	}
	if status, _ := rawGet(t, base, "/"+strings.Repeat("a", 9000)); status != http.StatusRequestURITooLong {
		t.Fatalf("long URL: %d", status)
	}
}
