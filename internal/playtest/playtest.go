// Package playtest plays packaged outputs in headless Chromium through shaka-player or dash.js,
// for integration tests.
//
// PlayDASH serves a folder on a fresh loopback HTTP server, opens a harness page
// (test/player/shaka.html, or test/player/dashjs.html for Options{Player: DashJS}) in Debian's
// Chromium (driven by test/player/play.mjs through playwright-core) and reports what the player saw:
//
//	res := playtest.PlayDASH(t, outDir, "stream.mpd", map[string]string{kidHex: keyHex}, playtest.Options{})
//	if !res.OK || len(res.Warnings) > 0 {
//		t.Fatalf("playback: errors %q, warnings %q", res.Errors, res.Warnings)
//	}
//
// Two independent DASH implementations are available so that an MPD is proven against more than
// one parser; to check both:
//
//	for _, p := range playtest.DASHPlayers {
//		res := playtest.PlayDASH(t, outDir, "stream.mpd", keys, playtest.Options{Player: p})
//		...
//	}
//
// Requirements (the helper fails the test, never skips, when one is missing): Node.js >= 20,
// the repo's node_modules (`npm ci` at the repo root: playwright-core, shaka-player, dashjs,
// hls.js) and Chromium at /usr/bin/chromium (`apt-get install chromium`; override with
// $PLAYTEST_CHROMIUM).
//
// Plays are serialized (within the process and, on Unix, across test binaries through a lock
// file) so that parallel packages do not starve each other's browsers on small CI machines.
package playtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults for Options' zero values.
const (
	DefaultSeconds = 3.0
	DefaultTimeout = 60 * time.Second
)

// DefaultChromium is the browser play.mjs drives unless $PLAYTEST_CHROMIUM names another.
const DefaultChromium = "/usr/bin/chromium"

// Player selects the browser player (and so the harness page) a play uses.
type Player string

const (
	// Shaka is shaka-player's debug build (test/player/shaka.html); the zero Player means Shaka.
	Shaka Player = "shaka"
	// DashJS is dash.js, the DASH-IF reference player, debug build (test/player/dashjs.html).
	DashJS Player = "dashjs"
	// HLSJS is hls.js (test/player/hlsjs.html); PlayHLS uses it.
	HLSJS Player = "hlsjs"
	// Native is the browser's own media element on a progressive file (test/player/native.html);
	// PlayFile uses it.
	Native Player = "native"
)

// DASHPlayers lists the DASH players, for tests that prove a manifest against all of them.
var DASHPlayers = []Player{Shaka, DashJS}

// playerSetup is what play needs per player: its harness page and the library file (relative to
// the repo root) whose absence means `npm ci` was not run.
type playerSetup struct {
	page, lib string
}

var players = map[Player]playerSetup{
	Shaka:  {"shaka.html", "node_modules/shaka-player/dist/shaka-player.compiled.debug.js"},
	DashJS: {"dashjs.html", "node_modules/dashjs/dist/modern/umd/dash.all.debug.js"},
	HLSJS:  {"hlsjs.html", "node_modules/hls.js/dist/hls.js"},
	Native: {"native.html", ""},
}

// Options tune one play. The zero value plays 3 s of video within 60 s with shaka-player.
type Options struct {
	// Player plays the manifest; "" means Shaka.
	Player Player
	// Seconds of media that must play (currentTime > Seconds). 0 means DefaultSeconds.
	Seconds float64
	// AudioOnly accepts playback without decoded video frames.
	AudioOnly bool
	// SwitchRendition forces a switch to another video rendition through the player's API
	// (shaka-player: ABR off and selectVariantTrack; dash.js: video ABR off and
	// setRepresentationForTypeById; hls.js: currentLevel) once playback has
	// started: to the smallest other height than the one shown, else the largest. The play is
	// done only when the element shows the new height; Result.Events records "switch <from>p-><to>p".
	SwitchRendition bool
	// SeekTo, when positive, seeks to that many seconds once the metadata is loaded (PlayFile
	// only); Seconds is then a position after it. Result.Events records "seeked@<position>".
	SeekTo float64
	// Timeout bounds one play (browser start, load, playback) inside play.mjs, which then
	// reports a "timeout: ..." error; the node process is killed 45 s after that. 0 means DefaultTimeout.
	Timeout time.Duration
}

// Variant is one playable combination shaka-player found in the manifest. dash.js has no
// variants: with DashJS each Variant is one video or audio Representation (only VideoCodec or
// AudioCodec set), Active when dash.js is playing it.
type Variant struct {
	ID            int     `json:"id"`
	Active        bool    `json:"active"`
	Bandwidth     int     `json:"bandwidth"`
	Width         int     `json:"width"`
	Height        int     `json:"height"`
	FrameRate     float64 `json:"frameRate"`
	MimeType      string  `json:"mimeType"`
	Codecs        string  `json:"codecs"`
	VideoCodec    string  `json:"videoCodec"`
	AudioCodec    string  `json:"audioCodec"`
	Language      string  `json:"language"`
	ChannelsCount int     `json:"channelsCount"`
}

