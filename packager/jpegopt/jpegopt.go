// Package jpegopt makes JPEG files smaller without changing a single decoded pixel, by
// re-coding their entropy-coded data with optimal Huffman tables (ITU-T T.81 Annex K.2),
// as `jpegtran -optimize` does.
//
// Every scan is decoded to its stream of Huffman symbols, extra bits and correction bits
// (no dequantisation or IDCT); the symbol frequencies of the scan give optimal tables,
// which are written in one DHT segment right before the scan's SOS, and the same stream is
// coded again with them. The quantised coefficients, and so the pixels, stay exactly the
// same.
//
// Handled: sequential Huffman coding (SOF0 baseline, SOF1 extended, 8-bit samples) and
// progressive Huffman coding (SOF2, 8-bit: DC first and refinement, AC first with EOB runs,
// AC refinement with correction bits), interleaved or not, 1 to 4 components with any
// sampling factors, and restart intervals (RSTn markers kept, renumbered identically).
//
// Returned unchanged (src, nil error): arithmetic coding (SOF9-SOF11, DAC), lossless and
// hierarchical processes (SOF3, SOF5-SOF7, SOF13-SOF15, DHP, EXP), 12-bit samples, frames
// whose height is given later by DNL, more than 4 components, scans that use a Huffman table
// the file never defines (Motion JPEG frames rely on the decoder's default tables),
// sequential scans with unusual Ss/Se/Ah/Al, unknown markers, and files already as small
// as jpegopt can make them.
//
// Kept byte for byte: APPn (Exif, ICC, XMP, JFIF, Adobe, ...) and COM segments, in their
// original order; the caller strips metadata if it wants to. DQT segments are kept too,
// less any quantization table no component uses. Dropped: the original DHT segments, fill
// bytes before markers, extraneous bytes between segments or inside the entropy-coded data
// before a marker, a stray RST after a scan, and anything after EOI; decoders ignore all of
// these.
//
// Like jpegtran, jpegopt also recodes the blocks an interleaved scan codes beyond the right
// and bottom edges of a component only to complete the last MCUs (T.81 A.2.4): they are
// never displayed, and coding them as copies of the previous block's DC without AC
// coefficients is cheaper.
//
// Input that decoders accept only with a warning (corrupt entropy-coded data, missing or
// out-of-order RST markers, a progression that breaks T.81 G.1.1.1.1, symbols decoders read
// in different ways) gives an error wrapping ErrMalformed rather than a file whose pixels
// could differ from what some decoder shows for the original.
//
// Cost: time is linear in the size of the input. Memory is the output plus the symbol
// stream of the largest scan (4 bytes per symbol, typically about 8 times the input) plus,
// for progressive files, 8 bytes per 8×8 block of each component that has AC scans. Every
// symbol and every block of a DC scan costs at least one input bit, so a small file cannot
// claim much memory, and MaxPixels bounds the frame size outright.
package jpegopt

import (
	"errors"
	"fmt"

	"drmpack/packager/jpeghuff"
)

// ErrMalformed is wrapped by the errors Optimize returns for input that is not a valid JPEG
// file (truncated, invalid Huffman codes, bad marker segments, ...).
var ErrMalformed = errors.New("jpegopt: malformed JPEG")

// ErrTooLarge is returned for frames of more than MaxPixels pixels.
var ErrTooLarge = errors.New("jpegopt: image too large")

// MaxPixels bounds width × height of the frames Optimize accepts. It caps the memory and time
// a tiny file declaring a huge frame can cost: progressive files need one 8-byte mask per
// 8×8 block of each component.
const MaxPixels = 1 << 28

// errUnsupported marks a valid file that uses a coding jpegopt leaves alone.
var errUnsupported = errors.New("jpegopt: unsupported JPEG coding")

var errTruncatedScan = malformed("entropy-coded data ends too early")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Optimize returns a losslessly re-encoded copy of src that is no larger than src; when it
// cannot make the file smaller (or the file uses a coding it does not handle, e.g.
// arithmetic coding), it returns src itself with a nil error. Malformed input returns an
// error.
func Optimize(src []byte) ([]byte, error) {
	out, err := optimize(src)
	if errors.Is(err, errUnsupported) {
		return src, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out) >= len(src) {
		return src, nil
	}
	return out, nil
}

// Marker codes (T.81 Table B.1).
const (
	markerSOF0 = 0xC0 // baseline sequential, Huffman
	markerSOF1 = 0xC1 // extended sequential, Huffman
	markerSOF2 = 0xC2 // progressive, Huffman
	markerDHT  = 0xC4
	markerRST0 = 0xD0
	markerRST7 = 0xD7
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerDQT  = 0xDB
	markerDRI  = 0xDD
	markerAPP0 = 0xE0
	markerAPPF = 0xEF
	markerCOM  = 0xFE
)

