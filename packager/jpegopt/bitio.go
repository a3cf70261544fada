package jpegopt

import "drmpack/packager/jpeghuff"

// bitReader reads the entropy-coded data of a scan, most significant bit first, removing
// the 0x00 stuffed after every 0xFF data byte (T.81 F.1.2.3). It stops at the first
// marker and never consumes it, so the caller can check RSTn and find the end of the scan.
type bitReader struct {
	data []byte
	pos  int // next byte of data to load
	// acc holds n not yet consumed bits at its top; the bits below them are zero.
	acc      uint64
	n        uint
	atMarker bool // a marker (or the end of data) ends the current entropy-coded segment
}

// fill loads bytes until at least 57 bits are buffered or the segment ends.
func (br *bitReader) fill() {
	for br.n <= 56 && !br.atMarker {
		if br.pos >= len(br.data) {
			br.atMarker = true
			return
		}
		b := br.data[br.pos]
		if b == 0xFF {
			if br.pos+1 >= len(br.data) || br.data[br.pos+1] != 0 {
				br.atMarker = true
				return
			}
			br.pos++
		}
		br.pos++
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// bits returns the next s (at most 16) bits as an unsigned number.
func (br *bitReader) bits(s uint) (uint32, error) {
	if s == 0 {
		return 0, nil
	}
	if br.n < s {
		br.fill()
		if br.n < s {
			return 0, errTruncatedScan
		}
	}
	v := uint32(br.acc >> (64 - s))
	br.acc <<= s
	br.n -= s
	return v, nil
}

// decode reads one Huffman-coded symbol (T.81 F.2.2.3).
func (br *bitReader) decode(t *jpeghuff.Table) (byte, error) {
	if br.n < 16 {
		br.fill()
	}
	if e := t.Lookup[br.acc>>(64-jpeghuff.LookupBits)]; e != 0 {
		if l := uint(e >> 8); l <= br.n {
			br.acc <<= l
			br.n -= l
			return byte(e), nil
		}
		return 0, errTruncatedScan
	}
	sym, l := t.Long(br.acc, br.n)
	switch {
	case l > 0:
		br.acc <<= l
		br.n -= l
		return sym, nil
	case br.n < 16:
		return 0, errTruncatedScan
	}
	return 0, malformed("invalid Huffman code")
}

// skipToMarker drops the buffered bits (the padding that ends a segment, T.81 F.1.2.3)
// and moves pos to the 0xFF that starts the next marker. Bytes in between are extraneous
// data that decoders skip too; leaving them out changes no pixel.
func (br *bitReader) skipToMarker() {
	br.acc, br.n, br.atMarker = 0, 0, false
	for br.pos < len(br.data) {
		if br.data[br.pos] == 0xFF && br.pos+1 < len(br.data) && br.data[br.pos+1] != 0 {
			return
		}
		br.pos++
	}
}

// bitWriter writes entropy-coded data, stuffing a 0x00 after every 0xFF byte (T.81
// F.1.2.3).
type bitWriter struct {
	out []byte
	acc uint64 // the low n bits are pending output
	n   uint
}

// write appends the low k bits of v (k at most 32, v < 1<<k).
func (w *bitWriter) write(v uint32, k uint) {
	w.acc = w.acc<<k | uint64(v)
	w.n += k
	if w.n < 32 {
		return
	}
	w.n -= 32
	word := uint32(w.acc >> w.n)
	if inv := ^word; (inv-0x01010101)&^inv&0x80808080 == 0 {
		// No 0xFF byte among the four (no zero byte in the complement), nothing to stuff.
		w.out = append(w.out, byte(word>>24), byte(word>>16), byte(word>>8), byte(word))
		return
	}
	for shift := 24; shift >= 0; shift -= 8 {
		b := byte(word >> shift)
		w.out = append(w.out, b)
		if b == 0xFF {
			w.out = append(w.out, 0)
		}
	}
}

// pad completes the last byte of a segment with 1 bits, as T.81 F.1.2.3 requires before a
// marker, and writes out all pending bits.
func (w *bitWriter) pad() {
	if k := w.n % 8; k != 0 {
		w.acc = w.acc<<(8-k) | (1<<(8-k) - 1)
		w.n += 8 - k
	}
	for w.n >= 8 {
		w.n -= 8
		b := byte(w.acc >> w.n)
		w.out = append(w.out, b)
		if b == 0xFF {
			w.out = append(w.out, 0)
		}
	}
	w.acc = 0
}
