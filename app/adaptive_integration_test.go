package app

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager/keys"
	"drmpack/packager/mpd"
)

// renditionKeys are distinct raw keys per track type; the 360p and 540p renditions are SD, the
// 720p one HD.
var renditionKeys = map[string][2]string{
	"SD":    {"11111111111111111111111111111111", "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"},
	"HD":    {"22222222222222222222222222222222", "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"},
	"AUDIO": {"33333333333333333333333333333333", "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"},
}

var renditionFiles = []string{"adapt_360p.mp4", "adapt_540p.mp4", "adapt_720p.mp4"}

// packageTitle packages the three renditions as the title "film" with --multi-key and the raw
// keys above, to DASH and HLS (SAMPLE-AES with a clear-key URI per KID), and writes each key
// file next to the HLS playlists that name it. It returns OUT/film.
func packageTitle(t *testing.T, extra ...string) string {
	t.Helper()
	media := mediatest.Media(t)
	out := t.TempDir()
	args := []string{"package", "--drm", "dash,hls", "--adaptive", "--name", "film", "--multi-key", "-o", out,
		"--segment-duration", "2", "--hls-duration", "2", "--hls-key-uri", "{kid}.key", "--json"}
	for tt, k := range renditionKeys {
		args = append(args, "--key", tt+"="+k[0]+":"+k[1])
	}
	args = append(args, extra...)
	for _, f := range renditionFiles {
		args = append(args, filepath.Join(media, f))
	}
	env := newCLIEnv(t)
	code, stdout, stderr := env.run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var secrets []string
	for _, k := range renditionKeys {
		secrets = append(secrets, k[1])
	}
	assertNoSecrets(t, secrets, []string{stdout, stderr}, env.logs, out)
	title := filepath.Join(out, "film")
	dirs, _ := filepath.Glob(filepath.Join(title, "hls", "*", "index.m3u8"))
	for _, d := range dirs {
		d = filepath.Dir(d)
		for _, k := range renditionKeys {
			key, _ := hex.DecodeString(k[1])
			if err := os.WriteFile(filepath.Join(d, k[0]+".key"), key, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return title
}

// keyOf maps a KID (UUID form) to its key in hex.
func keyOf(kid string) string {
	for _, k := range renditionKeys {
		if id, _ := keys.ParseKID(k[0]); id.UUID() == kid {
			return k[1]
		}
	}
	return ""
}

func defaultKID(cps []mpd.ContentProtection) string {
	for _, cp := range cps {
		if cp.DefaultKID != "" {
			return cp.DefaultKID
		}
	}
	return ""
}

// TestAdaptiveDASHMultiKey: a schema-valid MPD with one video AdaptationSet and a Representation
// per rendition, each
// under the key of its track type and signalling it, segments at the same times in all of them,
// the shared audio packaged once, and ffmpeg decoding every rendition with its own key to the
// source rendition's frames.
func TestAdaptiveDASHMultiKey(t *testing.T) {
	title := packageTitle(t)
	media := mediatest.Media(t)
	manifest := filepath.Join(title, "dash", "stream.mpd")
	schema := filepath.Join(mediatest.RepoRoot(t), "packager", "mpd", "testdata", "schema", "DASH-MPD.xsd")
	if b, err := exec.Command("xmllint", "--nonet", "--noout", "--schema", schema, manifest).CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, b)
	}
	m := readMPD(t, manifest)
	if len(m.AdaptationSets) != 2 {
		t.Fatalf("%d AdaptationSets, want video and audio", len(m.AdaptationSets))
	}
	video, audio := m.AdaptationSets[0], m.AdaptationSets[1]
	if video.ContentType != "video" || len(video.Representations) != 3 || !video.SegmentAlignment || video.MaxHeight != 720 {
		t.Fatalf("video AdaptationSet %+v", video)
	}
	if audio.ContentType != "audio" || len(audio.Representations) != 1 {
		t.Fatalf("audio AdaptationSet: %d Representations, want the shared audio once", len(audio.Representations))
	}
	wantType := []string{"SD", "SD", "HD"}
	for i, rep := range video.Representations {
		kid := defaultKID(rep.ContentProtections)
		if want, _ := keys.ParseKID(renditionKeys[wantType[i]][0]); kid != want.UUID() {
			t.Errorf("%s: KID %s, want the %s key's", rep.ID, kid, wantType[i])
		}
		if len(rep.ContentProtections) != 3 || rep.ContentProtections[1].PSSH == nil {
			t.Errorf("%s: %d ContentProtections, want mp4protection, Widevine and PlayReady with pssh", rep.ID, len(rep.ContentProtections))
		}
		// Aligned: every rendition's segments start at the same times.
		if fmt.Sprint(rep.SegmentTemplate.Timeline) != fmt.Sprint(video.Representations[0].SegmentTemplate.Timeline) {
			t.Errorf("%s timeline %v differs from %v", rep.ID, rep.SegmentTemplate.Timeline, video.Representations[0].SegmentTemplate.Timeline)
		}
		if len(rep.SegmentTemplate.Timeline) != 4 {
			t.Errorf("%s: %d segments, want 4 of 2 s", rep.ID, len(rep.SegmentTemplate.Timeline))
		}
		src := filepath.Join(media, renditionFiles[i])
		joined := mediatest.JoinDASH(t, filepath.Join(title, "dash", rep.ID), rep.SegmentTemplate.Timescale)
		compareVideo(t, src, joined, keyOf(kid))
	}
	if want, _ := keys.ParseKID(renditionKeys["AUDIO"][0]); defaultKID(audio.ContentProtections) != want.UUID() {
		t.Errorf("audio KID %s, want the AUDIO key's", defaultKID(audio.ContentProtections))
	}
	rep := audio.Representations[0]
	joined := mediatest.JoinDASH(t, filepath.Join(title, "dash", rep.ID), rep.SegmentTemplate.Timescale)
	compareAudio(t, filepath.Join(media, renditionFiles[0]), joined, keyOf(defaultKID(audio.ContentProtections)))

	var report struct {
		Renditions []string `json:"renditions"`
		MultiKey   bool     `json:"multiKey"`
		Dash       struct {
			Shared []string `json:"shared"`
			Files  []string `json:"files"`
		} `json:"dash"`
		HLS struct {
			Files []string `json:"files"`
		} `json:"hlsTitle"`
	}
	b, _ := os.ReadFile(filepath.Join(title, "packaging.json"))
	if err := json.Unmarshal(b, &report); err != nil || len(report.Renditions) != 3 || len(report.Dash.Shared) != 2 || !report.MultiKey {
		t.Errorf("packaging.json: renditions %v, shared audio %v, multiKey %v (%v)", report.Renditions, report.Dash.Shared, report.MultiKey, err)
	}
	// Every file packaging.json lists exists.
	for out, files := range map[string][]string{"dash": report.Dash.Files, "hls": report.HLS.Files} {
		if len(files) < 10 {
			t.Errorf("packaging.json lists only %v for %s", files, out)
		}
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(title, out, f)); err != nil {
				t.Errorf("packaging.json lists %s/%s: %v", out, f, err)
			}
		}
	}
}

