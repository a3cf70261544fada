package transform

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Faststart plans src, an MP4 or M4A of size bytes, with its moov box in front of the media data,
// as the manual's header-upfront does: moov moves to just before the first mdat, every chunk
// offset is rewritten (a table switches from stco to co64 when its offsets pass 4 GiB), and every
// other box is kept byte for byte in its order. moved is false when the header already precedes
// the media data; the plan is then an unchanged copy.
//
// An error means the file cannot be analysed (not MP4, truncated, fragmented, corrupt tables).
// The manual serves such files unchanged; callers do so with Whole(size) and say why.
func Faststart(src io.ReaderAt, size int64) (plan *Plan, moved bool, err error) {
	top, err := readBoxes(src, 0, size)
	if err != nil {
		return nil, false, err
	}
	moovAt, mdatAt := -1, -1
	for i, b := range top {
		switch b.typ {
		case "moov":
			if moovAt >= 0 {
				return nil, false, fmt.Errorf("%w: two moov boxes", errNotMP4)
			}
			moovAt = i
		case "mdat":
			if mdatAt < 0 {
				mdatAt = i
			}
		case "moof":
			return nil, false, errors.New("fragmented MP4: the header is already in front of each fragment")
		}
	}
	if moovAt < 0 {
		return nil, false, fmt.Errorf("%w: no moov box", errNotMP4)
	}
	if mdatAt < 0 || moovAt < mdatAt {
		return Whole(size), false, nil
	}
	moov := top[moovAt]
	if moov.size > maxMoovSize {
		return nil, false, fmt.Errorf("moov of %d bytes is too large", moov.size)
	}
	buf := make([]byte, moov.size)
	if _, err := src.ReadAt(buf, moov.off); err != nil {
		return nil, false, err
	}
	order := make([]box, 0, len(top))
	order = append(order, top[:mdatAt]...)
	order = append(order, moov)
	for i, b := range top[mdatAt:] {
		if mdatAt+i != moovAt {
			order = append(order, b)
		}
	}

	// The new moov's size decides where the media lands, and the media's position decides
	// whether a table needs 64-bit offsets (which grows the moov): iterate to the fixed point.
	// Sizes only grow, and at most every table switches once, so this ends in a few rounds.
	newMoov := buf
	for range 8 {
		shift := layout(top, order, moov, int64(len(newMoov)))
		next, err := rewriteMoov(buf, shift)
		if err != nil {
			return nil, false, err
		}
		same := len(next) == len(newMoov)
		newMoov = next
		if same {
			break
		}
	}
	plan = &Plan{}
	for _, b := range order {
		if b == moov {
			plan.literal(newMoov)
		} else {
			plan.copyRange(b.off, b.size)
		}
	}
	return plan, true, nil
}

// layout places the boxes in the new order, the moov having moovSize bytes, and returns the map
// from a source file offset to its new position; offsets outside every box but moov are corrupt.
func layout(top, order []box, moov box, moovSize int64) func(int64) (int64, error) {
	newPos := make(map[int64]int64, len(order))
	var pos int64
	for _, b := range order {
		newPos[b.off] = pos
		if b == moov {
			pos += moovSize
		} else {
			pos += b.size
		}
	}
	return func(off int64) (int64, error) {
		i := sort.Search(len(top), func(i int) bool { return top[i].end() > off })
		if i == len(top) || off < top[i].off || top[i] == moov {
			return 0, fmt.Errorf("chunk offset %d points outside the media data", off)
		}
		return newPos[top[i].off] + off - top[i].off, nil
	}
}

// containers are the boxes between moov and the chunk offset tables.
var containers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true}

// rewriteMoov returns the box b (moov or one of its descendants) with every chunk offset mapped
// through shift, re-encoding only the containers on the way to the tables and the tables.
func rewriteMoov(b []byte, shift func(int64) (int64, error)) ([]byte, error) {
	hdr, err := readBoxes(bytes.NewReader(b), 0, int64(len(b)))
	if err != nil || len(hdr) != 1 {
		return nil, fmt.Errorf("%w: malformed box in moov", errNotMP4)
	}
	h := hdr[0]
	payload := b[h.header:]
	switch {
	case containers[h.typ]:
		children, err := readBoxes(bytes.NewReader(payload), 0, int64(len(payload)))
		if err != nil {
			return nil, fmt.Errorf("in %s: %w", h.typ, err)
		}
		var out []byte
		for _, c := range children {
			nb, err := rewriteMoov(payload[c.off:c.end()], shift)
			if err != nil {
				return nil, err
			}
			out = append(out, nb...)
		}
		return append(boxHeader(h.typ, int64(len(out))), out...), nil
	case h.typ == "stco" || h.typ == "co64":
		return rewriteChunkOffsets(h.typ, payload, shift)
	}
	return b, nil
}

// rewriteChunkOffsets maps a stco or co64 table and writes it as stco when every new offset fits
// in 32 bits, else as co64.
func rewriteChunkOffsets(typ string, payload []byte, shift func(int64) (int64, error)) ([]byte, error) {
	width := 4
	if typ == "co64" {
		width = 8
	}
	if len(payload) < 8 {
		return nil, fmt.Errorf("%w: short %s", errNotMP4, typ)
	}
	count := int64(binary.BigEndian.Uint32(payload[4:8]))
	if count*int64(width) > int64(len(payload)-8) {
		return nil, fmt.Errorf("%w: %s lists %d offsets in %d bytes", errNotMP4, typ, count, len(payload)-8)
	}
	offsets := make([]int64, count)
	wide := false
	for i := range offsets {
		var off int64
		if width == 4 {
			off = int64(binary.BigEndian.Uint32(payload[8+4*i:]))
		} else {
			off = int64(binary.BigEndian.Uint64(payload[8+8*i:]))
		}
		n, err := shift(off)
		if err != nil {
			return nil, err
		}
		offsets[i] = n
		wide = wide || n > 0xFFFFFFFF
	}
	return chunkOffsetBox(payload[:4], offsets, wide), nil
}

// chunkOffsetBox encodes a stco (or, wide, a co64) with the given version and flags.
func chunkOffsetBox(versionFlags []byte, offsets []int64, wide bool) []byte {
	typ, width := "stco", 4
	if wide {
		typ, width = "co64", 8
	}
	body := make([]byte, 8+width*len(offsets))
	copy(body, versionFlags)
	binary.BigEndian.PutUint32(body[4:], uint32(len(offsets)))
	for i, off := range offsets {
		if wide {
			binary.BigEndian.PutUint64(body[8+8*i:], uint64(off))
		} else {
			binary.BigEndian.PutUint32(body[8+4*i:], uint32(off))
		}
	}
	return append(boxHeader(typ, int64(len(body))), body...)
}