type component struct {
	id   byte
	h, v int // sampling factors
	// blocksW × blocksH blocks make up the component in a non-interleaved scan (T.81 A.2.2).
	blocksW, blocksH int
	// coefBit[k] is the Al of the last scan that coded coefficient k, -1 before the first
	// (progressive only; checks the progression of T.81 G.1.1.1.1).
	coefBit [64]int8
	// nonzero has one mask per block with bit k set once AC coefficient k is nonzero;
	// refinement scans need this history to be parsed (G.1.2.3). Allocated at the first
	// AC scan of the component.
	nonzero []uint64
}

type optimizer struct {
	src []byte
	out []byte

	sawFrame    bool
	progressive bool
	width       int
	height      int
	comps       []component
	hMax, vMax  int

	// Huffman tables currently defined, indexed by slot: class*4 + destination.
	dec             [8]*jpeghuff.Table
	restartInterval int
	// quantTablesUsed has bit i set when a frame component uses quantization table i.
	quantTablesUsed uint8
	sawScan         bool

	// Per scan, reused: the symbol stream and the frequencies of each table slot.
	tokens []uint32
	freq   [8][256]uint32
	enc    [8]encTable

	// buildTable turns a scan's symbol frequencies into a table (BITS, HUFFVAL); it is
	// optimalTable except in tests that need valid but poorly coded files as input.
	buildTable func(freq *[256]uint32) (counts [16]byte, values []byte)
}

func optimize(src []byte) ([]byte, error) {
	return recode(src, optimalTable)
}

// recode re-codes every scan of src with the Huffman tables buildTable makes.
func recode(src []byte, buildTable func(freq *[256]uint32) ([16]byte, []byte)) ([]byte, error) {
	if len(src) < 2 || src[0] != 0xFF || src[1] != markerSOI {
		return nil, malformed("missing SOI marker")
	}
	o := &optimizer{
		src:        src,
		out:        make([]byte, 0, len(src)),
		buildTable: buildTable,
		// Typical photos code about two symbols per byte; starting there avoids most of
		// the copying of a growing slice.
		tokens: make([]uint32, 0, 2*len(src)),
	}
	o.quantTablesUsed = o.frameQuantTables()
	o.out = append(o.out, 0xFF, markerSOI)
	pos := 2
	for {
		start, marker, next, err := o.nextMarker(pos)
		if err != nil {
			return nil, err
		}
		switch {
		case marker == markerEOI:
			if !o.sawScan {
				return nil, malformed("no scan before EOI")
			}
			return append(o.out, 0xFF, markerEOI), nil
		case marker >= markerRST0 && marker <= markerRST7:
			// Some encoders end a scan with a RST marker; decoders skip it.
			if !o.sawScan {
				return nil, malformed("RST marker outside a scan")
			}
			pos = next
			continue
		case marker == markerSOI:
			return nil, malformed("second SOI marker")
		case marker < markerSOF0:
			// TEM and the reserved codes; TEM has no length, so stop before reading one.
			return nil, errUnsupported
		}
		// Every other marker starts a segment with a 2-byte length (T.81 B.1.1.4).
		if next+2 > len(src) {
			return nil, malformed("truncated marker segment")
		}
		length := int(src[next])<<8 | int(src[next+1])
		end := next + length
		if length < 2 || end > len(src) {
			return nil, malformed("bad length of marker segment 0x%02X", marker)
		}
		payload := src[next+2 : end]
		switch {
		case marker == markerDHT:
			// Dropped: every scan gets its own optimal tables.
			err = o.defineHuffmanTables(payload)
		case marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2:
			err = o.defineFrame(marker, payload)
			o.out = append(o.out, src[start:end]...)
		case marker == markerDRI:
			if length != 4 {
				return nil, malformed("bad DRI length")
			}
			o.restartInterval = int(payload[0])<<8 | int(payload[1])
			o.out = append(o.out, src[start:end]...)
		case marker == markerSOS:
			end, err = o.scan(src[start:end], payload, end)
		case marker == markerDQT:
			err = o.copyQuantTables(src[start:end], payload)
		case marker == markerCOM, marker >= markerAPP0 && marker <= markerAPPF:
			o.out = append(o.out, src[start:end]...)
		default:
			return nil, errUnsupported
		}
		if err != nil {
			return nil, err
		}
		pos = end
	}
}