// Result is what the browser player reported.
type Result struct {
	OK            bool     `json:"ok"`
	Player        string   `json:"player"` // e.g. "shaka-player v5.2.12-debug", "dash.js v5.2.1"
	CurrentTime   float64  `json:"currentTime"`
	VideoWidth    int      `json:"videoWidth"`
	VideoHeight   int      `json:"videoHeight"`
	DecodedFrames int      `json:"decodedFrames"`
	DroppedFrames int      `json:"droppedFrames"`
	Errors        []string `json:"errors"`   // fatal: any entry means OK == false
	Warnings      []string `json:"warnings"` // not fatal: player log warnings/errors, recoverable shaka errors, console errors/warnings

	// KeySystem is the EME key system the player used ("org.w3.clearkey" when keys were given, "" for clear playback).
	KeySystem string `json:"keySystem"`
	// Variants lists the player's variant tracks after load (nil if loading failed).
	Variants []Variant `json:"variants"`
	// Events is the media element's event trail ("playing@0.00", ...), plus the page's own
	// milestones ("loaded@0.00"; with dash.js, "harness: ClearKey signalling added to ...").
	Events []string `json:"events"`
	// Requests is the HTTP access log of the loopback server ("GET /media/x.mpd 200 1234").
	Requests []string `json:"-"`

	// Raw holds play.mjs's JSON line, its stderr (browser console, diagnostics) and the access log.
	Raw string `json:"-"`
}

var (
	hexRE  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	playMu sync.Mutex
)

// PlayDASH serves dir on a fresh loopback http.Server, opens the harness page of opts.Player
// (test/player/shaka.html by default) on it in headless Chromium, plays manifest (a
// slash-separated path relative to dir) and returns what the player saw. keys maps KID hex to
// key hex (32 hex digits each; dashes and upper case are accepted).
//
// With keys, shaka-player's drm.clearKeys is set, so org.w3.clearkey is used whatever DRM
// systems the manifest signals. dash.js gets them as org.w3.clearkey protection data, but it
// only picks a key system the MPD (ContentProtection) or the init segments (pssh) signal, so
// dashjs.html adds the DASH-IF ClearKey ContentProtection to an MPD that lacks it (and records
// that in Result.Events); see its header comment.
//
// A playback failure is reported in the Result (OK false, Errors), not as a test failure: the
// caller asserts. Problems with the harness itself (no node, no node_modules, no Chromium, no
// JSON from play.mjs) fail the test.
func PlayDASH(t testing.TB, dir, manifest string, keys map[string]string, opts Options) Result {
	t.Helper()
	return play(t, "mpd", dir, manifest, keys, opts)
}

// PlayHLS plays an HLS playlist (a path relative to dir) with hls.js, or with shaka-player when
// opts.Player is Shaka. Both fetch the keys of encrypted outputs from their EXT-X-KEY URIs: give
// those a clear-key URI that dir serves (a relative one such as "key.bin"). hls.js decrypts
// AES-128 and MPEG-TS SAMPLE-AES itself; shaka-player plays fMP4 SAMPLE-AES (cbcs) with an
// identity key through ClearKey EME.
func PlayHLS(t testing.TB, dir, playlist string, opts Options) Result {
	t.Helper()
	if opts.Player == "" {
		opts.Player = HLSJS
	}
	return play(t, "src", dir, playlist, nil, opts)
}

// PlayFile plays a progressive MP4, M4A or MP3 file (a path relative to dir) with Chromium's own
// media element, served with Range support as a web server would, seeking first to opts.SeekTo
// when it is set.
func PlayFile(t testing.TB, dir, file string, opts Options) Result {
	t.Helper()
	opts.Player = Native
	return play(t, "src", dir, file, nil, opts)
}

