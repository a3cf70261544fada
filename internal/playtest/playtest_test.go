package playtest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// makeDASH writes a small clear DASH presentation (8 s, 2-s segments) with ffmpeg into a
// fresh temp folder and returns the folder. args select the streams.
func makeDASH(t *testing.T, args ...string) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg not found (apt-get install ffmpeg): %v", err)
	}
	dir := t.TempDir()
	all := append([]string{"-nostdin", "-v", "error"}, args...)
	all = append(all, "-f", "dash", "-seg_duration", "2", filepath.Join(dir, "stream.mpd"))
	cmd := exec.Command(ffmpeg, all...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", all, err, out)
	}
	return dir
}

var videoAudioArgs = []string{
	"-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=8",
	"-f", "lavfi", "-i", "sine=d=8",
	"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50",
	"-c:a", "aac",
}

func assertPlayed(t *testing.T, res Result, width, height int) {
	t.Helper()
	assertPlayedBy(t, Shaka, res, width, height)
}

// playerPrefix is how each player names itself in Result.Player (the major versions package.json pins).
var playerPrefix = map[Player]string{Shaka: "shaka-player v5.", DashJS: "dash.js v5."}

func assertPlayedBy(t *testing.T, p Player, res Result, width, height int) {
	t.Helper()
	if !res.OK || len(res.Errors) > 0 {
		t.Fatalf("playback failed: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
	}
	if res.CurrentTime <= 3 {
		t.Errorf("currentTime = %.2f, want > 3", res.CurrentTime)
	}
	if res.VideoWidth != width || res.VideoHeight != height {
		t.Errorf("video size = %dx%d, want %dx%d", res.VideoWidth, res.VideoHeight, width, height)
	}
	if res.DecodedFrames <= 0 {
		t.Errorf("decodedFrames = %d, want > 0", res.DecodedFrames)
	}
	if !strings.HasPrefix(res.Player, playerPrefix[p]) {
		t.Errorf("player = %q, want %sx", res.Player, playerPrefix[p])
	}
}

func TestPlayDASHClear(t *testing.T) {
	dir := makeDASH(t, videoAudioArgs...)
	res := PlayDASH(t, dir, "stream.mpd", nil, Options{})
	assertPlayed(t, res, 320, 180)
	if res.KeySystem != "" {
		t.Errorf("keySystem = %q for clear content, want none", res.KeySystem)
	}
	if len(res.Variants) != 1 || res.Variants[0].Width != 320 || res.Variants[0].AudioCodec != "mp4a.40.2" {
		t.Errorf("variants = %+v, want one 320-wide variant with AAC audio", res.Variants)
	}
	if !containsPrefix(res.Requests, "GET /media/stream.mpd 200") {
		t.Errorf("no manifest request in the access log: %q", res.Requests)
	}
	// ffmpeg's plain DASH output is the baseline: shaka must not complain about it.
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, "shaka ") {
			t.Errorf("shaka warned about ffmpeg's DASH: %s", w)
		}
	}
}

