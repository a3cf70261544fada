// Package transform derives new media files from a source without re-encoding: header upfront
// (faststart), trimming and multi-trimming of MP4, M4A and MP3, as the media server manual
// defines them. Every operation yields a Plan, which describes the derived file as regenerated
// header bytes plus ranges of the source, so it can be written out by streaming copies or served
// with Range requests without ever being materialised.
package transform

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// ErrShortSource means the source ended before a range the plan copies from it.
var ErrShortSource = errors.New("source shorter than planned")

// Plan is a derived file: a sequence of literal byte strings (regenerated headers) and ranges of
// the source file. It holds no media data.
type Plan struct {
	parts []part
	size  int64
}

// part is one piece of the output, starting at output offset at. A literal part has data; a
// source part copies n bytes from source offset src.
type part struct {
	at   int64
	data []byte
	src  int64
	n    int64
}

// Whole is the plan of an unchanged copy of a source of size bytes.
func Whole(size int64) *Plan {
	p := &Plan{}
	p.copyRange(0, size)
	return p
}

// Size is the length of the derived file in bytes.
func (p *Plan) Size() int64 { return p.size }

// SourceBytes is how many bytes of the output come from the source (the rest are headers).
func (p *Plan) SourceBytes() int64 {
	var n int64
	for _, pt := range p.parts {
		if pt.data == nil {
			n += pt.n
		}
	}
	return n
}

func (p *Plan) literal(b []byte) {
	if len(b) == 0 {
		return
	}
	p.parts = append(p.parts, part{at: p.size, data: b, n: int64(len(b))})
	p.size += int64(len(b))
}

// copyRange appends n source bytes from src, merging with the previous range when the two are
// adjacent in the source, so that interleaved samples kept together become one copy.
func (p *Plan) copyRange(src, n int64) {
	if n <= 0 {
		return
	}
	if k := len(p.parts) - 1; k >= 0 && p.parts[k].data == nil && p.parts[k].src+p.parts[k].n == src {
		p.parts[k].n += n
	} else {
		p.parts = append(p.parts, part{at: p.size, src: src, n: n})
	}
	p.size += n
}

// append adds q's parts after p's.
func (p *Plan) append(q *Plan) {
	for _, pt := range q.parts {
		if pt.data != nil {
			p.literal(pt.data)
		} else {
			p.copyRange(pt.src, pt.n)
		}
	}
}

// Open returns the derived file as a reader over src, for serving byte ranges (it satisfies
// io.ReadSeeker, so http.ServeContent answers Range requests from it). Only the source bytes a
// read touches are read.
func (p *Plan) Open(src io.ReaderAt) *io.SectionReader {
	return io.NewSectionReader(planReader{p, src}, 0, p.size)
}

type planReader struct {
	p   *Plan
	src io.ReaderAt
}

func (r planReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("transform: negative offset")
	}
	parts := r.p.parts
	i := sort.Search(len(parts), func(i int) bool { return parts[i].at+parts[i].n > off })
	n := 0
	for ; i < len(parts) && n < len(b); i++ {
		pt := parts[i]
		within := off + int64(n) - pt.at
		want := min(int64(len(b)-n), pt.n-within)
		if pt.data != nil {
			n += copy(b[n:], pt.data[within:within+want])
			continue
		}
		m, err := r.src.ReadAt(b[n:n+int(want)], pt.src+within)
		n += m
		if m < int(want) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// WriteTo writes the derived file to w, reading source ranges from src. When src is an *os.File
// the ranges are copied with the file's own offset (Seek plus a limited io.Copy), which lets the
// kernel copy them directly into an *os.File w (copy_file_range) without passing through user
// memory; src must then not be read concurrently through its offset.
func (p *Plan) WriteTo(w io.Writer, src io.ReaderAt) (int64, error) {
	f, isFile := src.(*os.File)
	var written int64
	for _, pt := range p.parts {
		var n int64
		var err error
		switch {
		case pt.data != nil:
			var m int
			m, err = w.Write(pt.data)
			n = int64(m)
		case isFile:
			if _, err = f.Seek(pt.src, io.SeekStart); err == nil {
				n, err = io.Copy(w, io.LimitReader(f, pt.n))
			}
		default:
			n, err = io.Copy(w, io.NewSectionReader(src, pt.src, pt.n))
		}
		written += n
		if err == nil && n < pt.n {
			err = fmt.Errorf("%w by %d bytes (changed during the operation?)", ErrShortSource, pt.n-n)
		}
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// WriteFile writes the derived file to path through a temporary file in the same folder that is
// renamed into place only when complete: a failure leaves no partial output behind.
func (p *Plan) WriteFile(path string, src io.ReaderAt) (err error) {
	// The temporary name is short and plain so that a long (or Korean) output name that the
	// folder accepts cannot make it fail.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".drmpack-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = p.WriteTo(tmp, src); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
