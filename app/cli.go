// Package app wires the engine, settings and logging together for the two front ends: the CLI
// (cmd/drmpack) and the GUI.
package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"drmpack/packager"
	"drmpack/packager/cenc"
	"drmpack/packager/errcode"
	"drmpack/packager/hls"
	"drmpack/packager/keys"
	"drmpack/settings"
)

// Version is set at build time with -ldflags "-X drmpack/app.Version=1.2.3"; otherwise the VCS
// revision the binary was built from is reported.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

// Exit statuses of the CLI. The manual's error codes do not fit in a process exit status, so the
// exact code is in the printed report and the JSON line.
const (
	exitOK     = 0
	exitFailed = 1 // at least one job failed
	exitUsage  = 2 // the command line itself was wrong (1101-1103)
)

// CLI runs the drmpack command line with args (without the program name).
func CLI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, "usage: drmpack COMMAND [flags] (commands: package, hls, dims, faststart, trim, serve, keys, kms, ncg, settings, version, help)"))
	}
	switch args[0] {
	case "package":
		return packageCommand(args[1:], stdout, stderr)
	case "dims":
		return dimsCommand(args[1:], stdout, stderr)
	case "keys":
		return keysCommand(args[1:], stdout, stderr)
	case "ncg":
		return ncgCommand(args[1:], stdout, stderr)
	case "kms":
		return kmsCommand(args[1:], stdout, stderr)
	case "settings":
		return settingsCommand(args[1:], stdout, stderr)
	case "hls":
		return hlsCommand(args[1:], stdout, stderr)
	case "faststart":
		return faststartCommand(args[1:], stdout, stderr)
	case "serve":
		return serveCommand(args[1:], stdout, stderr)
	case "trim":
		return trimCommand(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "drmpack %s\n", version())
		return exitOK
	case "help", "--help", "-h":
		printHelp(stdout)
		return exitOK
	}
	return usageError(stderr, errcode.New(errcode.InvalidArgument, "unknown command %q (commands: package, hls, dims, faststart, trim, serve, keys, kms, ncg, settings, version, help)", args[0]))
}

func usageError(w io.Writer, e *errcode.Error) int {
	fmt.Fprint(w, e.Report())
	return exitUsage
}

var packageFlags = append([]flagSpec{
	{names: []string{"--drm"}, value: "LIST", help: "output types, comma-separated: ncg, dash, hls"},
	{names: []string{"--out", "-o"}, value: "DIR", help: "destination folder (default: settings, else the current folder)"},
	{names: []string{"--key"}, value: "[TYPE=]KID:KEY[:IV]", repeated: true, help: "content key in hex; TYPE is AUDIO, SD, HD, UHD1 or UHD2 (repeatable)"},
	{names: []string{"--key-source"}, value: "SOURCE", help: "where keys come from: local (default; the embedded key store), pallycon, cpix, raw (the --key values)"},
	{names: []string{"--site-id"}, value: "ID", help: "pallycon: the Site ID (default: settings)"},
	{names: []string{"--packager-key"}, value: "KEY", help: "pallycon: the Packager Key (default: settings; prefer drmpack settings set packager-key)"},
	{names: []string{"--enc-token"}, value: "TOKEN", help: "pallycon: a ready enc-token instead of Site ID + Packager Key"},
	{names: []string{"--kms-url"}, value: "URL", help: "pallycon: endpoint override ({enc-token} is replaced); cpix: the server URL"},
	{names: []string{"--kms-header"}, value: "'NAME: VALUE'", repeated: true, help: "cpix: an extra request header, e.g. authorisation (repeatable)"},
	{names: []string{"--kms-timeout"}, value: "SECONDS", help: "time one key service request may take (default 30; 3 attempts)"},
	{names: []string{"--cid"}, value: "ID", help: "content ID (default: the CID callback, else the input's base name)"},
	{names: []string{"--cid-callback"}, value: "URL", help: "ask this URL for each file's content ID (see README)"},
	{names: []string{"--cid-callback-method"}, value: "GET|POST", help: "how the CID callback is asked (default GET)"},
	{names: []string{"--scheme"}, value: "cenc|cbcs", help: "common encryption scheme (default cenc)"},
	{names: []string{"--segment-duration"}, value: "SECONDS", help: "target segment duration (default 6)"},
	{names: []string{"--playready-la-url"}, value: "URL", help: "PlayReady licence acquisition URL written into the PlayReady header"},
	{names: []string{"--widevine-provider"}, value: "NAME", help: "provider name in the Widevine PSSH (default drmpack)"},
	{names: []string{"--hls-method"}, value: "sample-aes|aes-128", help: "HLS encryption: FairPlay SAMPLE-AES (default) or whole-segment AES-128"},
	{names: []string{"--hls-key-uri"}, value: "URI", help: "EXT-X-KEY URI ({kid} = KID in hex); skd:// keeps FairPlay signalling, others are clear-key (default skd://<base64 KID>)"},
	{names: []string{"--hls-segments"}, value: "ts|fmp4", help: "HLS segments: MPEG-TS (default) or fMP4 (CMAF, cbcs, EXT-X-MAP; with --hls-method sample-aes)"},
	{names: []string{"--hls-duration"}, value: "SECONDS", help: "HLS target segment duration, split on keyframes (default 10)"},
	{names: []string{"--concurrency"}, value: "N", help: "jobs packaged at once (default 1)"},
	{names: []string{"--json"}, bool: true, help: "print one JSON result line per job on stdout"},
}, append(adaptiveFlags, mediaFlags...)...)