func play(t testing.TB, param, dir, manifest string, keys map[string]string, opts Options) Result {
	t.Helper()
	if opts.Player == "" {
		opts.Player = Shaka
	}
	setup, ok := players[opts.Player]
	if !ok {
		t.Fatalf("playtest: unknown Player %q", opts.Player)
	}
	if opts.Seconds <= 0 {
		opts.Seconds = DefaultSeconds
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	env, err := findEnv(setup)
	if err != nil {
		t.Fatalf("playtest: %v", err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("playtest: media folder %q: not a directory (%v)", dir, err)
	}
	keyParam, err := keysParam(keys)
	if err != nil {
		t.Fatalf("playtest: %v", err)
	}

	unlock, err := lockPlays()
	if err != nil {
		t.Fatalf("playtest: %v", err)
	}
	defer unlock()

	srv, base, accessLog, err := serve(env.root, dir)
	if err != nil {
		t.Fatalf("playtest: %v", err)
	}
	defer srv.Close()

	q := url.Values{}
	q.Set(param, "/media/"+strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(manifest)), "/"))
	if keyParam != "" {
		q.Set("keys", keyParam)
	}
	if opts.AudioOnly {
		q.Set("audioOnly", "1")
	}
	if opts.SwitchRendition {
		q.Set("switch", "1")
	}
	if opts.SeekTo > 0 {
		q.Set("seek", strconv.FormatFloat(opts.SeekTo, 'f', -1, 64))
	}
	q.Set("seconds", strconv.FormatFloat(opts.Seconds, 'f', -1, 64))
	pageURL := base + "/player/" + setup.page + "?" + q.Encode()

	timeoutSec := strconv.FormatFloat(opts.Timeout.Seconds(), 'f', -1, 64)
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout+45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.node, filepath.Join("test", "player", "play.mjs"),
		"--page", pageURL, "--seconds", strconv.FormatFloat(opts.Seconds, 'f', -1, 64), "--timeout", timeoutSec)
	cmd.Dir = env.root
	cmd.Env = append(os.Environ(), "PLAYTEST_CHROMIUM="+env.chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	runErr := cmd.Run()
	took := time.Since(start)
	srv.Close()

	res, parseErr := parse(stdout.Bytes())
	res.Requests = accessLog()
	res.Raw = fmt.Sprintf("--- play.mjs stdout ---\n%s--- play.mjs stderr ---\n%s--- http ---\n%s\n",
		stdout.String(), stderr.String(), strings.Join(res.Requests, "\n"))
	exitCode := -1
	var ee *exec.ExitError
	if errors.As(runErr, &ee) {
		exitCode = ee.ExitCode()
	} else if runErr == nil {
		exitCode = 0
	}
	switch {
	case ctx.Err() != nil:
		t.Fatalf("playtest: play.mjs did not finish within %v (killed)\n%s", opts.Timeout+45*time.Second, res.Raw)
	case parseErr != nil:
		t.Fatalf("playtest: no result from play.mjs (%v, exit: %v): %v\n%s", cmd.Args, runErr, parseErr, res.Raw)
	case exitCode != 0 && exitCode != 1:
		t.Fatalf("playtest: play.mjs failed (exit %v)\n%s", runErr, res.Raw)
	case (exitCode == 0) != res.OK:
		t.Fatalf("playtest: play.mjs exit status %d disagrees with ok=%v\n%s", exitCode, res.OK, res.Raw)
	}
	t.Logf("playtest: %s %s: ok=%v currentTime=%.2f %dx%d frames=%d dropped=%d keySystem=%q errors=%d warnings=%d (%.1fs)",
		res.Player, manifest, res.OK, res.CurrentTime, res.VideoWidth, res.VideoHeight,
		res.DecodedFrames, res.DroppedFrames, res.KeySystem, len(res.Errors), len(res.Warnings), took.Seconds())
	for _, e := range res.Errors {
		t.Logf("playtest:   error: %s", e)
	}
	for _, w := range res.Warnings {
		t.Logf("playtest:   warning: %s", w)
	}
	return res
}

// parse reads the last JSON object line of play.mjs's stdout.
func parse(stdout []byte) (Result, error) {
	var line []byte
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 && b[0] == '{' {
			line = append(line[:0], b...)
		}
	}
	if len(line) == 0 {
		return Result{}, errors.New("no JSON line on stdout")
	}
	var r Result
	if err := json.Unmarshal(line, &r); err != nil {
		return Result{}, fmt.Errorf("decode %q: %w", line, err)
	}
	return r, nil
}

