package transform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxMoovSize bounds the header loaded into memory (as the demuxer does): a real moov of a
// multi-hour file is tens of megabytes, a larger size field is corruption.
const maxMoovSize = 512 << 20

// box is a box's place in a file or buffer: its type, where it starts, its total size and the
// length of its header (8, or 16 with a 64-bit size).
type box struct {
	typ    string
	off    int64
	size   int64
	header int64
}

func (b box) end() int64 { return b.off + b.size }

var errNotMP4 = errors.New("not an MP4 box structure")

// readBoxes walks the boxes in [from, to) of r strictly: every size must be valid and the boxes
// must tile the range exactly, so a truncated or corrupt file is recognised as such.
func readBoxes(r io.ReaderAt, from, to int64) ([]box, error) {
	var out []box
	hdr := make([]byte, 16)
	for pos := from; pos < to; {
		if to-pos < 8 {
			return nil, fmt.Errorf("%w: %d stray bytes at %d", errNotMP4, to-pos, pos)
		}
		if _, err := r.ReadAt(hdr[:8], pos); err != nil {
			return nil, err
		}
		b := box{typ: string(hdr[4:8]), off: pos, size: int64(binary.BigEndian.Uint32(hdr)), header: 8}
		switch b.size {
		case 0:
			b.size = to - pos
		case 1:
			if to-pos < 16 {
				return nil, fmt.Errorf("%w: truncated box header at %d", errNotMP4, pos)
			}
			if _, err := r.ReadAt(hdr[8:16], pos+8); err != nil {
				return nil, err
			}
			b.size, b.header = int64(binary.BigEndian.Uint64(hdr[8:16])), 16
		}
		if b.size < b.header || b.size > to-pos {
			return nil, fmt.Errorf("%w: box %q at %d claims %d bytes, %d remain (truncated or corrupt)", errNotMP4, printable(b.typ), pos, b.size, to-pos)
		}
		out = append(out, b)
		pos += b.size
	}
	return out, nil
}

func printable(s string) string {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", s)
		}
	}
	return s
}

// boxHeader encodes the header of a box with a payload of n bytes: the 32-bit size form when the
// box fits, else size 1 and a 64-bit size.
func boxHeader(typ string, n int64) []byte {
	if n+8 <= 0xFFFFFFFF {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b, uint32(n+8))
		copy(b[4:], typ)
		return b
	}
	b := make([]byte, 16)
	binary.BigEndian.PutUint32(b, 1)
	copy(b[4:], typ)
	binary.BigEndian.PutUint64(b[8:], uint64(n+16))
	return b
}
