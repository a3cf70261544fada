package app

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/internal/playtest"
)

// fmp4Playlist is what a test needs of an fMP4 media playlist: the text, its init segment and
// its segments (paths in the output folder).
type fmp4Playlist struct {
	text     string
	init     string
	segments []string
}

var mapRE = regexp.MustCompile(`^#EXT-X-MAP:URI="([^"]+)"$`)

func readFMP4Playlist(t *testing.T, dir, name string) fmp4Playlist {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	pl := fmp4Playlist{text: string(b)}
	sc := bufio.NewScanner(strings.NewReader(pl.text))
	for sc.Scan() {
		line := sc.Text()
		if m := mapRE.FindStringSubmatch(line); m != nil {
			pl.init = filepath.Join(dir, m[1])
		} else if line != "" && !strings.HasPrefix(line, "#") {
			pl.segments = append(pl.segments, filepath.Join(dir, line))
		}
	}
	if pl.init == "" || len(pl.segments) == 0 {
		t.Fatalf("%s has no EXT-X-MAP or no segments:\n%s", name, b)
	}
	return pl
}

// TestHLSFMP4DecodesToSourceFrames packages inputs to fMP4 HLS encrypted with cbcs (--hls-segments
// fmp4) and decrypts every rendition with ffmpeg, independently of our code: the init segment
// and the playlist's segments joined behind a sidx, decrypted with the key (-decryption_key).
// Every video frame and audio sample must equal the source's. The clear variant (drmpack hls
// --segments fmp4) goes through ffmpeg's own HLS demuxer, which reads the master playlist, the
// audio rendition and the EXT-X-MAPs itself.
func TestHLSFMP4DecodesToSourceFrames(t *testing.T) {
	media := mediatest.Media(t)
	inputs := []struct {
		file  string
		video bool
	}{
		{"h264_aac_moov_end.mp4", true}, // B-frames, edit list, moov last
		{"hevc_aac.mp4", true},          // cbcs covers HEVC too (MPEG-TS SAMPLE-AES does not)
		{"audio.m4a", false},
	}
	for _, in := range inputs {
		src := filepath.Join(media, in.file)
		t.Run("sample-aes/"+in.file, func(t *testing.T) {
			o := packageHLS(t, src, "sample-aes", "--hls-segments", "fmp4", "--hls-duration", "2")
			lead := readFMP4Playlist(t, o.dir, "playlist.m3u8")
			// Clear-key delivery: no KEYFORMAT (identity), no IV (it is in tenc), version 6 for EXT-X-MAP.
			want := "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
				"#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"key.bin\"\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:"
			if !strings.HasPrefix(lead.text, want) || len(lead.segments) < 4 || lead.segments[0] != filepath.Join(o.dir, "0.m4s") {
				t.Fatalf("playlist.m3u8:\n%s\nwant it to start with\n%s", lead.text, want)
			}
			joined := mediatest.JoinFragments(t, "lead.mp4", 90000, lead.init, lead.segments)
			if !in.video {
				compareAudio(t, src, joined, testKey)
				return
			}
			compareVideo(t, src, joined, testKey)
			audio := readFMP4Playlist(t, o.dir, "audio.m3u8")
			if !strings.Contains(audio.text, "#EXT-X-MAP:URI=\"audio_init.mp4\"\n#EXTINF:") {
				t.Fatalf("audio.m3u8:\n%s", audio.text)
			}
			compareAudio(t, src, mediatest.JoinFragments(t, "audio.mp4", 90000, audio.init, audio.segments), testKey)
			master, err := os.ReadFile(filepath.Join(o.dir, "index.m3u8"))
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`(?m)^#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio.m3u8"\n` +
				`#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="(avc1|hvc1)\.[^"]+,mp4a\.40\.2",RESOLUTION=640x360,FRAME-RATE=25\.000,AUDIO="audio"\nplaylist\.m3u8\n$`).Match(master) {
				t.Fatalf("index.m3u8:\n%s", master)
			}
		})
		t.Run("clear/"+in.file, func(t *testing.T) {
			o := packageHLS(t, src, "", "--segments", "fmp4", "--duration", "2", "--sequence", "3")
			if _, err := os.Stat(filepath.Join(o.dir, "3.m4s")); err != nil {
				t.Fatalf("first segment: %v", err)
			}
			if in.video {
				compareVideo(t, src, o.url, "")
			}
			compareAudio(t, src, o.url, "")
		})
	}
}

