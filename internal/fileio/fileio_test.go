package fileio

import (
	"bytes"
	"testing"
)

// recorder remembers the size of every write.
type recorder struct {
	bytes.Buffer
	sizes []int
}

func (r *recorder) Write(b []byte) (int, error) {
	r.sizes = append(r.sizes, len(b))
	return r.Buffer.Write(b)
}

func TestPieceWriterSplitsLargeWrites(t *testing.T) {
	var r recorder
	data := bytes.Repeat([]byte{7}, 2*Piece+5)
	n, err := PieceWriter{&r}.Write(data)
	if err != nil || n != len(data) || !bytes.Equal(r.Bytes(), data) {
		t.Fatalf("wrote %d, %v", n, err)
	}
	if len(r.sizes) != 3 || r.sizes[0] != Piece || r.sizes[2] != 5 {
		t.Fatalf("write sizes %v", r.sizes)
	}
}