// nextMarker finds the marker at or after pos. It skips the fill bytes (0xFF) allowed
// before any marker (T.81 B.1.1.2) and, like libjpeg and Go's image/jpeg, stray bytes
// between segments. It returns the offset of the marker's 0xFF, its code and the offset
// after the code.
func (o *optimizer) nextMarker(pos int) (start int, marker byte, next int, err error) {
	src := o.src
	for pos < len(src) && src[pos] != 0xFF {
		pos++
	}
	for pos+1 < len(src) && src[pos+1] == 0xFF {
		pos++
	}
	if pos+1 >= len(src) {
		return 0, 0, 0, malformed("missing EOI marker")
	}
	if src[pos+1] == 0 {
		return 0, 0, 0, malformed("stuffed byte outside entropy-coded data")
	}
	return pos, src[pos+1], pos + 2, nil
}

// frameQuantTables walks the segments before the first scan and returns the mask of
// quantization tables the frame header references, or all four when it finds no frame
// header (the main pass then reports why).
func (o *optimizer) frameQuantTables() uint8 {
	for pos := 2; ; {
		_, marker, next, err := o.nextMarker(pos)
		if err != nil || marker == markerSOS || marker == markerEOI || next+2 > len(o.src) {
			return 0xF
		}
		end := next + (int(o.src[next])<<8 | int(o.src[next+1]))
		if end < next+2 || end > len(o.src) {
			return 0xF
		}
		if marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2 {
			p := o.src[next+2 : end]
			if len(p) < 6 || len(p) != 6+3*int(p[5]) {
				return 0xF
			}
			var used uint8
			for i := range int(p[5]) {
				used |= 1 << (p[8+3*i] & 3)
			}
			return used
		}
		pos = end
	}
}

// copyQuantTables copies a DQT segment (T.81 B.2.4.1) without the tables no component
// uses, which some encoders (image/jpeg for grayscale) write anyway; jpegtran drops them too.
func (o *optimizer) copyQuantTables(segment, p []byte) error {
	var kept []byte
	for rest := p; len(rest) > 0; {
		precision, dest := rest[0]>>4, rest[0]&15
		size := 1 + 64*(1+int(precision))
		if precision > 1 || dest > 3 || len(rest) < size {
			return malformed("bad DQT segment")
		}
		if o.quantTablesUsed&(1<<dest) != 0 {
			kept = append(kept, rest[:size]...)
		}
		rest = rest[size:]
	}
	switch {
	case len(kept) == len(p):
		o.out = append(o.out, segment...)
	case len(kept) > 0:
		o.out = append(o.out, 0xFF, markerDQT, byte((len(kept)+2)>>8), byte(len(kept)+2))
		o.out = append(o.out, kept...)
	}
	return nil
}

// defineHuffmanTables parses a DHT segment (T.81 B.2.4.2), which may hold several tables.
func (o *optimizer) defineHuffmanTables(p []byte) error {
	err := jpeghuff.ParseDHT(p, func(class, dest int, t *jpeghuff.Table) { o.dec[class*4+dest] = t })
	if err != nil {
		return malformed("%v", err)
	}
	return nil
}

func (o *optimizer) defineFrame(marker byte, p []byte) error {
	if o.sawFrame {
		return malformed("second frame header")
	}
	o.sawFrame = true
	if len(p) < 6 {
		return malformed("truncated frame header")
	}
	precision := p[0]
	o.height = int(p[1])<<8 | int(p[2])
	o.width = int(p[3])<<8 | int(p[4])
	n := int(p[5])
	if len(p) != 6+3*n || n == 0 {
		return malformed("bad frame header length")
	}
	if o.width == 0 {
		return malformed("zero image width")
	}
	if precision != 8 || o.height == 0 || n > 4 {
		return errUnsupported
	}
	if o.width*o.height > MaxPixels {
		return fmt.Errorf("%w: %dx%d", ErrTooLarge, o.width, o.height)
	}
	o.progressive = marker == markerSOF2
	o.comps = make([]component, n)
	for i := range o.comps {
		c := &o.comps[i]
		c.id = p[6+3*i]
		c.h, c.v = int(p[7+3*i]>>4), int(p[7+3*i]&15)
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || p[8+3*i] > 3 {
			return malformed("bad frame component")
		}
		for j := range i {
			if o.comps[j].id == c.id {
				return malformed("duplicate component identifier")
			}
		}
		for k := range c.coefBit {
			c.coefBit[k] = -1
		}
		o.hMax = max(o.hMax, c.h)
		o.vMax = max(o.vMax, c.v)
	}
	for i := range o.comps {
		c := &o.comps[i]
		c.blocksW = ceilDiv(ceilDiv(o.width*c.h, o.hMax), 8)
		c.blocksH = ceilDiv(ceilDiv(o.height*c.v, o.vMax), 8)
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
