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
		return usageError(stderr, errcode.New(errcode.NoArguments, "usage: drmpack COMMAND [flags] (commands: package, dims, faststart, trim, version, help)"))
	}
	switch args[0] {
	case "package":
		return packageCommand(args[1:], stdout, stderr)
	case "dims":
		return dimsCommand(args[1:], stdout, stderr)
	case "faststart":
		return faststartCommand(args[1:], stdout, stderr)
	case "trim":
		return trimCommand(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "drmpack %s\n", version())
		return exitOK
	case "help", "--help", "-h":
		printHelp(stdout)
		return exitOK
	}
	return usageError(stderr, errcode.New(errcode.InvalidArgument, "unknown command %q (commands: package, dims, faststart, trim, version, help)", args[0]))
}

func usageError(w io.Writer, e *errcode.Error) int {
	fmt.Fprint(w, e.Report())
	return exitUsage
}

var packageFlags = append([]flagSpec{
	{names: []string{"--drm"}, value: "LIST", help: "output types, comma-separated: dash"},
	{names: []string{"--out", "-o"}, value: "DIR", help: "destination folder (default: settings, else the current folder)"},
	{names: []string{"--key"}, value: "[TYPE=]KID:KEY[:IV]", repeated: true, help: "content key in hex; TYPE is AUDIO, SD, HD, UHD1 or UHD2 (repeatable)"},
	{names: []string{"--key-source"}, value: "raw", help: "where keys come from (raw: the --key values)"},
	{names: []string{"--cid"}, value: "ID", help: "content ID (default: the input's base name)"},
	{names: []string{"--scheme"}, value: "cenc|cbcs", help: "common encryption scheme (default cenc)"},
	{names: []string{"--segment-duration"}, value: "SECONDS", help: "target segment duration (default 6)"},
	{names: []string{"--playready-la-url"}, value: "URL", help: "PlayReady licence acquisition URL written into the PlayReady header"},
	{names: []string{"--widevine-provider"}, value: "NAME", help: "provider name in the Widevine PSSH (default drmpack)"},
	{names: []string{"--concurrency"}, value: "N", help: "jobs packaged at once (default 1)"},
	{names: []string{"--json"}, bool: true, help: "print one JSON result line per job on stdout"},
}, mediaFlags...)

func printHelp(w io.Writer) {
	fmt.Fprint(w, `drmpack: multi-DRM packaging workstation (CLI)

Commands:
  drmpack package [flags] FILE...   package inputs (MP4/M4A/MP3) into DASH-CENC
  drmpack dims IN RECIPE -o OUT     apply media-server DIMS image commands (--config FILE)
  drmpack faststart IN -o OUT       move an MP4/M4A header (moov) in front of the media data
  drmpack trim IN -o OUT [flags]    cut MP4/M4A/MP3 by time (--start, --end, --trimming, --max-ratio, --all-tracks)
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
	for _, in := range p.positional {
		q.Add(in, opts)
	}
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
		return opts, 0, errcode.New(errcode.InvalidArgument, "--drm is required (dash)")
	}
	for _, d := range strings.Split(drm, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d != packager.DRMDash {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--drm %q: unknown or not yet available DRM type (dash)", d)
		}
		opts.DRM = append(opts.DRM, d)
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
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || sec < 0.5 || sec > 120 {
			return opts, 0, errcode.New(errcode.InvalidArgument, "--segment-duration %q: want seconds between 0.5 and 120", v)
		}
		opts.SegmentDuration = time.Duration(sec * float64(time.Second))
	}
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
	if opts.Trim, err = trimOptions(p); err != nil {
		return opts, 0, err
	}
	opts.Faststart = p.has("--faststart")
	switch src := p.get("--key-source"); src {
	case "", "raw":
		raw, err := keys.ParseRaw(p.values["--key"])
		if err != nil {
			return opts, 0, errcode.New(errcode.InvalidArgument, "%v", err)
		}
		if len(raw) == 0 {
			return opts, 0, errcode.New(errcode.InvalidArgument, "no key given: pass --key KID:KEY (32 hex digits each)")
		}
		opts.KeySource = raw
	default:
		return opts, 0, errcode.New(errcode.InvalidArgument, "--key-source %q is not available (raw)", src)
	}
	return opts, concurrency, nil
}
