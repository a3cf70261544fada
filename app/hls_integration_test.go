package app

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
)

// keyFile is the clear-key URI the encrypted test outputs name, relative to their playlist.
const keyFile = "key.bin"

// hlsOutput packages src to HLS and returns the folder holding its playlists, the media
// playlist's name inside it, and the URL of the master/index playlist on a loopback server that
// also answers the key URI.
type hlsOutput struct {
	dir, media, url string
}

// packageHLS runs `drmpack hls` (method "") or `drmpack package --drm hls --hls-method M`.
func packageHLS(t *testing.T, src, method string, extra ...string) hlsOutput {
	t.Helper()
	out := t.TempDir()
	var o hlsOutput
	if method == "" {
		o = hlsOutput{dir: filepath.Join(out, "hls"), media: "index.m3u8"}
		if code, stdout, stderr := runCLI(t, append([]string{"hls", src, "-o", o.dir}, extra...)...); code != 0 {
			t.Fatalf("drmpack hls: exit %d\n%s\n%s", code, stdout, stderr)
		}
	} else {
		args := append([]string{"package", "--drm", "hls", "--hls-method", method, "--hls-key-uri", keyFile,
			"-o", out, "--key", testRawKey, "--json", src}, extra...)
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("drmpack package: exit %d\n%s\n%s", code, stdout, stderr)
		}
		title := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
		o = hlsOutput{dir: filepath.Join(out, title, "hls"), media: "playlist.m3u8"}
		key, _ := hex.DecodeString(testKey)
		if err := os.WriteFile(filepath.Join(o.dir, keyFile), key, 0o644); err != nil {
			t.Fatal(err)
		}
		assertNoKey(t, out)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(o.dir)))
	t.Cleanup(srv.Close)
	o.url = srv.URL + "/index.m3u8"
	return o
}

// assertNoKey fails when the content key appears in any file of the output other than the key
// file the test itself wrote.
func assertNoKey(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || filepath.Base(path) == keyFile {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(bytes.ToLower(b), []byte(testKey)) {
			t.Errorf("%s contains the content key", path)
		}
		return nil
	})
}

// eofPlaylist writes a copy of the media playlist with its last segment listed twice and returns
// its URL. ffmpeg 5.1 decrypts a SAMPLE-AES PES only when the next PES of its stream starts, so
// the stream's very last PES comes out garbled; with the segment repeated, every real PES is
// followed by another and the first N decoded frames are the real ones.
func (o hlsOutput) eofPlaylist(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, o.media))
	if err != nil {
		t.Fatal(err)
	}
	last := regexp.MustCompile(`#EXTINF:[^\n]*\n[^\n]*\n#EXT-X-ENDLIST`).Find(b)
	if last == nil {
		t.Fatalf("no last segment in %s", b)
	}
	entry := bytes.TrimSuffix(last, []byte("#EXT-X-ENDLIST"))
	b = bytes.Replace(b, last, append(append([]byte(nil), entry...), last...), 1)
	if err := os.WriteFile(filepath.Join(o.dir, "eof.m3u8"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(o.url, "index.m3u8") + "eof.m3u8"
}

// TestHLSDecodesToSourceFrames packages every kind of input clear, AES-128 and SAMPLE-AES, and
// checks with ffmpeg's HLS demuxer (which fetches the key from the loopback server and decrypts
// both methods) that every video frame and audio sample equals the source's.
func TestHLSDecodesToSourceFrames(t *testing.T) {
	media := mediatest.Media(t)
	inputs := []struct {
		file      string
		video     bool
		sampleAES bool // Apple's format covers H.264, AAC, AC-3 and E-AC-3 only
	}{
		{"h264_aac_moov_end.mp4", true, true},
		{"long_gop.mp4", true, true}, // keyframes 12 s apart, beyond the 10-s target
		{"hevc_aac.mp4", true, false},
		{"h264_ac3_kor.mp4", true, true},
		{"audio.m4a", false, true},
		{"audio.mp3", false, false},
		{"audio_eac3.mp4", false, true},
	}
	for _, in := range inputs {
		for _, method := range []string{"", "aes-128", "sample-aes"} {
			if method == "sample-aes" && !in.sampleAES {
				continue
			}
			name := method
			if name == "" {
				name = "clear"
			}
			t.Run(name+"/"+in.file, func(t *testing.T) {
				src := filepath.Join(media, in.file)
				o := packageHLS(t, src, method)
				decoded := o.url
				if method == "sample-aes" {
					decoded = o.eofPlaylist(t)
				}
				if in.video {
					want := mediatest.VideoFrames(t, src, "")
					got := mediatest.TolerantVideoFrames(t, decoded)
					if len(got) < len(want) {
						t.Fatalf("video: %d frames decoded, source has %d", len(got), len(want))
					}
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("video frame %d of %d differs from the source", i, len(want))
						}
					}
					if method != "sample-aes" && len(got) != len(want) {
						t.Fatalf("video: %d frames decoded, source has %d", len(got), len(want))
					}
				}
				want := mediatest.AudioPCM(t, src, "")
				got := mediatest.TolerantAudioPCM(t, decoded)
				// MPEG-TS has no edit list: the output also carries the encoder priming the source
				// decode skips (1024 AAC samples, 1105 for this MP3, 256 for AC-3).
				off := mediatest.AudioOffset(want, got, 2048*2*4)
				if off < 0 || len(got)-off < len(want) || !bytes.Equal(got[off:off+len(want)], want) {
					t.Fatalf("audio: source samples not found bit-exact in the output (offset %d, %d vs %d bytes)", off, len(got), len(want))
				}
			})
		}
	}
}

