// Package jpegscale decodes baseline JPEG images straight to 1/2, 1/4 or 1/8 of their size, with
// a reduced inverse DCT on each block's low frequencies, as libjpeg's scaled decoding does.
//
// A thumbnail of a camera photograph needs a small fraction of its pixels. Every coefficient
// still has to be Huffman decoded, but a block at 1/scale costs an (8/scale)-point IDCT instead
// of an 8-point one, and colour conversion and resampling then see 1/scale² of the pixels.
// At 1/8 a block's one pixel is its DC coefficient, the exact average of the block.
//
// Handled: sequential (SOF0 baseline, SOF1 extended) and progressive (SOF2) Huffman coding
// with 8-bit samples, one component (grey) or three (YCbCr) with 4:4:4, 4:2:2, 4:2:0 or 4:4:0
// sampling, interleaved or not, with restart intervals. Anything else gives ErrUnsupported so
// the caller can decode the full-size image with image/jpeg instead.
//
// A sequential file is decoded in one pass, its IDCT running beside the Huffman decoding on
// another goroutine; memory is the output planes. A progressive file keeps every block's
// coefficients until its last scan (128 bytes per 8×8 block, as image/jpeg and libjpeg do).
package jpegscale

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"drmpack/packager/jpeghuff"
)

// ErrUnsupported is returned for valid JPEG files whose coding this package does not decode.
var ErrUnsupported = errors.New("jpegscale: unsupported JPEG coding")

// ErrMalformed is wrapped by the errors returned for input that is not a valid JPEG file.
var ErrMalformed = errors.New("jpegscale: malformed JPEG")

// MaxPixels bounds the width × height of the frames Decode accepts (134 million, above the 100
// megapixels DIMS allows by default); larger frames are ErrUnsupported.
const MaxPixels = 1 << 27

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Markers (T.81 Table B.1).
const (
	markerSOF0 = 0xC0
	markerSOF1 = 0xC1
	markerSOF2 = 0xC2
	markerDHT  = 0xC4
	markerRST0 = 0xD0
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerDQT  = 0xDB
	markerDNL  = 0xDC
	markerDRI  = 0xDD
	markerAPP0 = 0xE0
	markerAPPE = 0xEE
)

type component struct {
	id    byte
	h, v  int // sampling factors
	tq    int // quantization table selector
	quant *[64]int32
	// blocksW×blocksH blocks cover the component's samples (T.81 A.1.1); the plane holds the
	// blocks of whole MCUs, each decoded to basis.x.n × basis.y.n pixels.
	blocksW, blocksH int
	basis            blockBasis
	plane            []byte
	stride           int
	scanned          bool
	// A progressive frame keeps every block's coefficients (natural order, not dequantized)
	// until its last scan: blocks of whole MCUs, gridW to a row. acDone counts, per
	// coefficient, the successive-approximation bit its scans have reached (T.81 G.1.1.1.1), -1
	// before the first.
	coefs  []int16
	gridW  int
	acDone [64]int8
}

// offset is where the pixels of block bx, by begin in the plane.
func (c *component) offset(bx, by int) int {
	return by*c.basis.y.n*c.stride + bx*c.basis.x.n
}

type decoder struct {
	src             []byte
	n               int // pixels per block side in the output: 8/scale
	quant           [4]*[64]int32
	huff            [8]*huffTable // class*4 + destination, class 0 DC and 1 AC
	comps           []component
	width, height   int
	hMax, vMax      int
	mcusX, mcusY    int
	restartInterval int
	adobeTransform  int // -1 without an Adobe APP14 segment
	progressive     bool
	scans           []*pendingScan // of a progressive frame, in file order
}

// Decode decodes a JPEG file at 1/scale of its size; scale is 2, 4 or 8. An image w×h becomes
// ⌈w/scale⌉×⌈h/scale⌉, an *image.YCbCr for colour files and an *image.Gray for grey ones.
func Decode(src []byte, scale int) (image.Image, error) {
	if scale != 2 && scale != 4 && scale != 8 {
		return nil, fmt.Errorf("jpegscale: scale %d is not 2, 4 or 8", scale)
	}
	d := &decoder{src: src, n: 8 / scale, adobeTransform: -1}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.image(scale)
}

