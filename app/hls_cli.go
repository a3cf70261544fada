package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	"drmpack/packager"
	"drmpack/packager/errcode"
	"drmpack/packager/hls"
)

var hlsFlags = []flagSpec{
	{names: []string{"--out", "-o"}, value: "DIR", help: "folder for index.m3u8 and the N.ts segments (required)"},
	{names: []string{"--duration"}, value: "SECONDS", help: "target segment duration, split on keyframes (default 10)"},
	{names: []string{"--sequence"}, value: "N", help: "number of the first segment (default 0)"},
	{names: []string{"--index-ver"}, value: "1|3", help: "playlist version: 3 = EXT-X-VERSION:3 and EXTINF with 3 decimals, 1 = no tag, integers (default 3)"},
	{names: []string{"--alternates"}, bool: true, help: "index.m3u8 becomes a master playlist naming playlist.m3u8"},
	{names: []string{"--segments"}, value: "ts|fmp4", help: "segment format: MPEG-TS N.ts (default) or fMP4 init.mp4 + N.m4s"},
}

// hlsCommand runs `drmpack hls IN -o DIR`: the media server's MP4 HLS / MP3 HLS (clear) as a
// file operation.
func hlsCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack hls IN -o DIR [--duration 10] [--sequence 0] [--index-ver 3] [--alternates] [--segments ts|fmp4]"
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, usage))
	}
	p, err := parseArgs(args, hlsFlags)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	if len(p.positional) != 1 || !p.has("--out") {
		return usageError(stderr, errcode.New(errcode.ArgumentCount, usage))
	}
	opts := hls.Options{Duration: hls.DefaultDuration, IndexVersion: 3, Alternates: p.has("--alternates")}
	if v := p.get("--duration"); v != "" {
		if opts.Duration, err = durationFlag("--duration", v); err != nil {
			return usageError(stderr, errcode.From(err))
		}
	}
	if v := p.get("--sequence"); v != "" {
		if opts.Sequence, err = strconv.Atoi(v); err != nil || opts.Sequence < 0 {
			return usageError(stderr, errcode.New(errcode.InvalidArgument, "--sequence %q: want a number from 0", v))
		}
	}
	if v := p.get("--index-ver"); v != "" {
		if opts.IndexVersion, err = strconv.Atoi(v); err != nil || (opts.IndexVersion != 1 && opts.IndexVersion != 3) {
			return usageError(stderr, errcode.New(errcode.InvalidArgument, "--index-ver %q: want 1 or 3", v))
		}
	}
	if v := p.get("--segments"); v != "" {
		if opts.Segments, err = hls.ParseSegmentFormat(v); err != nil {
			return usageError(stderr, errcode.New(errcode.InvalidArgument, "--segments: %v", err))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	in, out := p.positional[0], p.get("--out")
	res, err := packager.HLSFile(ctx, in, out, opts)
	if err != nil {
		fmt.Fprintf(stderr, "Failed file : %s\n%s", in, errcode.From(err).Report())
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s: %d segments, %.3f s, %s, BANDWIDTH=%d\n", out, res.Segments, res.Duration, res.Codecs, res.Bandwidth)
	return exitOK
}

// durationFlag parses a segment duration in seconds (0.5 to 120).
func durationFlag(name, v string) (time.Duration, error) {
	sec, err := strconv.ParseFloat(v, 64)
	if err != nil || sec < 0.5 || sec > 120 {
		return 0, errcode.New(errcode.InvalidArgument, "%s %q: want seconds between 0.5 and 120", name, v)
	}
	return time.Duration(sec * float64(time.Second)), nil
}
