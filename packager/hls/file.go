package hls

import (
	"bufio"
	"io"
	"os"

	"drmpack/internal/fileio"
)

// createFile creates path, lets write fill it through a buffer, and returns its size. Large
// writes reach the file in fileio.Piece pieces: one multi-megabyte write(2) costs several times
// the system time of the same bytes in 1 MiB writes.
func createFile(path string, write func(io.Writer) error) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: fileio.PieceWriter{W: f}}
	bw := bufio.NewWriterSize(cw, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