func printHelp(w io.Writer) {
	fmt.Fprint(w, `drmpack: multi-DRM packaging workstation (CLI)

Commands:
  drmpack package [flags] FILE...   package inputs (MP4/M4A/MP3) into DASH-CENC and/or HLS-AES
  drmpack hls IN -o DIR             clear HLS (MPEG-TS) of one MP4/MP3 [--duration --sequence --index-ver --alternates]
  drmpack dims IN RECIPE -o OUT     apply media-server DIMS image commands (--config FILE)
  drmpack keys export --cid ID -o F write the local key store's keys of a title as CPIX 2.3
  drmpack keys list [--cid ID]      list the local key store (content ID, track type, KID; no keys)
  drmpack ncg decrypt IN -o OUT     decrypt drmpack's NCG container (--key [KID:]KEY; default: local store)
  drmpack ncg info IN               show an NCG file's header (no secrets)
  drmpack kms serve [--listen ADDR] serve the local key store as a CPIX 2.3 key server (--token)
  drmpack settings get|set|unset    show or change saved settings and secrets
  drmpack faststart IN -o OUT       move an MP4/M4A header (moov) in front of the media data
  drmpack trim IN -o OUT [flags]    cut MP4/M4A/MP3 by time (--start, --end, --trimming, --max-ratio, --all-tracks)
  drmpack serve [--root DIR]        origin server: the media server URL API over a folder (--listen, --config server.xml, --access-log)
  drmpack version                   print the version
  drmpack help                      this text

Flags of package:
`)
	for _, f := range packageFlags {
		names := strings.Join(f.names, ", ")
		if !f.bool {
			names += " " + f.value
		}
		fmt.Fprintf(w, "  %-34s %s\n", names, f.help)
	}
	fmt.Fprint(w, `
Exit status: 0 when every job succeeded, 1 when a job failed, 2 for a wrong command line.
Failures print the manual's XML block with the error code (RESULT) and details (INFO).
`)
}

// packageCommand runs `drmpack package`.
func packageCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, "usage: drmpack package --drm dash -o OUT --key KID:KEY FILE..."))
	}
	p, err := parseArgs(args, packageFlags)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	opts, concurrency, err := packageOptions(p)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	if len(p.positional) == 0 {
		return usageError(stderr, errcode.New(errcode.ArgumentCount, "no input file given"))
	}
	jsonOut := p.has("--json")
	logOut := stdout
	if jsonOut {
		logOut = stderr
	}
	logFile, logErr := OpenLog()
	if logErr != nil {
		fmt.Fprintf(stderr, "warning: log file unavailable: %v\n", logErr)
	}
	defer logFile.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var mu sync.Mutex
	lastStep := map[*packager.Job]int{}
	total := len(p.positional)
	q := packager.NewQueue(concurrency, func(e packager.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case packager.Log:
			fmt.Fprintln(logOut, e.Line)
			logFile.Line(e.Line)
		case packager.Progress:
			// A line every 10 %: enough to see a long job move without flooding a log.
			if step := int(e.Progress * 10); step > lastStep[e.Job] {
				lastStep[e.Job] = step
				fmt.Fprintf(logOut, "[%d/%d] %s %d%%\n", e.Job.ID, total, e.Job.Input, step*10)
			}
		case packager.StatusChanged:
			logFile.Line(fmt.Sprintf("[%d/%d] %s: %s", e.Job.ID, total, e.Job.Input, e.Status))
		}
	})
	addJobs(q, p, opts)
	total = len(q.Jobs())
	q.Start(ctx)
	q.Wait()

	status := exitOK
	enc := json.NewEncoder(stdout)
	for _, j := range q.Jobs() {
		r := j.Result()
		if r.Status != packager.Succeed {
			status = exitFailed
		}
		if jsonOut {
			enc.Encode(jsonResult{Result: r, Elapsed: r.Elapsed.Seconds(), Error: errorInfo(r.Err)})
		}
	}
	return status
}

type jsonResult struct {
	packager.Result
	Elapsed float64 `json:"elapsed"`
	Error   string  `json:"error,omitempty"`
}

func errorInfo(e *errcode.Error) string {
	if e == nil {
		return ""
	}
	return e.Info
}