// TestHLSFMP4FairPlaySignalling: without --hls-key-uri the fMP4 output names the FairPlay key
// (skd://<base64 KID>, KEYFORMAT com.apple.streamingkeydelivery) in both playlists and in the
// master's EXT-X-SESSION-KEY; aes-128 is refused for fMP4 with code 1102 and no output.
func TestHLSFMP4FairPlaySignalling(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	out := t.TempDir()
	if code, stdout, stderr := runCLI(t, "package", "--drm", "hls", "--hls-segments", "fmp4", "-o", out, "--key", testRawKey, src); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(out, "h264_aac", "hls")
	const key = `METHOD=SAMPLE-AES,URI="skd://a6yOww7jN589ISkLOivJww==",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`
	for _, name := range []string{"playlist.m3u8", "audio.m3u8"} {
		pl := readFMP4Playlist(t, dir, name)
		if !strings.Contains(pl.text, "#EXT-X-VERSION:6\n") || !strings.Contains(pl.text, "\n#EXT-X-KEY:"+key+"\n") {
			t.Fatalf("%s:\n%s", name, pl.text)
		}
	}
	master, err := os.ReadFile(filepath.Join(dir, "index.m3u8"))
	if err != nil || !strings.Contains(string(master), "#EXT-X-SESSION-KEY:"+key+"\n") {
		t.Fatalf("index.m3u8 (%v):\n%s", err, master)
	}
	assertNoKey(t, out)

	out = t.TempDir()
	code, stdout, stderr := runCLI(t, "package", "--drm", "hls", "--hls-segments", "fmp4", "--hls-method", "aes-128", "--hls-key-uri", "k", "-o", out, "--key", testRawKey, src)
	if code == 0 || !strings.Contains(stdout+stderr, "<RESULT>1102</RESULT>") {
		t.Fatalf("aes-128 with fMP4: exit %d\n%s%s", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Fatalf("a failed job left %v", entries)
	}
}

// TestHLSFMP4PlaysInShaka plays the cbcs fMP4 output in shaka-player: shaka fetches the identity
// key from the EXT-X-KEY URI, reads the KID from the init segment's tenc and decrypts through
// ClearKey EME. Any player warning fails the test.
func TestHLSFMP4PlaysInShaka(t *testing.T) {
	media := mediatest.Media(t)
	for _, c := range []struct {
		file      string
		audioOnly bool
	}{{"h264_aac_moov_end.mp4", false}, {"audio.m4a", true}} { // Debian's Chromium has no HEVC decoder
		t.Run(c.file, func(t *testing.T) {
			o := packageHLS(t, filepath.Join(media, c.file), "sample-aes", "--hls-segments", "fmp4", "--hls-duration", "2")
			res := playtest.PlayHLS(t, o.dir, "index.m3u8", playtest.Options{Player: playtest.Shaka, AudioOnly: c.audioOnly})
			if !res.OK || len(res.Warnings) > 0 {
				t.Fatalf("%s: playback failed: errors %q warnings %q\n%s", res.Player, res.Errors, res.Warnings, res.Raw)
			}
			if res.KeySystem != "org.w3.clearkey" {
				t.Fatalf("%s played with key system %q, want ClearKey", res.Player, res.KeySystem)
			}
			if !c.audioOnly && (res.VideoWidth != 640 || res.VideoHeight != 360) {
				t.Fatalf("%s: video %dx%d, want 640x360", res.Player, res.VideoWidth, res.VideoHeight)
			}
		})
	}
}