// TestPlayDASHShakaWarning proves shaka's own log warnings reach Result.Warnings: an MPD whose
// minBufferTime is not an xs:duration still plays, but shaka warns about it.
func TestPlayDASHShakaWarning(t *testing.T) {
	dir := makeDASH(t, videoAudioArgs...)
	mpdPath := filepath.Join(dir, "stream.mpd")
	b, err := os.ReadFile(mpdPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `minBufferTime="PT4.0S"`, `minBufferTime="4 seconds"`, 1)
	if bad == string(b) {
		t.Fatalf("no minBufferTime in ffmpeg's MPD:\n%s", b)
	}
	if err := os.WriteFile(mpdPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	res := PlayDASH(t, dir, "stream.mpd", nil, Options{})
	assertPlayed(t, res, 320, 180)
	if !containsSubstring(res.Warnings, "shaka warning: Invalid duration string: 4 seconds") {
		t.Errorf("warnings = %q, want shaka's \"Invalid duration string\"", res.Warnings)
	}
}

func TestPlayDASHAudioOnly(t *testing.T) {
	dir := makeDASH(t, "-f", "lavfi", "-i", "sine=d=8", "-c:a", "aac")
	res := PlayDASH(t, dir, "stream.mpd", nil, Options{AudioOnly: true})
	if !res.OK || res.CurrentTime <= 3 {
		t.Fatalf("audio-only playback failed: ok=%v currentTime=%.2f errors=%q\n%s", res.OK, res.CurrentTime, res.Errors, res.Raw)
	}
	if res.VideoWidth != 0 {
		t.Errorf("videoWidth = %d for audio-only content", res.VideoWidth)
	}
}

func TestPlayDASHMissingManifest(t *testing.T) {
	dir := t.TempDir()
	res := PlayDASH(t, dir, "nothing/here.mpd", nil, Options{Timeout: 30 * time.Second})
	if res.OK {
		t.Fatalf("a 404 manifest played?\n%s", res.Raw)
	}
	if !containsSubstring(res.Errors, "BAD_HTTP_STATUS") {
		t.Errorf("errors = %q, want shaka's BAD_HTTP_STATUS", res.Errors)
	}
	if !containsPrefix(res.Requests, "GET /media/nothing/here.mpd 404") {
		t.Errorf("access log = %q, want the 404", res.Requests)
	}
}

// TestPlayDASHClearKey encrypts ffmpeg's DASH (CENC, one key per track) and signals
// mp4protection + Widevine + PlayReady in the MPD, as a DRM packager would: with the keys,
// shaka's clearKeys must win and play it via org.w3.clearkey; without them it must not play.
func TestPlayDASHClearKey(t *testing.T) {
	dir := makeDASH(t, videoAudioArgs...)
	keys := map[string]string{
		"0123456789abcdef0123456789abcdef": "00112233445566778899aabbccddeeff", // video (stream0)
		"fedcba9876543210fedcba9876543210": "ffeeddccbbaa99887766554433221100", // audio (stream1)
	}
	encryptFFmpegDASH(t, dir, []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}, keys)

	t.Run("keys", func(t *testing.T) {
		res := PlayDASH(t, dir, "stream.mpd", keys, Options{})
		assertPlayed(t, res, 320, 180)
		if res.KeySystem != "org.w3.clearkey" {
			t.Errorf("keySystem = %q, want org.w3.clearkey", res.KeySystem)
		}
	})
	// Without keys shaka tries the signalled Widevine/PlayReady, which this Chromium lacks.
	t.Run("no-keys", func(t *testing.T) {
		res := PlayDASH(t, dir, "stream.mpd", nil, Options{Timeout: 30 * time.Second})
		if res.OK || !containsSubstring(res.Errors, "REQUESTED_KEY_SYSTEM_CONFIG_UNAVAILABLE") {
			t.Fatalf("want shaka error 6001 without keys: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
		}
	})
	// A wrong key decrypts to garbage: the decoder fails.
	t.Run("wrong-key", func(t *testing.T) {
		wrong := map[string]string{
			"0123456789abcdef0123456789abcdef": "10112233445566778899aabbccddeeff",
			"fedcba9876543210fedcba9876543210": "ffeeddccbbaa99887766554433221100",
		}
		res := PlayDASH(t, dir, "stream.mpd", wrong, Options{Timeout: 30 * time.Second})
		if res.OK || !containsSubstring(res.Errors, "media element error") {
			t.Fatalf("want a media element (decode) error with a wrong key: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
		}
	})
	// A track whose KID has no key stalls in waitingforkey: the page fails it without waiting for the timeout.
	t.Run("missing-audio-key", func(t *testing.T) {
		videoOnly := map[string]string{"0123456789abcdef0123456789abcdef": "00112233445566778899aabbccddeeff"}
		res := PlayDASH(t, dir, "stream.mpd", videoOnly, Options{Timeout: 30 * time.Second})
		if res.OK || !containsSubstring(res.Errors, "waiting for a decryption key") {
			t.Fatalf("want a key stall with the audio key missing: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
		}
	})
}

// dash.js is the second, independent DASH implementation (test/player/dashjs.html). These mirror
// the shaka tests that matter for proving an MPD: clean playback of a baseline MPD, ClearKey with
// the right keys, and that a wrong or missing key really fails (so a pass means something).

// TestPlayDASHDashJSClear: ffmpeg's plain DASH output is the baseline, dash.js must play it
// without a single log warning, or warnings on our MPDs would be meaningless.
func TestPlayDASHDashJSClear(t *testing.T) {
	dir := makeDASH(t, videoAudioArgs...)
	res := PlayDASH(t, dir, "stream.mpd", nil, Options{Player: DashJS})
	assertPlayedBy(t, DashJS, res, 320, 180)
	if res.KeySystem != "" {
		t.Errorf("keySystem = %q for clear content, want none", res.KeySystem)
	}
	// dash.js lists Representations (see Variant): one video, one audio.
	var video, audio int
	for _, v := range res.Variants {
		switch {
		case v.Width == 320 && v.Height == 180 && strings.HasPrefix(v.VideoCodec, "avc1.") && v.Active:
			video++
		case v.AudioCodec == "mp4a.40.2" && v.Active:
			audio++
		}
	}
	if len(res.Variants) != 2 || video != 1 || audio != 1 {
		t.Errorf("variants = %+v, want an active 320x180 avc1 and an active mp4a.40.2 Representation", res.Variants)
	}
	if !containsPrefix(res.Requests, "GET /vendor/dashjs/modern/umd/dash.all.debug.js 200") ||
		!containsPrefix(res.Requests, "GET /media/stream.mpd 200") {
		t.Errorf("access log = %q, want dash.js and the manifest", res.Requests)
	}
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, "dash.js ") {
			t.Errorf("dash.js warned about ffmpeg's DASH: %s", w)
		}
	}
}

// TestPlayDASHDashJSClearKey plays the same encrypted fixture as TestPlayDASHClearKey (CENC, a
// key per track, mp4protection + Widevine + PlayReady signalled) with dash.js and ClearKey.
func TestPlayDASHDashJSClearKey(t *testing.T) {
	dir := makeDASH(t, videoAudioArgs...)
	keys := map[string]string{
		"0123456789abcdef0123456789abcdef": "00112233445566778899aabbccddeeff", // video (stream0)
		"fedcba9876543210fedcba9876543210": "ffeeddccbbaa99887766554433221100", // audio (stream1)
	}
	encryptFFmpegDASH(t, dir, []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}, keys)

	t.Run("keys", func(t *testing.T) {
		res := PlayDASH(t, dir, "stream.mpd", keys, Options{Player: DashJS})
		assertPlayedBy(t, DashJS, res, 320, 180)
		if res.KeySystem != "org.w3.clearkey" {
			t.Errorf("keySystem = %q, want org.w3.clearkey", res.KeySystem)
		}
		// The MPD signals no ClearKey, so the page must have added it (once per AdaptationSet).
		if !containsPrefix(res.Events, "harness: ClearKey signalling added to 2 elements") {
			t.Errorf("events = %q, want the page's ClearKey signalling for both AdaptationSets", res.Events)
		}
		for _, w := range res.Warnings {
			if strings.HasPrefix(w, "dash.js ") {
				t.Errorf("dash.js warned about the encrypted MPD: %s", w)
			}
		}
	})
	// A wrong video key decrypts to garbage: the decoder fails, and dash.js reports it too.
	t.Run("wrong-key", func(t *testing.T) {
		wrong := map[string]string{
			"0123456789abcdef0123456789abcdef": "10112233445566778899aabbccddeeff",
			"fedcba9876543210fedcba9876543210": "ffeeddccbbaa99887766554433221100",
		}
		res := PlayDASH(t, dir, "stream.mpd", wrong, Options{Player: DashJS, Timeout: 30 * time.Second})
		if res.OK || !containsSubstring(res.Errors, "media element error") {
			t.Fatalf("want a media element (decode) error with a wrong key: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
		}
	})
	// No key for the audio KID: dash.js licenses only the KIDs it has keys for, sees from the key
	// statuses that the audio AdaptationSet's KID is not usable and fails with NO_SUPPORTED_KEY_IDS
	// (within ~2 s). The harness's waitingforkey stall detector (8 s) is the fallback should a
	// dash.js version stop checking and merely stall, so either error is a correct failure.
	t.Run("missing-audio-key", func(t *testing.T) {
		videoOnly := map[string]string{"0123456789abcdef0123456789abcdef": "00112233445566778899aabbccddeeff"}
		res := PlayDASH(t, dir, "stream.mpd", videoOnly, Options{Player: DashJS, Timeout: 30 * time.Second})
		if res.OK || !(containsSubstring(res.Errors, "NO_SUPPORTED_KEY_IDS") || containsSubstring(res.Errors, "waiting for a decryption key")) {
			t.Fatalf("want NO_SUPPORTED_KEY_IDS or a key stall with the audio key missing: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
		}
	})
	// Without keys dash.js can use none of the signalled systems (this Chromium has no Widevine or
	// PlayReady CDM), filters every Representation out and reports that there is nothing to play.
	t.Run("no-keys", func(t *testing.T) {
		res := PlayDASH(t, dir, "stream.mpd", nil, Options{Player: DashJS, Timeout: 30 * time.Second})
		if res.OK || !containsSubstring(res.Errors, "MANIFEST_ERROR_ID_NOSTREAMS") {
			t.Fatalf("want dash.js's \"No streams to play\" without keys: ok=%v errors=%q\n%s", res.OK, res.Errors, res.Raw)
		}
	})
}

// encryptFFmpegDASH encrypts ffmpeg's init-streamN.m4s / chunk-streamN-*.m4s in place with
// CENC (AES-CTR, 8-byte IVs) using kids[N] and adds ContentProtection to the MPD.
func encryptFFmpegDASH(t *testing.T, dir string, kids []string, keys map[string]string) {
	t.Helper()
	for n, kidHex := range kids {
		key, _ := hex.DecodeString(keys[kidHex])
		kid, err := mp4.NewUUIDFromString(kidHex)
		if err != nil {
			t.Fatal(err)
		}
		initPath := filepath.Join(dir, fmt.Sprintf("init-stream%d.m4s", n))
		initFile := decodeMP4(t, initPath)
		iv := []byte{0, 0, 0, byte(n + 1), 0, 0, 0, 0}
		ipd, err := mp4.InitProtect(initFile.Init, key, iv, "cenc", kid, nil)
		if err != nil {
			t.Fatalf("%s: %v", initPath, err)
		}
		encodeMP4(t, initPath, initFile)

		chunks, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("chunk-stream%d-*.m4s", n)))
		if len(chunks) == 0 {
			t.Fatalf("no chunks for stream %d", n)
		}
		for _, c := range chunks {
			f := decodeMP4(t, c)
			for _, seg := range f.Segments {
				enc, err := ipd.NewFragmentEncryptor(key, iv)
				if err != nil {
					t.Fatal(err)
				}
				for _, frag := range seg.Fragments {
					if err := enc.EncryptFragment(frag); err != nil {
						t.Fatalf("%s: %v", c, err)
					}
				}
				iv = enc.IV()
			}
			encodeMP4(t, c, f)
		}
	}

	mpdPath := filepath.Join(dir, "stream.mpd")
	b, err := os.ReadFile(mpdPath)
	if err != nil {
		t.Fatal(err)
	}
	mpd := strings.Replace(string(b), `xmlns="urn:mpeg:dash:schema:mpd:2011"`,
		`xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013"`, 1)
	for n, kidHex := range kids {
		marker := fmt.Sprintf(`<AdaptationSet id="%d"`, n)
		i := strings.Index(mpd, marker)
		if i < 0 {
			t.Fatalf("no %s in the MPD", marker)
		}
		end := i + strings.Index(mpd[i:], ">") + 1
		kidUUID := kidHex[0:8] + "-" + kidHex[8:12] + "-" + kidHex[12:16] + "-" + kidHex[16:20] + "-" + kidHex[20:]
		cp := "\n\t\t\t" + `<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="` + kidUUID + `"/>` +
			"\n\t\t\t" + `<ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed" value="Widevine"/>` +
			"\n\t\t\t" + `<ContentProtection schemeIdUri="urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95" value="PlayReady"/>`
		mpd = mpd[:end] + cp + mpd[end:]
	}
	if err := os.WriteFile(mpdPath, []byte(mpd), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decodeMP4(t *testing.T, name string) *mp4.File {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return f
}

func encodeMP4(t *testing.T, name string, f *mp4.File) {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Encode(&buf); err != nil {
		t.Fatalf("encode %s: %v", name, err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServer checks the loopback server without a browser: content types, ranges, 404s,
// no escaping the served folders.
func TestServer(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"a/stream.mpd":  "application/dash+xml",
		"a/seg.m4s":     "video/iso.segment",
		"a/init.mp4":    "video/mp4",
		"hls/main.m3u8": "application/vnd.apple.mpegurl",
		"hls/seg0.ts":   "video/mp2t",
	}
	for name := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("0123456789"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv, base, accessLog, err := serve(root, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	get := func(p, rng string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+p, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for name, ct := range files {
		resp, _ := get("/media/"+name, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct {
			t.Errorf("%s: %d %q, want 200 %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), ct)
		}
	}
	if resp, body := get("/media/a/seg.m4s", "bytes=2-5"); resp.StatusCode != http.StatusPartialContent || body != "2345" {
		t.Errorf("range: %d %q, want 206 \"2345\"", resp.StatusCode, body)
	}
	for _, p := range []string{"/media/missing.mpd", "/media/a/", "/media/../go.mod", "/media/%2e%2e/go.mod", "/vendor/shaka-player/../package.json", "/vendor/dashjs/../package.json"} {
		if resp, _ := get(p, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := get("/player/shaka.html", ""); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("harness page: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/player/dashjs.html", "/player/harness.js",
		"/vendor/shaka-player/shaka-player.compiled.debug.js", "/vendor/dashjs/modern/umd/dash.all.debug.js"} {
		want := "text/javascript"
		if strings.HasSuffix(p, ".html") {
			want = "text/html"
		}
		if resp, _ := get(p, ""); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: %d %q, want 200 %s", p, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
	if !containsPrefix(accessLog(), "GET /media/a/seg.m4s 206 4 bytes=2-5") {
		t.Errorf("access log = %q", accessLog())
	}
}

func TestKeysParam(t *testing.T) {
	got, err := keysParam(map[string]string{
		"FEDCBA98-7654-3210-FEDC-BA9876543210": "FFEEDDCCBBAA99887766554433221100",
		"0123456789abcdef0123456789abcdef":     "00112233445566778899aabbccddeeff",
	})
	want := "0123456789abcdef0123456789abcdef:00112233445566778899aabbccddeeff,fedcba9876543210fedcba9876543210:ffeeddccbbaa99887766554433221100"
	if err != nil || got != want {
		t.Errorf("keysParam = %q, %v; want %q", got, err, want)
	}
	if _, err := keysParam(map[string]string{"0123": "00112233445566778899aabbccddeeff"}); err == nil {
		t.Error("short KID accepted")
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
