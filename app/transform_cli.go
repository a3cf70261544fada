package app

import (
	"fmt"
	"io"

	"drmpack/packager"
	"drmpack/packager/errcode"
	"drmpack/packager/transform"
)

// trimFlags select a trim, for `drmpack trim` and `drmpack package`.
var trimFlags = []flagSpec{
	{names: []string{"--start"}, value: "SECONDS", help: "keep from this time (video: from the sync sample at or before it)"},
	{names: []string{"--end"}, value: "SECONDS", help: "keep up to this time; a start after the end keeps everything"},
	{names: []string{"--trimming"}, value: "LIST", help: "multi-trimming: ranges joined in order, e.g. 0-30,210-270,600- (wins over --start/--end)"},
	{names: []string{"--max-ratio"}, value: "PERCENT", help: "multi-trimming: ranges that make the result more than this much larger than the source are dropped (0-100, default 50)"},
	{names: []string{"--all-tracks"}, bool: true, help: "trim every track (default: keep only audio and video)"},
}

var faststartFlags = []flagSpec{
	{names: []string{"--out", "-o"}, value: "FILE", help: "where the header-upfront file is written (required)"},
}

var trimCommandFlags = append([]flagSpec{
	{names: []string{"--out", "-o"}, value: "FILE", help: "where the trimmed file is written (required)"},
}, trimFlags...)

// mediaFlags are the media operations `drmpack package` applies before packaging.
var mediaFlags = append([]flagSpec{
	{names: []string{"--faststart"}, bool: true, help: "move the input's header upfront first (DASH output does not depend on it)"},
}, trimFlags...)

// faststartCommand runs `drmpack faststart IN -o OUT`.
func faststartCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack faststart IN -o OUT"
	in, out, _, code := inputAndOutput(args, faststartFlags, usage, stderr)
	if code >= 0 {
		return code
	}
	res, err := packager.Faststart(in, out)
	if err != nil {
		return failedInput(stderr, in, err)
	}
	switch {
	case res.Note != "":
		fmt.Fprintf(stderr, "warning: %s\n", res.Note)
	case res.Moved:
		fmt.Fprintf(stdout, "Moved the header upfront: %s (%d bytes)\n", out, res.Size)
	default:
		fmt.Fprintf(stdout, "The header is already upfront; copied unchanged: %s (%d bytes)\n", out, res.Size)
	}
	return exitOK
}

// trimCommand runs `drmpack trim IN -o OUT [--start S] [--end E] [--trimming LIST] ...`.
func trimCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack trim IN -o OUT [--start S] [--end E] [--trimming LIST] [--max-ratio N] [--all-tracks]"
	in, out, p, code := inputAndOutput(args, trimCommandFlags, usage, stderr)
	if code >= 0 {
		return code
	}
	opts, err := trimOptions(p)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	if opts == nil {
		opts = &transform.Options{MaxRatio: transform.DefaultMaxRatio}
	}
	sel, err := packager.Trim(in, out, *opts)
	if err != nil {
		return failedInput(stderr, in, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", out, packager.DescribeSelection(sel))
	return exitOK
}

// inputAndOutput parses `COMMAND IN -o OUT [flags]`. code is -1 when the command should go on,
// else the exit status of a usage error already reported.
func inputAndOutput(args []string, flags []flagSpec, usage string, stderr io.Writer) (in, out string, p parsedArgs, code int) {
	if len(args) == 0 {
		return "", "", p, usageError(stderr, errcode.New(errcode.NoArguments, "%s", usage))
	}
	p, err := parseArgs(args, flags)
	if err != nil {
		return "", "", p, usageError(stderr, errcode.From(err))
	}
	if len(p.positional) != 1 || !p.has("--out") {
		return "", "", p, usageError(stderr, errcode.New(errcode.ArgumentCount, "%s", usage))
	}
	return p.positional[0], p.get("--out"), p, -1
}

// failedInput reports a failed operation on an input the way a failed packaging job is reported.
func failedInput(stderr io.Writer, in string, err error) int {
	fmt.Fprintf(stderr, "Failed file : %s\n%s", in, errcode.From(err).Report())
	return exitFailed
}

// trimOptions reads the trim flags; nil when none selects a trim. --trimming wins over
// --start/--end, as the manual's Multi-Trimming wins over Trimming.
func trimOptions(p parsedArgs) (*transform.Options, error) {
	return transform.Request{Start: p.get("--start"), End: p.get("--end"), Trimming: p.get("--trimming"),
		MaxRatio: p.get("--max-ratio"), AllTracks: p.has("--all-tracks")}.Options()
}
