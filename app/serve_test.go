package app

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"drmpack/internal/mediatest"
	"drmpack/packager/server"
)

// TestServeCommand runs `drmpack serve` in-process: configuration warnings at start-up, the URL
// API on a real listener, the access log, and a graceful stop on SIGINT.
func TestServeCommand(t *testing.T) {
	env := newCLIEnv(t)
	t.Setenv("DRMPACK_CONFIG_DIR", env.config)
	root := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(mediatest.Media(t), "h264_aac.mp4"))
	os.WriteFile(filepath.Join(root, "video.mp4"), src, 0o644)
	conf := filepath.Join(t.TempDir(), "server.xml")
	os.WriteFile(conf, []byte(`<Server><VHostDefault><Media><MP4Trimming>ON</MP4Trimming><Unknown/></Media></VHostDefault></Server>`), 0o644)
	accessLog := filepath.Join(t.TempDir(), "access.log")
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int)
	go func() {
		done <- CLI([]string{"serve", "--root", root, "--listen", "127.0.0.1:0", "--config", conf, "--access-log", accessLog}, outW, &stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v (%s)", err, stderr.String())
	}
	go io.Copy(io.Discard, outR)
	base := strings.TrimSuffix(line[strings.Index(line, "http://"):], "/\n")
	resp, err := http.Get(base + "/video.mp4?start=2&end=4")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) == 0 || len(body) >= len(src) {
		t.Fatalf("trimmed: %d, %d bytes of %d", resp.StatusCode, len(body), len(src))
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful stop on SIGINT")
	}
	if !strings.Contains(stderr.String(), "unknown element <Unknown>") {
		t.Fatalf("no start-up warning: %q", stderr.String())
	}
	logLines, _ := os.ReadFile(accessLog)
	var entry struct {
		URI    string `json:"uri"`
		Status int    `json:"status"`
		Bytes  int    `json:"bytes"`
		Cache  string `json:"cache"`
	}
	if err := json.Unmarshal(logLines, &entry); err != nil || entry.URI != "/video.mp4?start=2&end=4" || entry.Status != 200 || entry.Bytes != len(body) || entry.Cache != "miss" {
		t.Fatalf("access log %q: %+v %v", logLines, entry, err)
	}
}

// TestPreviewPlaysInChromium packages a title with DASH (cenc, keys from the local key store)
// and NCG, then plays the preview page of the title (shaka-player with the store's keys as
// ClearKey), of on-the-fly HLS of an MP4, trimmed (hls.js), and of the NCG file (decrypted on the
// fly into a plain <video>) in headless Chromium.
func TestPreviewPlaysInChromium(t *testing.T) {
	mediatest.RequireTools(t, "node")
	env := newCLIEnv(t)
	out := t.TempDir()
	in := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	if code, _, stderr := env.run(t, "package", "--drm", "dash,ncg", "-o", out, in); code != exitOK {
		t.Fatalf("package: %d %s", code, stderr)
	}
	src, _ := os.ReadFile(in)
	os.WriteFile(filepath.Join(out, "clip.mp4"), src, 0o644)
	t.Setenv("DRMPACK_CONFIG_DIR", env.config)
	store, err := openKeystore()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := server.ParseConfig([]byte(`<Server><VHostDefault><Media><MP4Trimming>ON</MP4Trimming>
		<MP4HLS Status="Active"><Duration>2</Duration></MP4HLS></Media></VHostDefault></Server>`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(out, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.PreviewKeys = previewKeys(store)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	if resp, err := http.Get(hs.URL + "/_preview/assets/shaka-player.compiled.js"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("player assets are not built in: run scripts/preview-assets.sh (%v)", err)
	}
	// The NCG file's plaintext, decrypted on the fly, is the source byte for byte (Range too).
	plain, err := http.Get(hs.URL + "/_preview/ncg/h264_aac.mp4.ncg")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(plain.Body)
	plain.Body.Close()
	if plain.StatusCode != 200 || string(got) != string(src) || plain.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("NCG plaintext: %d %q, %d bytes of %d", plain.StatusCode, plain.Header.Get("Content-Type"), len(got), len(src))
	}
	cmd := exec.Command("node", filepath.Join("test", "player", "preview.mjs"), hs.URL+"/_preview/h264_aac",
		hs.URL+"/_preview/clip.mp4/mp4hls/index.m3u8?start=2&end=6", hs.URL+"/_preview/h264_aac.mp4.ncg")
	cmd.Dir = mediatest.RepoRoot(t)
	report, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("preview playback: %v\n%s", err, report)
	}
	t.Logf("%s", report)
}

// TestGUIPreview: the window's Preview serves the destination folder once, lists its titles, and
// stops with the session.
func TestGUIPreview(t *testing.T) {
	env := newCLIEnv(t)
	t.Setenv("DRMPACK_CONFIG_DIR", env.config)
	t.Setenv("DRMPACK_LOG_DIR", env.logs)
	out := t.TempDir()
	if code, _, stderr := env.run(t, "package", "--drm", "dash", "-o", out, filepath.Join(mediatest.Media(t), "한글 제목 01.mp4")); code != exitOK {
		t.Fatalf("package: %d %s", code, stderr)
	}
	g := OpenGUI()
	link, err := g.Preview(out)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := g.Preview(out); again != link {
		t.Fatalf("a second Preview of the same folder started another server: %s, %s", link, again)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "/_preview/%ED%95%9C%EA%B8%80%20%EC%A0%9C%EB%AA%A9%2001") {
		t.Fatalf("%s: %d\n%s", link, resp.StatusCode, page)
	}
	if _, err := g.Preview(""); err == nil {
		t.Fatal("Preview without a folder")
	}
	g.Close()
	if _, err := http.Get(link); err == nil {
		t.Fatal("the preview server still answers after Close")
	}
}
