package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreviewPage(t *testing.T) {
	root := t.TempDir()
	title := filepath.Join(root, "한글 제목")
	os.MkdirAll(filepath.Join(title, "dash"), 0o755)
	os.WriteFile(filepath.Join(title, "dash", "stream.mpd"), []byte("<MPD/>"), 0o644)
	os.WriteFile(filepath.Join(title, "packaging.json"), []byte(`{"cid":"movie-1"}`), 0o644)
	os.MkdirAll(filepath.Join(root, "audio", "hls"), 0o755)
	os.WriteFile(filepath.Join(root, "audio", "hls", "index.m3u8"), []byte("#EXTM3U\n"), 0o644)
	s, err := New(root, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.PreviewKeys = func(cid string) (map[string]string, error) {
		if cid != "movie-1" {
			t.Errorf("keys asked for %q", cid)
		}
		return map[string]string{"00112233445566778899aabbccddeeff": "ffeeddccbbaa99887766554433221100"}, nil
	}
	page := func(target, remote string) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = remote
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, body := page("/_preview/%ED%95%9C%EA%B8%80%20%EC%A0%9C%EB%AA%A9", "127.0.0.1:5000")
	if code != 200 || !strings.Contains(body, `"manifest":"/%ED%95%9C%EA%B8%80%20%EC%A0%9C%EB%AA%A9/dash/stream.mpd"`) ||
		!strings.Contains(body, `"clearKeys":{"00112233445566778899aabbccddeeff":"ffeeddccbbaa99887766554433221100"}`) ||
		!strings.Contains(body, "/_preview/assets/shaka-player.compiled.js") {
		t.Fatalf("local page: %d\n%s", code, body)
	}
	if _, body := page("/_preview/%ED%95%9C%EA%B8%80%20%EC%A0%9C%EB%AA%A9", "203.0.113.5:5000"); strings.Contains(body, "ffeedd") || strings.Contains(body, `"clearKeys":`) {
		t.Fatal("keys given to a remote client")
	}
	if code, body := page("/_preview/audio", "127.0.0.1:1"); code != 200 || !strings.Contains(body, `"player":"hls"`) || !strings.Contains(body, "hls.min.js") {
		t.Fatalf("HLS page: %d\n%s", code, body)
	}
	if code, body := page("/_preview/", "127.0.0.1:1"); code != 200 || !strings.Contains(body, `href="/_preview/audio"`) || !strings.Contains(body, "/_preview/%ED%95%9C") {
		t.Fatalf("list: %d\n%s", code, body)
	}
	if code, _ := page("/_preview/ncg/x.ncg", "203.0.113.5:5000"); code != http.StatusForbidden {
		t.Fatalf("NCG plaintext to a remote client: %d", code)
	}
	for _, p := range []string{"/_preview/ncg/../x.ncg", "/_preview/ncg/..%2fx.ncg", "/_preview/ncg/missing.ncg"} {
		if code, _ := page(p, "127.0.0.1:1"); code != 400 && code != 404 {
			t.Errorf("%s: %d", p, code)
		}
	}
	for _, p := range []string{"/_preview/missing", "/_preview/assets/../preview/page.html", "/_preview/..%2f..%2fetc"} {
		if code, _ := page(p, "127.0.0.1:1"); code < 400 || code >= 500 {
			t.Errorf("%s: %d", p, code)
		}
	}
}
