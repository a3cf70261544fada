package jpegscale

import (
	"encoding/binary"

	"drmpack/packager/jpeghuff"
)

const lookupBits = jpeghuff.LookupBits

// huffTable is a Huffman table with, besides its symbol lookup, a lookup of whole coefficients.
type huffTable struct {
	*jpeghuff.Table
	// fast maps the next lookupBits bits, when they hold a whole symbol with a non-zero size s
	// and its s extra bits, to value<<16 | run<<8 | bits used (the value already extended,
	// the run from the symbol's high nibble, T.81 F.2.2.1-2); else 0. Most coefficients of a
	// photograph are small enough for it.
	fast [1 << lookupBits]int32
}

func newHuffTable(t *jpeghuff.Table) *huffTable {
	h := &huffTable{Table: t}
	for peek, e := range t.Lookup {
		l, sym := int(e>>8), e&0xFF
		size := int(sym & 15)
		if e == 0 || size == 0 || l+size > lookupBits {
			continue
		}
		v := int32(peek>>(lookupBits-l-size)) & (1<<size - 1)
		if v < 1<<(size-1) {
			v -= 1<<size - 1
		}
		h.fast[peek] = v<<16 | int32(sym>>4)<<8 | int32(l+size)
	}
	return h
}

// bitReader reads the entropy-coded data of a scan most significant bit first, removing the
// stuffed zero after each 0xFF (T.81 F.1.2.3). At a marker or the end of the data it supplies
// zero bits, as libjpeg does, and counts them so a scan that needed them can be refused.
type bitReader struct {
	data []byte
	pos  int
	// acc holds n valid bits at its top.
	acc uint64
	n   uint
	// atMarker is set once pos has reached a marker (or the end); fake counts the zero bytes
	// supplied since.
	atMarker bool
	fake     uint
}

// fill tops acc up to at least 57 valid bits.
func (br *bitReader) fill() {
	// Whole bytes at once while none of them is 0xFF, which is most of the time.
	if !br.atMarker && br.pos+8 <= len(br.data) {
		w := binary.BigEndian.Uint64(br.data[br.pos:])
		if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			take := (64 - br.n) / 8
			br.acc |= w >> (64 - 8*take) << (64 - br.n - 8*take)
			br.pos += int(take)
			br.n += 8 * take
			return
		}
	}
	for br.n <= 56 {
		var b byte
		switch {
		case br.atMarker:
			br.fake++
		case br.pos >= len(br.data):
			br.atMarker = true
			br.fake++
		case br.data[br.pos] != 0xFF:
			b = br.data[br.pos]
			br.pos++
		case br.pos+1 < len(br.data) && br.data[br.pos+1] == 0:
			b = 0xFF
			br.pos += 2
		default:
			br.atMarker = true
			br.fake++
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// overrun reports whether bits supplied past the data have been consumed.
func (br *bitReader) overrun() bool {
	return br.fake*8 > br.n
}

// decode reads one Huffman-coded symbol.
func (br *bitReader) decode(t *huffTable) (byte, error) {
	if br.n < 16 {
		br.fill()
	}
	if e := t.Lookup[br.acc>>(64-lookupBits)]; e != 0 {
		l := uint(e >> 8)
		br.acc <<= l
		br.n -= l
		return byte(e), nil
	}
	// fill leaves at least 57 bits, past the data too, so no match means an invalid code.
	sym, l := t.Long(br.acc, br.n)
	if l == 0 {
		return 0, malformed("invalid Huffman code")
	}
	br.acc <<= l
	br.n -= l
	return sym, nil
}

// bit reads one raw bit: the correction bits of progressive refinement scans (T.81 G.1.2.1,
// G.1.2.3).
func (br *bitReader) bit() bool {
	if br.n == 0 {
		br.fill()
	}
	b := br.acc>>63 != 0
	br.acc <<= 1
	br.n--
	return b
}

// bits reads s raw bits (s ≤ 16).
func (br *bitReader) bits(s uint) uint32 {
	if s == 0 {
		return 0
	}
	if br.n < s {
		br.fill()
	}
	v := uint32(br.acc >> (64 - s))
	br.acc <<= s
	br.n -= s
	return v
}

// receiveExtend reads s extra bits (s ≤ 16) and returns the signed value they code (T.81
// F.2.2.1, Figure F.12).
func (br *bitReader) receiveExtend(s uint) int32 {
	v := int32(br.bits(s))
	if s > 0 && v < 1<<(s-1) {
		v -= 1<<s - 1
	}
	return v
}

// restart drops the bits left before a marker and returns the offset of the marker, skipping
// anything that is not one.
func (br *bitReader) restart() int {
	pos := br.pos
	for pos+1 < len(br.data) && !(br.data[pos] == 0xFF && br.data[pos+1] != 0 && br.data[pos+1] != 0xFF) {
		pos++
	}
	return pos
}