// TestAdaptiveHLSMultiKey: the master playlist names a variant per rendition with its peak and
// average bandwidth, resolution, codecs and frame rate and the audio group; each media playlist
// has the key of its track type; ffmpeg decodes every variant (fetching its key over HTTP) to
// the source rendition's frames.
func TestAdaptiveHLSMultiKey(t *testing.T) {
	title := packageTitle(t)
	media := mediatest.Media(t)
	dir := filepath.Join(title, "hls")
	master, err := os.ReadFile(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("master:\n%s", master)
	variants := regexp.MustCompile(`#EXT-X-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),CODECS="avc1\.[0-9A-F]{6},mp4a\.40\.2",RESOLUTION=(\d+x\d+),FRAME-RATE=25\.000,AUDIO="([^"]+)"\n(\S+)\n`).FindAllStringSubmatch(string(master), -1)
	if len(variants) != 3 {
		t.Fatalf("%d variants, want 3", len(variants))
	}
	media1 := regexp.MustCompile(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="([^"]+)",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"`).FindStringSubmatch(string(master))
	if media1 == nil || strings.Count(string(master), "#EXT-X-MEDIA:") != 1 {
		t.Fatal("want one EXT-X-MEDIA audio rendition")
	}
	wantType := []string{"SD", "SD", "HD"}
	for i, v := range variants {
		if v[3] != []string{"640x360", "960x540", "1280x720"}[i] || v[4] != media1[1] || v[1] < v[2] && len(v[1]) <= len(v[2]) {
			t.Errorf("variant %d: %q", i, v[0])
		}
		playlist, err := os.ReadFile(filepath.Join(dir, v[5]))
		if err != nil {
			t.Fatal(err)
		}
		kid := renditionKeys[wantType[i]][0]
		if !strings.Contains(string(playlist), `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="`+kid+`.key"`) {
			t.Fatalf("%s does not use the %s key:\n%s", v[5], wantType[i], playlist)
		}
		srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, filepath.Dir(v[5])))))
		defer srv.Close()
		o := hlsOutput{dir: filepath.Join(dir, filepath.Dir(v[5])), media: "index.m3u8", url: srv.URL + "/index.m3u8"}
		want := mediatest.VideoFrames(t, filepath.Join(media, renditionFiles[i]), "")
		got := mediatest.TolerantVideoFrames(t, o.eofPlaylist(t))
		if len(got) < len(want) {
			t.Fatalf("%s: %d frames decoded, source has %d", v[5], len(got), len(want))
		}
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("%s: frame %d differs from the source", v[5], j)
			}
		}
		// The I-frame playlist's ranges decode, each on its own, to the source's keyframes (one
		// every 50 frames). Read from the folder: ffmpeg 5.1 asks for a byte-ranged segment's key
		// with the segment's Range header, which an HTTP server rightly refuses.
		iframes := iframeFrames(t, repeatLastEntry(t, o.dir, "iframes.m3u8"))
		if len(iframes) < 4 {
			t.Fatalf("%s: %d I-frames decoded, want 4", v[5], len(iframes))
		}
		for j := range 4 {
			if iframes[j] != want[50*j] {
				t.Fatalf("%s: I-frame %d differs from source frame %d: %q vs %q", v[5], j, 50*j, iframes, []string{want[0], want[50], want[100], want[150]})
			}
		}
	}
	if n := strings.Count(string(master), "#EXT-X-I-FRAME-STREAM-INF:"); n != 3 {
		t.Errorf("%d I-frame variants, want 3", n)
	}
	audioList, _ := os.ReadFile(filepath.Join(dir, "audio", "index.m3u8"))
	if !strings.Contains(string(audioList), renditionKeys["AUDIO"][0]+".key") {
		t.Errorf("the audio playlist does not use the AUDIO key:\n%s", audioList)
	}
}

// repeatLastEntry writes a copy of a playlist with its last entry repeated and returns its path;
// see hlsOutput.eofPlaylist for why ffmpeg needs that for SAMPLE-AES.
func repeatLastEntry(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSuffix(string(b), "#EXT-X-ENDLIST\n")
	last := text[strings.LastIndex(text, "#EXTINF:"):]
	path := filepath.Join(dir, "eof-"+name)
	if err := os.WriteFile(path, []byte(text+last+"#EXT-X-ENDLIST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// iframeFrames decodes a local I-frame playlist with ffmpeg (its key files are local too) and
// returns the frames' md5s; decoder errors at the end are tolerated as in TolerantVideoFrames.
func iframeFrames(t *testing.T, playlist string) []string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-allowed_extensions", "ALL", "-i", playlist,
		"-map", "0:v:0", "-f", "framemd5", "-fps_mode", "passthrough", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", playlist, err)
	}
	var frames []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ","); line != "" && !strings.HasPrefix(line, "#") {
			frames = append(frames, strings.TrimSpace(f[len(f)-1]))
		}
	}
	return frames
}

// TestAdaptiveSingleKey: without --multi-key one key (the HD one) encrypts every track, and
// the protection stays on the AdaptationSets.
func TestAdaptiveSingleKey(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	args := []string{"package", "--drm", "dash", "--adaptive", "-o", out, "--segment-duration", "2"}
	for _, f := range renditionFiles {
		args = append(args, filepath.Join(media, f))
	}
	if code, stdout, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Without --name the title is the files' name without the rendition suffix.
	m := readMPD(t, filepath.Join(out, "adapt", "dash", "stream.mpd"))
	kids := map[string]bool{}
	for _, as := range m.AdaptationSets {
		kids[defaultKID(as.ContentProtections)] = true
		for _, r := range as.Representations {
			if len(r.ContentProtections) != 0 {
				t.Errorf("%s carries its own ContentProtection with a single key", r.ID)
			}
		}
	}
	if len(kids) != 1 || kids[""] {
		t.Errorf("KIDs %v, want one for every track", kids)
	}
}

// TestAdaptiveMismatch: renditions that cannot make one presentation are refused with 1102 and a
// clear INFO, and nothing is written.
func TestAdaptiveMismatch(t *testing.T) {
	media := mediatest.Media(t)
	short := filepath.Join(t.TempDir(), "adapt_short.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", filepath.Join(media, "adapt_720p.mp4"), "-t", "4", "-c", "copy", short).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	cases := map[string]struct {
		files []string
		info  string
	}{
		"gop":      {[]string{"adapt_360p.mp4", "adapt_gop30.mp4"}, "adapt_gop30.mp4 has no keyframe at 2.000 s where adapt_360p.mp4 starts a segment"},
		"duration": {[]string{"adapt_360p.mp4", short}, "adapt_short.mp4 lasts 4.080 s and adapt_360p.mp4 8.000 s: renditions of one title must have the same duration"},
		"no video": {[]string{"adapt_360p.mp4", "audio.m4a"}, "audio.m4a has no video track"},
		"twice":    {[]string{"adapt_360p.mp4", "adapt_360p.mp4"}, "lists " + filepath.Join(media, "adapt_360p.mp4") + " twice"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"package", "--drm", "dash,hls", "--adaptive", "--name", "film", "-o", out, "--segment-duration", "2.4", "--json"}
			for _, f := range c.files {
				if !filepath.IsAbs(f) {
					f = filepath.Join(media, f)
				}
				args = append(args, f)
			}
			code, stdout, stderr := runCLI(t, args...)
			var res struct {
				Code  int    `json:"code"`
				Error string `json:"error"`
			}
			json.Unmarshal([]byte(stdout), &res)
			if code != 1 || res.Code != 1102 || !strings.Contains(res.Error, c.info) {
				t.Fatalf("exit %d, code %d, INFO %q; want 1102 with %q\n%s", code, res.Code, res.Error, c.info, stderr)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("output left behind: %v", entries)
			}
		})
	}
}

// TestAdaptiveFairPlaySessionKeys: with the default FairPlay signalling and the local key store,
// --multi-key gives SD, HD and AUDIO keys; each media playlist names its own skd:// key and the
// master announces each distinct key once with EXT-X-SESSION-KEY.
func TestAdaptiveFairPlaySessionKeys(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	args := []string{"package", "--drm", "hls", "--adaptive", "--multi-key", "--name", "film", "-o", out}
	for _, f := range renditionFiles {
		args = append(args, filepath.Join(media, f))
	}
	if code, stdout, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(out, "film", "hls")
	master, err := os.ReadFile(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	sessionKeys := regexp.MustCompile(`(?m)^#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="(skd://[^"]+)",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"$`).FindAllStringSubmatch(string(master), -1)
	uris := map[string]bool{}
	for _, k := range sessionKeys {
		uris[k[1]] = true
	}
	keyURI := regexp.MustCompile(`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="(skd://[^"]+)"`)
	playlistURIs := map[string]string{}
	for _, p := range []string{"video_360p", "video_540p", "video_720p", "audio"} {
		b, err := os.ReadFile(filepath.Join(dir, p, "index.m3u8"))
		if err != nil {
			t.Fatal(err)
		}
		m := keyURI.FindStringSubmatch(string(b))
		if m == nil || !uris[m[1]] {
			t.Fatalf("%s: key %q is not announced in the master:\n%s", p, m, master)
		}
		playlistURIs[p] = m[1]
	}
	if len(uris) != 3 || len(sessionKeys) != 3 || playlistURIs["video_360p"] != playlistURIs["video_540p"] ||
		playlistURIs["video_360p"] == playlistURIs["video_720p"] || playlistURIs["audio"] == playlistURIs["video_720p"] {
		t.Errorf("want three keys (SD for 360p and 540p, HD, AUDIO); playlists use %v, master:\n%s", playlistURIs, master)
	}
}
