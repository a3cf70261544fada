package packager

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/transform"
)

// FaststartResult says what Faststart did.
type FaststartResult struct {
	Moved bool   // the header was moved in front of the media data
	Note  string // why the file was copied unchanged, when it was not analysable
	Size  int64  // bytes written
}

// Faststart writes the header-upfront version of the MP4/M4A in to out (the media server
// manual's UpfrontMP4Header / UpfrontM4AHeader). A file whose header is already upfront is
// copied unchanged, and so is one that cannot be analysed, as the manual serves those: Note
// then says why. Only a missing or unreadable input or an unwritable output is an error.
func Faststart(in, out string) (FaststartResult, error) {
	f, size, err := openInput(in, out)
	if err != nil {
		return FaststartResult{}, err
	}
	defer f.Close()
	plan, moved, err := transform.Faststart(f, size)
	res := FaststartResult{Moved: moved}
	if err != nil {
		res.Note = fmt.Sprintf("%s cannot be analysed (%v); copied unchanged", filepath.Base(in), err)
		plan = transform.Whole(size)
	}
	res.Size = plan.Size()
	return res, writeDerived(plan, f, out)
}

// Trim writes the trimmed or multi-trimmed version of the MP4, M4A or MP3 in to out and returns
// what it kept.
func Trim(in, out string, opts transform.Options) (*transform.Selection, error) {
	f, size, err := openInput(in, out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := demux.OpenReaderAt(f, size, in)
	if errors.Is(err, demux.ErrUnsupported) {
		return nil, errcode.New(errcode.InvalidArgument, "%s cannot be trimmed: %v", filepath.Base(in), err)
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.FileAccess, err, "read input")
	}
	plan, sel, err := transform.Trim(m, opts)
	if err != nil {
		return nil, err
	}
	return sel, writeDerived(plan, f, out)
}

// openInput checks the input and the output's folder the way packaging jobs do and opens in.
func openInput(in, out string) (*os.File, int64, error) {
	size, err := CheckInput(in)
	if err != nil {
		return nil, 0, err
	}
	if out == "" {
		return nil, 0, errcode.New(errcode.InvalidArgument, "no output file given (-o)")
	}
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, createError(err, "create output folder "+dir)
	}
	if err := checkFreeSpace(dir, size); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, 0, errcode.Wrap(errcode.FileAccess, err, "open input")
	}
	return f, size, nil
}

// writeDerived writes plan to out through a temporary file renamed into place.
func writeDerived(plan *transform.Plan, src *os.File, out string) error {
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return errcode.New(errcode.InvalidArgument, "%s is a folder; -o takes the output file's name", out)
	}
	if err := plan.WriteFile(out, src); err != nil {
		if errors.Is(err, transform.ErrShortSource) {
			return errcode.Wrap(errcode.FileAccess, err, "read input")
		}
		return createError(err, "write "+out)
	}
	return nil
}

// mediaOperations applies the job's trimming to the opened input: the packager then reads a
// trimmed view of it, with no copy.
func (p *jobRun) mediaOperations(m *demux.Media) (*demux.Media, error) {
	opts := p.job.Options
	if opts.Faststart {
		p.log("Header upfront: the DASH output does not depend on where the input's header is; nothing to move")
	}
	if opts.Trim == nil {
		return m, nil
	}
	sel, err := transform.Select(m, *opts.Trim)
	if err != nil {
		return nil, err
	}
	p.log("%s", DescribeSelection(sel))
	return sel.Media(), nil
}

// DescribeSelection is the log line of a trim: what was kept and what was dropped.
func DescribeSelection(sel *transform.Selection) string {
	var cuts []string
	for _, c := range sel.Cuts {
		cuts = append(cuts, fmt.Sprintf("%.3f-%.3f s", c.Start, c.End))
	}
	line := fmt.Sprintf("Trimmed to %s (%.3f s)", strings.Join(cuts, ", "), sel.Duration)
	for _, d := range sel.Dropped {
		line += fmt.Sprintf("; range %s dropped (beyond the end or over MaxRatio)", d)
	}
	return line
}
