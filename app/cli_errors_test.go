package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
)

// assertReport checks that output carries the manual's XML block with the given code.
func assertReport(t *testing.T, output string, code string) {
	t.Helper()
	for _, want := range []string{"<PallyconPackager>", "<RESULT>" + code + "</RESULT>", "<ERRORMSG>", "<INFO>", "<WHERE>", "<STACKTRACE>"} {
		if !strings.Contains(output, want) {
			t.Fatalf("output lacks %s:\n%s", want, output)
		}
	}
}

// assertEmpty requires that a failed run left nothing in the output folder (not even staging).
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("failed job left %v in %s", names, dir)
	}
}

func TestCommandLineErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code string
	}{
		{"no arguments at all", nil, "1101"},
		{"package without arguments", []string{"package"}, "1101"},
		{"unknown flag", []string{"package", "--drm", "dash", "--bogus", "x.mp4"}, "1102"},
		{"unknown command", []string{"frobnicate"}, "1102"},
		{"unknown DRM", []string{"package", "--drm", "widevine", "--key", testRawKey, "x.mp4"}, "1102"},
		{"bad scheme", []string{"package", "--drm", "dash", "--scheme", "cens", "--key", testRawKey, "x.mp4"}, "1102"},
		{"bad segment duration", []string{"package", "--drm", "dash", "--segment-duration", "abc", "--key", testRawKey, "x.mp4"}, "1102"},
		{"malformed key", []string{"package", "--drm", "dash", "--key", "1234:5678", "x.mp4"}, "1102"},
		{"flag missing its value", []string{"package", "--drm", "dash", "--key", testRawKey, "x.mp4", "-o"}, "1103"},
		{"flag followed by a flag", []string{"package", "--drm", "--json", "x.mp4"}, "1103"},
		{"no input file", []string{"package", "--drm", "dash", "--key", testRawKey}, "1103"},
		{"title name without --adaptive", []string{"package", "--drm", "dash", "--name", "film", "--key", testRawKey, "x.mp4"}, "1102"},
		{"bad track type heights", []string{"package", "--drm", "dash", "--adaptive", "--track-type-heights", "1080,576,2160", "--key", testRawKey, "x.mp4"}, "1102"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitUsage, stdout, stderr)
			}
			assertReport(t, stderr, c.code)
		})
	}
}

func TestKeysNeverPrinted(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	// One run that succeeds and one that fails after the keys were parsed.
	_, o1, e1 := runCLI(t, "package", "--drm", "dash", "-o", out, "--key", testRawKey, "--json", filepath.Join(media, "audio.m4a"))
	_, o2, e2 := runCLI(t, "package", "--drm", "dash", "-o", out, "--key", "HD="+testRawKey, filepath.Join(media, "audio.m4a"))
	logs, _ := os.ReadFile(filepath.Join(os.Getenv("DRMPACK_LOG_DIR"), LogName))
	report, _ := os.ReadFile(filepath.Join(out, "audio", "packaging.json"))
	for _, s := range []string{o1, e1, o2, e2, string(logs), string(report)} {
		if strings.Contains(strings.ToLower(s), testKey) {
			t.Fatalf("the content key appears in output:\n%s", s)
		}
	}
	if !strings.Contains(o2+e2, "no key for track type AUDIO") {
		t.Fatalf("a key for HD only should fail the audio track clearly:\n%s%s", o2, e2)
	}
}

func TestBadInputsFailCleanly(t *testing.T) {
	media := mediatest.Media(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	os.WriteFile(text, []byte("this is a text file, not a movie\n"), 0o644)
	whole, err := os.ReadFile(filepath.Join(media, "h264_aac_moov_end.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mp4")
	os.WriteFile(truncated, whole[:len(whole)*2/3], 0o644) // moov at the end is cut off
	truncatedFront := filepath.Join(dir, "truncated_front.mp4")
	front, _ := os.ReadFile(filepath.Join(media, "h264_aac.mp4"))
	os.WriteFile(truncatedFront, front[:len(front)/2], 0o644) // moov intact, samples missing
	unreadable := filepath.Join(dir, "locked.mp4")
	if os.Geteuid() == 0 {
		// root reads any file, so use the other cause the manual lists: an unusable name.
		unreadable = filepath.Join(dir, strings.Repeat("긴", 100)+".mp4")
	} else {
		os.WriteFile(unreadable, front, 0o000)
	}
	cases := []struct {
		name, input, code, info string
	}{
		{"missing file", filepath.Join(dir, "nope.mp4"), "1201", "does not exist"},
		{"unreadable file", unreadable, "1202", ""},
		{"text file", text, "1102", "not an MP4 or MP3"},
		{"truncated, moov at end", truncated, "1102", "truncated"},
		{"truncated, moov first", truncatedFront, "1102", "truncated or corrupt"},
		{"a folder", dir, "1102", "folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, "package", "--drm", "dash", "-o", out, "--key", testRawKey, c.input)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
			}
			assertReport(t, stdout, c.code)
			if !strings.Contains(stdout, "Failed file : "+c.input) {
				t.Fatalf("no 'Failed file' line:\n%s", stdout)
			}
			if !strings.Contains(stdout, c.info) {
				t.Fatalf("INFO does not explain %q:\n%s", c.info, stdout)
			}
			assertEmpty(t, out)
		})
	}
}