func (d *decoder) decode() error {
	if len(d.src) < 2 || d.src[0] != 0xFF || d.src[1] != markerSOI {
		return malformed("no SOI marker")
	}
	err := d.segments()
	// Progressive scans still running write into the coefficients; they end before the decoder
	// does, whatever happened.
	if scanErr := d.waitScans(); err == nil {
		err = scanErr
	}
	if err != nil {
		return err
	}
	if d.progressive {
		d.reconstruct()
	}
	return nil
}

// segments reads the file's marker segments up to EOI, decoding or starting each scan.
func (d *decoder) segments() error {
	pos := 2
	for {
		marker, next, err := d.nextMarker(pos)
		if err != nil {
			return err
		}
		if marker == markerEOI {
			break
		}
		if marker == markerSOI || marker >= markerRST0 && marker < markerRST0+8 || marker == 0x01 {
			return malformed("unexpected marker 0x%02X", marker)
		}
		if next+2 > len(d.src) {
			return malformed("truncated segment")
		}
		size := int(binary.BigEndian.Uint16(d.src[next:]))
		if size < 2 || next+size > len(d.src) {
			return malformed("bad segment length")
		}
		p := d.src[next+2 : next+size]
		pos = next + size
		switch {
		case marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2:
			d.progressive = marker == markerSOF2
			err = d.defineFrame(p)
		case marker >= 0xC3 && marker <= 0xCF && marker != markerDHT && marker != 0xC8 && marker != 0xCC:
			err = ErrUnsupported // lossless, hierarchical, arithmetic
		case marker == 0xCC || marker == markerDNL:
			err = ErrUnsupported
		case marker == markerDHT:
			err = d.defineHuffmanTables(p)
		case marker == markerDQT:
			err = d.defineQuantTables(p)
		case marker == markerDRI:
			if len(p) != 2 {
				return malformed("bad DRI length")
			}
			d.restartInterval = int(binary.BigEndian.Uint16(p))
		case marker == markerAPPE:
			if len(p) >= 12 && string(p[:5]) == "Adobe" {
				d.adobeTransform = int(p[11])
			}
		case marker == markerSOS:
			pos, err = d.scan(p, pos)
		}
		if err != nil {
			return err
		}
	}
	if d.comps == nil {
		return malformed("no frame")
	}
	for _, c := range d.comps {
		if !c.scanned {
			return malformed("component %d in no scan", c.id)
		}
	}
	// Three components are RGB rather than YCbCr when an Adobe segment says so (it may follow
	// the frame header) or their ids spell it, as image/jpeg and libjpeg read them.
	if len(d.comps) == 3 && (d.adobeTransform == 0 ||
		d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B') {
		return ErrUnsupported
	}
	return nil
}

// nextMarker finds the marker at pos, skipping fill bytes (T.81 B.1.1.2), and returns it and the
// offset after it.
func (d *decoder) nextMarker(pos int) (byte, int, error) {
	if pos >= len(d.src) || d.src[pos] != 0xFF {
		return 0, 0, malformed("no marker at offset %d", pos)
	}
	for pos < len(d.src) && d.src[pos] == 0xFF {
		pos++
	}
	if pos >= len(d.src) {
		return 0, 0, malformed("no EOI marker")
	}
	return d.src[pos], pos + 1, nil
}

