package server

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig: any document is either a configuration or an InvalidArgument error, never a
// panic.
func FuzzParseConfig(f *testing.F) {
	f.Add(manualXML)
	f.Add(allOn)
	f.Add(`<Server><VHostDefault><Options><Dims Status="Active"><ByOriginal Name="a"><Condition Width="10">/resize/1x1/</Condition></ByOriginal></Dims></Options></VHostDefault></Server>`)
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := ParseConfig([]byte(doc))
		if err == nil && (cfg.Dims == nil || cfg.MP4HLS.Duration <= 0) {
			t.Fatalf("accepted an unusable configuration: %+v", cfg)
		}
	})
}

// FuzzRequestTarget sends arbitrary request targets to a server whose root holds media and whose
// parent holds a secret: no panic, and the secret never comes back.
func FuzzRequestTarget(f *testing.F) {
	parent := f.TempDir()
	const secret = "SECRET-OUTSIDE"
	os.WriteFile(filepath.Join(parent, "secret.mp4"), []byte(secret), 0o644)
	root := filepath.Join(parent, "root")
	os.Mkdir(root, 0o755)
	os.Symlink(filepath.Join(parent, "secret.mp4"), filepath.Join(root, "link.mp4"))
	os.WriteFile(filepath.Join(root, "a.mp4"), []byte("\x00\x00\x00\x08ftyp\x00\x00\x00\x08mdat"), 0o644)
	os.WriteFile(filepath.Join(root, "b.mp3"), []byte("\xff\xfb\x90\x00"+strings.Repeat("\x00", 413)), 0o644)
	cfg, err := ParseConfig([]byte(allOn))
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(root, cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"/a.mp4", "/a.mp4?start=1&end=2", "/a.mp4?start=0/mp4hls/index.m3u8?end=1", "/b.mp3/mp3hls/0.ts",
		"/a.mp4/dims/resize/1x1/", "/../secret.mp4", "/%2e%2e/secret.mp4", "/link.mp4", "/_preview/..%2f", "/a.mp4?trimming=-,-,1-"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil {
			return
		}
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("%q served the secret", target)
		}
	})
}