// settingsOptions are the job options the saved settings give on their own, before a front end
// (flags, the window) adds its choices. Both front ends start here so a setting means the same in
// each. The scheme is left to the caller: the CLI lets --scheme override it before validating.
func settingsOptions(s settings.Settings) packager.Options {
	return packager.Options{
		OutDir: s.OutDir, PlayReadyLAURL: s.PlayReadyLAURL, WidevineProvider: s.WidevineProvider,
		SegmentDuration: time.Duration(s.SegmentDuration * float64(time.Second)),
	}
}

// parseDRM reads a comma-separated list of output types.
func parseDRM(list string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(list, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if d != packager.DRMDash && d != packager.DRMHLS && d != packager.DRMNCG {
			return nil, errcode.New(errcode.InvalidArgument, "--drm %q: unknown DRM type (ncg, dash, hls)", d)
		}
		out = append(out, d)
	}
	return out, nil
}

// packageOptions turns flags (over the saved settings) into job options.
func packageOptions(p parsedArgs) (packager.Options, int, error) {
	s, err := settings.Load()
	if err != nil {
		return packager.Options{}, 0, errcode.Wrap(errcode.InvalidArgument, err, "settings file")
	}
	opts := settingsOptions(s)
	opts.CID = p.get("--cid")
	concurrency := s.Concurrency
	drm := p.get("--drm")
	if drm == "" {
		drm = strings.Join(s.DRM, ",")
	}
	if drm == "" {
		return opts, 0, errcode.New(errcode.InvalidArgument, "--drm is required (ncg, dash, hls)")
	}
	if opts.DRM, err = parseDRM(drm); err != nil {
		return opts, 0, err
	}
	if v := p.get("--out"); v != "" {
		opts.OutDir = v
	}
	if opts.OutDir == "" {
		opts.OutDir = "."
	}
	scheme := s.Scheme
	if v := p.get("--scheme"); v != "" {
		scheme = v
	}
	if opts.Scheme, err = cenc.ParseScheme(scheme); err != nil {
		return opts, 0, errcode.New(errcode.InvalidArgument, "--scheme: %v", err)
	}
	if v := p.get("--segment-duration"); v != "" {
		if opts.SegmentDuration, err = durationFlag("--segment-duration", v); err != nil {
			return opts, 0, err
		}
	}
	if v := p.get("--hls-duration"); v != "" {
		if opts.HLS.Duration, err = durationFlag("--hls-duration", v); err != nil {
			return opts, 0, err
		}
	}
	if v := p.get("--hls-method"); v != "" {
		if opts.HLS.Method, err = hls.ParseMethod(v); err != nil {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--hls-method: %v", err)
		}
	}
	if v := p.get("--hls-segments"); v != "" {
		if opts.HLS.Segments, err = hls.ParseSegmentFormat(v); err != nil {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--hls-segments: %v", err)
		}
	}
	opts.HLS.KeyURI = p.get("--hls-key-uri")
	if v := p.get("--playready-la-url"); v != "" {
		opts.PlayReadyLAURL = v
	}
	if v := p.get("--widevine-provider"); v != "" {
		opts.WidevineProvider = v
	}
	if v := p.get("--concurrency"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--concurrency %q: want a number from 1 to 64", v)
		}
		concurrency = n
	}
	if err := adaptiveOptions(p, &opts); err != nil {
		return opts, 0, err
	}
	if opts.Trim, err = trimOptions(p); err != nil {
		return opts, 0, err
	}
	opts.Faststart = p.has("--faststart")
	kc, err := keyConfigFromSettings(s)
	if err != nil {
		return opts, 0, errcode.Wrap(errcode.InvalidArgument, err, "settings")
	}
	kc.RawKeys = p.values["--key"]
	for flag, dst := range map[string]*string{"--key-source": &kc.Source, "--site-id": &kc.SiteID,
		"--packager-key": &kc.PackagerKey, "--enc-token": &kc.EncToken, "--kms-url": &kc.KMSURL} {
		if v := p.get(flag); v != "" {
			*dst = v
		}
	}
	if p.has("--key") && !p.has("--key-source") {
		kc.Source = sourceRaw // --key on its own means these keys, whatever the settings say
	}
	if p.has("--kms-header") {
		kc.KMSHeaders = p.values["--kms-header"]
	}
	if v := p.get("--kms-timeout"); v != "" {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || sec <= 0 || sec > 600 {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--kms-timeout %q: want seconds between 0 and 600", v)
		}
		kc.Timeout = time.Duration(sec * float64(time.Second))
	}
	if opts.KeySource, err = kc.keySource(); err != nil {
		return opts, 0, err
	}
	if opts.CID != "" {
		if err := keys.ValidateCID(opts.CID); err != nil {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--cid: %v", err)
		}
	}
	callbackURL, method := s.CIDCallbackURL, s.CIDCallbackMethod
	if v := p.get("--cid-callback"); v != "" {
		callbackURL = v
	}
	if v := p.get("--cid-callback-method"); v != "" {
		method = v
	}
	if opts.CIDSource, err = cidSource(callbackURL, method, kc.Timeout); err != nil {
		return opts, 0, err
	}
	return opts, concurrency, nil
}