// keysParam validates keys and renders them as "KID:KEY,KID:KEY" (sorted, lower case).
func keysParam(keys map[string]string) (string, error) {
	pairs := make([]string, 0, len(keys))
	for kid, key := range keys {
		k := strings.ToLower(strings.ReplaceAll(kid, "-", ""))
		v := strings.ToLower(strings.ReplaceAll(key, "-", ""))
		if !hexRE.MatchString(k) || !hexRE.MatchString(v) {
			return "", fmt.Errorf("bad ClearKey pair %q:%q (want 32 hex digits each)", kid, key)
		}
		pairs = append(pairs, k+":"+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ","), nil
}

type harnessEnv struct {
	root, node, chromium string
}

// findEnv locates the repo root, node, the npm packages the player needs and Chromium, or
// explains what is missing.
func findEnv(setup playerSetup) (harnessEnv, error) {
	var env harnessEnv
	root, err := RepoRoot()
	if err != nil {
		return env, err
	}
	env.root = root
	for _, f := range []string{"test/player/play.mjs", "test/player/harness.js", "test/player/" + setup.page} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return env, fmt.Errorf("harness file missing: %v", err)
		}
	}
	for _, f := range []string{"node_modules/playwright-core/package.json", setup.lib} {
		if f == "" {
			continue // the native page needs no player library
		}
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return env, fmt.Errorf("%s is missing: run `npm ci` at the repo root (%s)", f, root)
		}
	}
	if env.node, err = exec.LookPath("node"); err != nil {
		return env, fmt.Errorf("node not found in PATH: install Node.js >= 20 (%v)", err)
	}
	env.chromium = os.Getenv("PLAYTEST_CHROMIUM")
	if env.chromium == "" {
		env.chromium = DefaultChromium
	}
	if st, err := os.Stat(env.chromium); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return env, fmt.Errorf("no Chromium executable at %s: apt-get install chromium (or set PLAYTEST_CHROMIUM)", env.chromium)
	}
	return env, nil
}

// RepoRoot returns the module root: the nearest folder at or above the working directory that
// holds go.mod (go test runs a package's tests in its folder, so this works from any package).
// It falls back to the folder of this source file.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		for dir := filepath.Dir(file); filepath.IsAbs(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("no go.mod at or above %s", wd)
}

// Content types the player sees; anything else falls back to net/http's detection.
var contentTypes = map[string]string{
	".mpd":  "application/dash+xml",
	".m3u8": "application/vnd.apple.mpegurl",
	".m4s":  "video/iso.segment",
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".m4a":  "audio/mp4",
	".cmfv": "video/mp4",
	".cmfa": "audio/mp4",
	".ts":   "video/mp2t",
	".aac":  "audio/aac",
	".mp3":  "audio/mpeg",
	".vtt":  "text/vtt",
	".key":  "application/octet-stream",
	".js":   "text/javascript; charset=utf-8",
	".map":  "application/json",
	".html": "text/html; charset=utf-8",
}

// serve starts the loopback server: /media/ is dir, /player/ is test/player, /vendor/X/ is
// node_modules/X/dist for the player libraries (/vendor/dashjs/modern/umd/dash.all.debug.js, ...).
// A player library that is not installed is not mounted (findEnv has already checked the one the
// play needs), so a node_modules from before a player was added still serves the others.
func serve(root, dir string) (*http.Server, string, func() []string, error) {
	mux := http.NewServeMux()
	mounts := map[string]string{
		"/media/":               dir,
		"/player/":              filepath.Join(root, "test", "player"),
		"/vendor/shaka-player/": filepath.Join(root, "node_modules", "shaka-player", "dist"),
		"/vendor/dashjs/":       filepath.Join(root, "node_modules", "dashjs", "dist"),
		"/vendor/hls.js/":       filepath.Join(root, "node_modules", "hls.js", "dist"),
	}
	var roots []*os.Root
	closeRoots := func() {
		for _, r := range roots {
			r.Close()
		}
	}
	for prefix, folder := range mounts {
		r, err := os.OpenRoot(folder)
		if err != nil && strings.HasPrefix(prefix, "/vendor/") && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			closeRoots()
			return nil, "", nil, err
		}
		roots = append(roots, r)
		mux.Handle(prefix, http.StripPrefix(strings.TrimSuffix(prefix, "/"), fileHandler(r.FS())))
	}
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })

	var mu sync.Mutex
	var log []string
	const maxLog = 5000
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		line := fmt.Sprintf("%s %s %d %d", r.Method, r.URL.Path, rec.status, rec.n)
		if rg := r.Header.Get("Range"); rg != "" {
			line += " " + rg
		}
		mu.Lock()
		if len(log) < maxLog {
			log = append(log, line)
		}
		mu.Unlock()
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeRoots()
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = srv.Serve(ln)
		closeRoots()
	}()
	accessLog := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), log...)
	}
	return srv, "http://" + ln.Addr().String(), accessLog, nil
}

// fileHandler serves files (with Range support) from fsys; directories are not listed.
func fileHandler(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		f, err := fsys.Open(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			http.Error(w, "not seekable", http.StatusInternalServerError)
			return
		}
		if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.ServeContent(w, r, st.Name(), st.ModTime(), rs)
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

// lockPlays serializes plays within this process and across processes (lock file in the temp dir).
func lockPlays() (func(), error) {
	playMu.Lock()
	release, err := lockFile(filepath.Join(os.TempDir(), "drmpack-playtest.lock"))
	if err != nil {
		playMu.Unlock()
		return nil, err
	}
	return func() {
		release()
		playMu.Unlock()
	}, nil
}
