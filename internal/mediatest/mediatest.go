// Package mediatest supports integration tests that judge packager outputs with ffmpeg, an
// implementation independent of the packager: it makes the test media, joins DASH segments into a
// file ffmpeg can decrypt, and fingerprints decoded video frames and audio samples.
package mediatest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"
)

// RepoRoot is the module root (where go.mod is).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// RequireTools fails the test when a command it needs is missing. CI installs them, so a missing
// tool is a broken environment, not a reason to skip.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s is required by this test (apt-get install ffmpeg; see .ci/run)", n)
		}
	}
}

var (
	mediaOnce sync.Once
	mediaDir  string
	mediaErr  error
)

// Media returns the folder of test media made by scripts/make-test-media.sh, generated once per
// test binary into a temporary folder that the caller's TestMain may remove.
func Media(t testing.TB) string {
	t.Helper()
	RequireTools(t, "ffmpeg")
	mediaOnce.Do(func() {
		mediaDir, mediaErr = os.MkdirTemp("", "drmpack-media-")
		if mediaErr != nil {
			return
		}
		cmd := exec.Command("bash", filepath.Join(RepoRoot(t), "scripts", "make-test-media.sh"), mediaDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			mediaErr = fmt.Errorf("make-test-media.sh: %v\n%s", err, out)
		}
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return mediaDir
}

// Main runs a package's tests and then removes the media Media generated; use it as
// func TestMain(m *testing.M) { mediatest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if mediaDir != "" {
		os.RemoveAll(mediaDir)
	}
	os.Exit(code)
}

// JoinDASH concatenates one representation's init segment and numbered media segments into a
// single fragmented MP4 with a sidx in front of the fragments. ffmpeg 5.1 decrypts fragmented
// cenc/cbcs only when it reaches the fragments through a sidx.
func JoinDASH(t testing.TB, repDir string, timescale uint32) string {
	t.Helper()
	var segs []string
	for i := 1; ; i++ {
		seg := filepath.Join(repDir, fmt.Sprintf("%d.m4s", i))
		if _, err := os.Stat(seg); os.IsNotExist(err) {
			break
		}
		segs = append(segs, seg)
	}
	return JoinFragments(t, filepath.Base(repDir)+".mp4", timescale, filepath.Join(repDir, "init.mp4"), segs)
}

// JoinFragments is JoinDASH for any init segment and list of media segment files (such as an
// HLS fMP4 playlist's EXT-X-MAP and segments); it writes name in a temporary folder.
func JoinFragments(t testing.TB, name string, timescale uint32, initPath string, segPaths []string) string {
	t.Helper()
	init, err := os.ReadFile(initPath)
	if err != nil {
		t.Fatal(err)
	}
	var segs [][]byte
	for _, p := range segPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, b)
	}
	if len(segs) == 0 {
		t.Fatalf("no media segments to join to %s", initPath)
	}
	sidx := &mp4.SidxBox{Version: 1, ReferenceID: 1, Timescale: timescale}
	for _, s := range segs {
		// Durations are not needed for decoding; sizes locate the fragments.
		sidx.SidxRefs = append(sidx.SidxRefs, mp4.SidxRef{ReferencedSize: uint32(len(s)), StartsWithSAP: 1, SAPType: 1})
	}
	var buf bytes.Buffer
	buf.Write(init)
	if err := sidx.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		buf.Write(s)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// VideoFrames returns the md5 of every decoded frame of the first video stream, in output order.
// key (hex) decrypts CENC input; "" for clear input.
func VideoFrames(t testing.TB, path, key string) []string {
	t.Helper()
	return frameList(ffmpeg(t, path, key, "-map", "0:v:0", "-f", "framemd5", "-fps_mode", "passthrough", "-"))
}

// TolerantVideoFrames is VideoFrames for inputs whose end ffmpeg is known to decode with errors
// (the last PES of a SAMPLE-AES stream; see HLS tests): decoder errors are ignored and the caller
// judges the frames it needs.
func TolerantVideoFrames(t testing.TB, path string) []string {
	t.Helper()
	return frameList(ffmpegTolerant(t, path, "-map", "0:v:0", "-f", "framemd5", "-fps_mode", "passthrough", "-"))
}

// TolerantAudioPCM is AudioPCM ignoring decoder errors (see TolerantVideoFrames).
func TolerantAudioPCM(t testing.TB, path string) []byte {
	t.Helper()
	return ffmpegTolerant(t, path, "-map", "0:a:0", "-f", "f32le", "-")
}

func frameList(out []byte) []string {
	var frames []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		frames = append(frames, strings.TrimSpace(f[len(f)-1]))
	}
	return frames
}

// AudioPCM returns the decoded first audio stream as interleaved 32-bit float samples (raw bytes)
// and its channel count.
func AudioPCM(t testing.TB, path, key string) []byte {
	t.Helper()
	return ffmpeg(t, path, key, "-map", "0:a:0", "-f", "f32le", "-")
}

func ffmpegTolerant(t testing.TB, path string, args ...string) []byte {
	t.Helper()
	full := append([]string{"-hide_banner", "-nostdin", "-v", "error", "-i", path}, args...)
	out, err := exec.Command("ffmpeg", full...).Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", filepath.Base(path), err)
	}
	return out
}

func ffmpeg(t testing.TB, path, key string, args ...string) []byte {
	t.Helper()
	full := []string{"-hide_banner", "-nostdin", "-v", "error", "-xerror"}
	if key != "" {
		full = append(full, "-decryption_key", key)
	}
	full = append(full, "-i", path)
	full = append(full, args...)
	cmd := exec.Command("ffmpeg", full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg %s: %v\n%s", filepath.Base(path), err, stderr.String())
	}
	return out
}

// AudioOffset finds where src's decoded samples start inside out (in bytes), searching the first
// searchBytes of out for src's first block. Packaged fragments keep the encoder priming that the
// source's edit list or LAME header hides from a file decoder, so the output begins a constant
// number of samples earlier. It returns -1 when src's start is not found.
func AudioOffset(src, out []byte, searchBytes int) int {
	const block = 4096
	if len(src) < block {
		return -1
	}
	for off := 0; off+block <= len(out) && off <= searchBytes; off += 4 {
		if bytes.Equal(out[off:off+block], src[:block]) {
			return off
		}
	}
	return -1
}

// Digest is a short fingerprint for failure messages.
func Digest(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])[:12]
}
