package packager

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/hls"
)

// HLSFile is the server manual's MP4 HLS / MP3 HLS as a file operation: input segmented into
// outDir/index.m3u8 (+ playlist.m3u8) and outDir/N.ts. The result is staged next to outDir and
// moved into place only when complete; files of an earlier run with the same names are replaced,
// others are left alone.
func HLSFile(ctx context.Context, input, outDir string, opts hls.Options) (*hls.Result, error) {
	size, err := CheckInput(input)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, createError(err, "create "+parent)
	}
	if err := checkFreeSpace(parent, size); err != nil {
		return nil, err
	}
	m, err := demux.Open(input)
	if err != nil {
		if errors.Is(err, demux.ErrUnsupported) {
			return nil, errcode.New(errcode.InvalidArgument, "%s cannot be segmented for HLS: %v", filepath.Base(input), err)
		}
		return nil, errcode.Wrap(errcode.FileAccess, err, "open input")
	}
	defer m.Close()
	stage, err := os.MkdirTemp(parent, ".drmpack-hls-")
	if err != nil {
		return nil, createError(err, "create temporary folder")
	}
	defer os.RemoveAll(stage)
	res, err := hls.Package(ctx, m, stage, opts, nil)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(outDir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(stage, outDir); err != nil {
			return nil, errcode.Wrap(errcode.MoveFailed, err, "move output to "+outDir)
		}
		return res, nil
	}
	for _, name := range res.Files {
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(outDir, name)); err != nil {
			return nil, errcode.Wrap(errcode.MoveFailed, err, "move "+name+" to "+outDir)
		}
	}
	return res, nil
}
