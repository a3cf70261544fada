package app

import (
	"errors"
	"fmt"
	"io"
	"os"

	"drmpack/packager/dims"
	"drmpack/packager/errcode"
)

var dimsFlags = []flagSpec{
	{names: []string{"--out", "-o"}, value: "FILE", help: "where the converted image is written (required)"},
	{names: []string{"--config"}, value: "FILE", help: "XML with the media server's <Dims> element: Composite and ByOriginal presets, MaxSourceSize, FirstFrameOnly"},
}

// dimsCommand runs `drmpack dims IN RECIPE -o OUT [--config FILE]`: the media server's DIMS
// URL commands applied to a file. A command-line mistake is a usage error (the manual's XML
// block, exit 2); a DIMS failure prints the media server manual's sentence on the first line of
// stderr, with the cause on the next, and exits 1.
func dimsCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack dims IN RECIPE -o OUT [--config FILE] (e.g. /thumbnail/78x110/format/png/)"
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, usage))
	}
	p, err := parseArgs(args, dimsFlags)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	if len(p.positional) != 2 || !p.has("--out") {
		return usageError(stderr, errcode.New(errcode.ArgumentCount, usage))
	}
	in, recipe, outPath := p.positional[0], p.positional[1], p.get("--out")
	cfg := dims.DefaultConfig()
	if path := p.get("--config"); path != "" {
		if cfg, err = dims.LoadConfig(path); err != nil {
			return usageError(stderr, errcode.New(errcode.InvalidArgument, "--config %s: %v", path, err))
		}
	}
	out, contentType, err := convertFile(in, recipe, cfg)
	if err != nil {
		var e *dims.Error
		if errors.As(err, &e) {
			fmt.Fprintf(stderr, "%s\n%s\n", e.Error(), e.Detail)
		} else {
			fmt.Fprintln(stderr, err)
		}
		return exitFailed
	}
	if err := os.WriteFile(outPath, out, 0o644); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s: %s, %d bytes\n", outPath, contentType, len(out))
	return exitOK
}

// convertFile reads IN as the server would download the original: a file that cannot be read
// completely is "not successfully downloaded", and MaxSourceSize is checked before reading.
func convertFile(in, recipe string, cfg *dims.Config) ([]byte, string, error) {
	if st, err := os.Stat(in); err == nil && st.Size() > cfg.MaxSourceSize {
		return nil, "", &dims.Error{Reason: dims.TooLarge, Detail: fmt.Sprintf("%s: %d bytes > MaxSourceSize %d", in, st.Size(), cfg.MaxSourceSize)}
	}
	src, err := os.ReadFile(in)
	if err != nil {
		return nil, "", &dims.Error{Reason: dims.NotDownloaded, Detail: err.Error()}
	}
	return dims.Process(src, recipe, cfg)
}