// TestHLSPlaylistSettings checks the manual's settings end to end: Sequence names the first
// segment and EXT-X-MEDIA-SEQUENCE, Index Ver 1 drops the version tag and rounds EXTINF,
// Duration splits on the largest multiple of the 2-s keyframe interval not above it, and
// Alternates makes index.m3u8 a master playlist with values computed from the media.
func TestHLSPlaylistSettings(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	o := packageHLS(t, src, "", "--sequence", "5", "--index-ver", "1", "--duration", "5", "--alternates")
	media, err := os.ReadFile(filepath.Join(o.dir, "playlist.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	// 8 s of 25 fps video with a keyframe every 2 s: 5 s gives 4-s segments.
	want := "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXTINF:4,\n5.ts\n#EXTINF:4,\n6.ts\n#EXT-X-ENDLIST\n"
	if string(media) != want {
		t.Fatalf("media playlist:\n%s\nwant:\n%s", media, want)
	}
	master, err := os.ReadFile(filepath.Join(o.dir, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	inf := regexp.MustCompile(`^#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),CODECS="avc1\.64001E,mp4a\.40\.2",RESOLUTION=640x360,FRAME-RATE=25\.000\nplaylist\.m3u8\n$`).FindSubmatch(master)
	if inf == nil {
		t.Fatalf("master playlist:\n%s", master)
	}
	var total int64
	for _, n := range []string{"5.ts", "6.ts"} {
		st, err := os.Stat(filepath.Join(o.dir, n))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	if avg := string(inf[2]); avg != itoa(total*8/8) {
		t.Fatalf("AVERAGE-BANDWIDTH %s, want %d (bits of both segments over 8 s)", avg, total)
	}
	// The frames survive any setting.
	if got, want := mediatest.VideoFrames(t, o.url, ""), mediatest.VideoFrames(t, src, ""); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("video frames differ from the source (%d vs %d)", len(got), len(want))
	}
}

// TestHLSLongGOP: with keyframes 12 s apart and the default 10-s Duration, every keyframe starts
// a segment (none can be shorter), the 6-s rest stays one segment, and TARGETDURATION covers the
// longest. Frames are TestHLSDecodesToSourceFrames's subject.
func TestHLSLongGOP(t *testing.T) {
	o := packageHLS(t, filepath.Join(mediatest.Media(t), "long_gop.mp4"), "")
	b, err := os.ReadFile(filepath.Join(o.dir, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:12\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXTINF:12.000,\n0.ts\n#EXTINF:12.000,\n1.ts\n#EXTINF:6.000,\n2.ts\n#EXT-X-ENDLIST\n"
	if string(b) != want {
		t.Fatalf("index.m3u8:\n%s\nwant:\n%s", b, want)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestPackageDASHAndHLS writes both outputs of one input in one job and checks the HLS side
// with ffmpeg (the DASH side is TestDASHDecodesToSourceFrames's subject).
func TestPackageDASHAndHLS(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "package", "--drm", "dash,hls", "--scheme", "cbcs", "-o", out, "--key", testRawKey, "--json", src)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res struct {
		Outputs []string `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(out, "h264_aac", "dash", "stream.mpd"), filepath.Join(out, "h264_aac", "hls", "index.m3u8")}
	if strings.Join(res.Outputs, "|") != strings.Join(want, "|") {
		t.Fatalf("outputs %v, want %v", res.Outputs, want)
	}
	media, err := os.ReadFile(filepath.Join(out, "h264_aac", "hls", "playlist.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	// Default FairPlay signalling: skd://<base64 KID>, KEYFORMAT, so EXT-X-VERSION 5.
	if !regexp.MustCompile(`(?m)^#EXT-X-VERSION:5$`).Match(media) ||
		!regexp.MustCompile(`(?m)^#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://a6yOww7jN589ISkLOivJww==",IV=0x[0-9A-F]{32},KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"$`).Match(media) {
		t.Fatalf("media playlist:\n%s", media)
	}
	var report struct {
		HLS struct {
			Segments int    `json:"segments"`
			KID      string `json:"kid"`
		} `json:"hls"`
		Dash struct {
			Manifest string `json:"manifest"`
		} `json:"dash"`
	}
	b, err := os.ReadFile(filepath.Join(out, "h264_aac", "packaging.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &report); err != nil || report.HLS.Segments == 0 || report.Dash.Manifest == "" || report.HLS.KID != "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3" {
		t.Fatalf("packaging.json: %s (%v)", b, err)
	}
	assertNoKey(t, out)
}

// TestHLSErrors: inputs and settings HLS cannot serve fail with 1102 and leave nothing behind.
func TestHLSErrors(t *testing.T) {
	media := mediatest.Media(t)
	cases := []struct {
		name string
		args []string
		info string
	}{
		{"hevc sample-aes", []string{"package", "--drm", "hls", "--key", testRawKey, filepath.Join(media, "hevc_aac.mp4")}, "SAMPLE-AES in MPEG-TS is defined for H.264 only"},
		{"mp3 sample-aes", []string{"package", "--drm", "hls", "--key", testRawKey, filepath.Join(media, "audio.mp3")}, "defined for AAC, AC-3 and E-AC-3 only"},
		{"aes-128 without uri", []string{"package", "--drm", "hls", "--hls-method", "aes-128", "--key", testRawKey, filepath.Join(media, "h264_aac.mp4")}, "needs --hls-key-uri"},
		{"bad method", []string{"package", "--drm", "hls", "--hls-method", "cenc", "--key", testRawKey, filepath.Join(media, "h264_aac.mp4")}, "unknown HLS encryption method"},
		{"bad index version", []string{"hls", filepath.Join(media, "h264_aac.mp4"), "--index-ver", "2"}, "want 1 or 3"},
		{"text input", []string{"hls", filepath.Join(mediatest.RepoRoot(t), "go.mod")}, "cannot be segmented for HLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := runCLI(t, append(c.args, "-o", filepath.Join(out, "o"))...)
			all := stdout + stderr
			if code == 0 || !strings.Contains(all, "<RESULT>1102</RESULT>") || !strings.Contains(all, c.info) {
				t.Fatalf("exit %d, want 1102 with %q\n%s", code, c.info, all)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				if sub, _ := os.ReadDir(filepath.Join(out, "o")); len(entries) > 1 || len(sub) > 0 {
					t.Fatalf("output left behind: %v %v", entries, sub)
				}
			}
		})
	}
}