func (d *decoder) defineFrame(p []byte) error {
	if d.comps != nil {
		return malformed("second frame header")
	}
	if len(p) < 6 {
		return malformed("truncated frame header")
	}
	if p[0] != 8 {
		return ErrUnsupported // 12-bit samples
	}
	d.height = int(binary.BigEndian.Uint16(p[1:]))
	d.width = int(binary.BigEndian.Uint16(p[3:]))
	nf := int(p[5])
	if d.height == 0 {
		return ErrUnsupported // height given later by DNL
	}
	if d.width == 0 || nf == 0 || len(p) != 6+3*nf {
		return malformed("bad frame header")
	}
	if nf != 1 && nf != 3 {
		return ErrUnsupported
	}
	if d.width*d.height > MaxPixels {
		return ErrUnsupported
	}
	d.comps = make([]component, nf)
	for i := range d.comps {
		c := &d.comps[i]
		c.id, c.h, c.v, c.tq = p[6+3*i], int(p[7+3*i]>>4), int(p[7+3*i]&15), int(p[8+3*i])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return malformed("bad component parameters")
		}
		for _, prev := range d.comps[:i] {
			if prev.id == c.id {
				return malformed("component id twice")
			}
		}
		d.hMax, d.vMax = max(d.hMax, c.h), max(d.vMax, c.v)
	}
	if nf == 1 {
		// A lone component is coded as its own blocks whatever its factors say (T.81 A.2.2).
		d.comps[0].h, d.comps[0].v, d.hMax, d.vMax = 1, 1, 1, 1
	} else if !supportedSampling(d.comps) {
		return ErrUnsupported
	}
	d.mcusX, d.mcusY = ceilDiv(d.width, 8*d.hMax), ceilDiv(d.height, 8*d.vMax)
	// Subsampled chroma is decoded with a larger IDCT, so that every plane comes out at the
	// size of the picture, as libjpeg does when it scales: a chroma block of 4:2:0 at 1/2 gives
	// 8×8 pixels where a luma block gives 4×4. image.YCbCr would otherwise repeat each chroma
	// sample over 2×2 pixels: the reduced picture's colour would be coarser than its
	// full-size decode, box-shrunk, has.
	for i := range d.comps {
		c := &d.comps[i]
		c.blocksW = ceilDiv(ceilDiv(d.width*c.h, d.hMax), 8)
		c.blocksH = ceilDiv(ceilDiv(d.height*c.v, d.vMax), 8)
		c.basis = newBlockBasis(d.n*d.hMax/c.h, d.n*d.vMax/c.v)
		c.stride = d.mcusX * d.hMax * d.n
		c.plane = make([]byte, c.stride*d.mcusY*d.vMax*d.n)
		if d.progressive {
			c.gridW = d.mcusX * c.h
			c.coefs = make([]int16, 64*c.gridW*d.mcusY*c.v)
			for k := range c.acDone {
				c.acDone[k] = -1
			}
		}
	}
	return nil
}

// supportedSampling: chroma at 1×1, luma at 1 or 2 either way (4:4:4, 4:2:2, 4:2:0, 4:4:0),
// so chroma needs at most twice the luma's IDCT size.
func supportedSampling(comps []component) bool {
	return comps[1].h == 1 && comps[1].v == 1 && comps[2].h == 1 && comps[2].v == 1 &&
		comps[0].h <= 2 && comps[0].v <= 2
}

// defineQuantTables reads a DQT segment (T.81 B.2.4.1); tables stay in zigzag order.
func (d *decoder) defineQuantTables(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		if pq > 1 || tq > 3 {
			return malformed("bad quantization table")
		}
		size := 64 << pq
		if len(p) < 1+size {
			return malformed("truncated quantization table")
		}
		q := new([64]int32)
		for k := range q {
			if pq == 0 {
				q[k] = int32(p[1+k])
			} else {
				q[k] = int32(binary.BigEndian.Uint16(p[1+2*k:]))
			}
		}
		d.quant[tq] = q
		p = p[1+size:]
	}
	return nil
}

// defineHuffmanTables reads a DHT segment (T.81 B.2.4.2).
func (d *decoder) defineHuffmanTables(p []byte) error {
	err := jpeghuff.ParseDHT(p, func(class, dest int, t *jpeghuff.Table) { d.huff[class*4+dest] = newHuffTable(t) })
	if err != nil {
		return malformed("%v", err)
	}
	return nil
}

// image wraps the decoded planes, cropped to the scaled frame.
func (d *decoder) image(scale int) (image.Image, error) {
	r := image.Rect(0, 0, ceilDiv(d.width, scale), ceilDiv(d.height, scale))
	y := &d.comps[0]
	if len(d.comps) == 1 {
		return &image.Gray{Pix: y.plane, Stride: y.stride, Rect: r}, nil
	}
	return &image.YCbCr{
		Y: y.plane, Cb: d.comps[1].plane, Cr: d.comps[2].plane,
		YStride: y.stride, CStride: y.stride,
		SubsampleRatio: image.YCbCrSubsampleRatio444, Rect: r,
	}, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
