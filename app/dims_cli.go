package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

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
	if err := writeAtomically(outPath, out); err != nil {
		fmt.Fprint(stderr, err.Report())
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s: %s, %d bytes\n", outPath, contentType, len(out))
	return exitOK
}

// convertFile reads IN as the server would download the original: a file that cannot be read
// completely is "not successfully downloaded", and MaxSourceSize is checked before reading and
// again while reading (a pipe or device has no size to check first).
func convertFile(in, recipe string, cfg *dims.Config) ([]byte, string, error) {
	tooLarge := func(n int64) error {
		return &dims.Error{Reason: dims.TooLarge, Detail: fmt.Sprintf("%s: %d bytes > MaxSourceSize %d", in, n, cfg.MaxSourceSize)}
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, "", &dims.Error{Reason: dims.NotDownloaded, Detail: err.Error()}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > cfg.MaxSourceSize {
		return nil, "", tooLarge(st.Size())
	}
	src, err := io.ReadAll(io.LimitReader(f, cfg.MaxSourceSize+1))
	if err != nil {
		return nil, "", &dims.Error{Reason: dims.NotDownloaded, Detail: err.Error()}
	}
	if int64(len(src)) > cfg.MaxSourceSize {
		return nil, "", tooLarge(int64(len(src)))
	}
	return dims.Process(src, recipe, cfg)
}

// writeAtomically writes data to a temporary file next to path and renames it into place, so
// a failure never leaves a partial image where a complete one is expected.
func writeAtomically(path string, data []byte) *errcode.Error {
	f, err := os.CreateTemp(filepath.Dir(path), ".dims-*")
	if err != nil {
		return createFailed(err, "create output")
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err != nil {
		os.Remove(f.Name())
		return createFailed(err, "write output")
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return errcode.Wrap(errcode.MoveFailed, err, "move output into place")
	}
	return nil
}

// createFailed classes a failure to write the output: no space is the manual's 1205, anything
// else (a missing or unwritable folder) its generic 1203.
func createFailed(err error, context string) *errcode.Error {
	if errors.Is(err, syscall.ENOSPC) {
		return errcode.Wrap(errcode.CreateNoSpace, err, context)
	}
	return errcode.Wrap(errcode.CreateTooDeep, err, context)
}
