package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/mpd"
)

func TestMain(m *testing.M) {
	// Tests never touch the developer's keychain: secrets go to the per-test config folder.
	os.Setenv("DRMPACK_SECRETS", "file")
	mediatest.Main(m)
}

// Test keys: the PlayReady header spec's public vector (KID, key).
const (
	testKID    = "6bac8ec30ee3379f3d21290b3a2bc9c3"
	testKey    = "3a54452ba2d2cad16bd879cdd47ab05b"
	audioKID   = "cbbc38b6b50dab53f8263e06b7382aa3"
	audioKey   = "959dbd673980e1d1bdf2d36209495f4e"
	testRawKey = testKID + ":" + testKey
)

// cliEnv is a user's settings and log folders for in-process CLI runs.
type cliEnv struct{ config, logs string }

func newCLIEnv(t *testing.T) cliEnv { return cliEnv{config: t.TempDir(), logs: t.TempDir()} }

// run runs the CLI in-process with the environment's folders.
func (c cliEnv) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("DRMPACK_CONFIG_DIR", c.config)
	t.Setenv("DRMPACK_LOG_DIR", c.logs)
	var o, e bytes.Buffer
	code = CLI(args, &o, &e)
	return code, o.String(), e.String()
}

// runCLI runs the CLI in-process with fresh settings and log folders.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return newCLIEnv(t).run(t, args...)
}

// TestDASHDecodesToSourceFrames packages every kind of test input with both schemes and checks,
// with ffmpeg as the independent decrypter and decoder, that every video frame and every audio
// sample of the output equals the source's.
func TestDASHDecodesToSourceFrames(t *testing.T) {
	media := mediatest.Media(t)
	inputs := []struct {
		file  string
		video bool
	}{
		{"h264_aac.mp4", true},
		{"h264_aac_moov_end.mp4", true},
		{"hevc_aac.mp4", true},
		{"한글 제목 01.mp4", true},
		{"h264_ac3_kor.mp4", true},
		{"audio.m4a", false},
		{"audio.mp3", false},
		{"audio_eac3.mp4", false},
	}
	for _, scheme := range []string{"cenc", "cbcs"} {
		for _, in := range inputs {
			t.Run(scheme+"/"+in.file, func(t *testing.T) {
				src := filepath.Join(media, in.file)
				out := t.TempDir()
				code, stdout, stderr := runCLI(t, "package", "--drm", "dash", "--scheme", scheme, "-o", out, "--key", testRawKey, "--json", src)
				if code != 0 {
					t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
				}
				var res struct {
					Status  string   `json:"status"`
					Code    int      `json:"code"`
					Outputs []string `json:"outputs"`
				}
				if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Status != "Succeed" || res.Code != 0 {
					t.Fatalf("JSON result %q: %v", stdout, err)
				}
				title := strings.TrimSuffix(in.file, filepath.Ext(in.file))
				manifest := filepath.Join(out, title, "dash", "stream.mpd")
				if len(res.Outputs) != 1 || res.Outputs[0] != manifest {
					t.Fatalf("outputs %v, want [%s]", res.Outputs, manifest)
				}
				m := readMPD(t, manifest)
				for _, as := range m.AdaptationSets {
					rep := as.Representations[0]
					joined := mediatest.JoinDASH(t, filepath.Join(out, title, "dash", rep.ID), rep.SegmentTemplate.Timescale)
					switch as.ContentType {
					case "video":
						compareVideo(t, src, joined, testKey)
					case "audio":
						compareAudio(t, src, joined, testKey)
					}
				}
				if got := len(m.AdaptationSets); (in.video && got != 2) || (!in.video && got != 1) {
					t.Fatalf("%d adaptation sets", got)
				}
				if in.file == "h264_ac3_kor.mp4" {
					// mdhd says "kor"; the MPD wants the RFC 5646 tag.
					if a := m.AdaptationSets[1]; a.Lang != "ko" || a.Representations[0].Codecs != "ac-3" {
						t.Fatalf("AC-3 audio: lang %q codecs %q", a.Lang, a.Representations[0].Codecs)
					}
				}
			})
		}
	}
}

func readMPD(t *testing.T, path string) *mpd.MPD {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mpd.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compareVideo(t *testing.T, src, joined, key string) {
	t.Helper()
	want := mediatest.VideoFrames(t, src, "")
	got := mediatest.VideoFrames(t, joined, key)
	if len(got) != len(want) {
		t.Fatalf("video: %d frames decoded, source has %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("video frame %d differs from the source (%s vs %s)", i, got[i], want[i])
		}
	}
}

// compareAudio requires the output's decoded samples to contain the source's, bit-exact, from the
// first to the last, after the constant priming offset.
func compareAudio(t *testing.T, src, joined, key string) {
	t.Helper()
	want := mediatest.AudioPCM(t, src, "")
	got := mediatest.AudioPCM(t, joined, key)
	off := mediatest.AudioOffset(want, got, 8*2048*4)
	if off < 0 {
		t.Fatalf("audio: the source's first samples are not in the output (%d vs %d bytes)", len(got), len(want))
	}
	if len(got)-off < len(want) {
		t.Fatalf("audio: output ends %d bytes early", len(want)-(len(got)-off))
	}
	if !bytes.Equal(got[off:off+len(want)], want) {
		t.Fatalf("audio: samples differ from the source after offset %d (%s vs %s)", off,
			mediatest.Digest(got[off:off+len(want)]), mediatest.Digest(want))
	}
}
