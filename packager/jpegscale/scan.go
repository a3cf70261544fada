package jpegscale

// zigzag maps a coefficient's position in coding order to its row*8+column (T.81 Figure A.6).
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

type scanComponent struct {
	c      *component
	dc, ac *huffTable
}

// scanHeader is a parsed SOS segment (T.81 B.2.3).
type scanHeader struct {
	comps        []scanComponent
	ss, se       int // spectral selection
	ah, al       int // successive approximation bit positions
	blocksPerMCU int
	// restartInterval is the DRI in force when the scan starts: a later DRI, read while a
	// progressive scan is still being decoded, is for the scans after it.
	restartInterval int
}

// scan decodes one scan: p is the SOS payload and pos the offset of its entropy-coded data. It
// returns the offset of the marker after the scan.
func (d *decoder) scan(p []byte, pos int) (int, error) {
	sh, err := d.parseScanHeader(p)
	if err != nil {
		return 0, err
	}
	if d.progressive {
		return d.startProgressiveScan(sh, pos)
	}
	return d.sequentialScan(sh, pos)
}

func (d *decoder) parseScanHeader(p []byte) (*scanHeader, error) {
	if d.comps == nil {
		return nil, malformed("scan before frame header")
	}
	if len(p) < 1 {
		return nil, malformed("truncated scan header")
	}
	ns := int(p[0])
	if ns < 1 || ns > len(d.comps) || len(p) != 4+2*ns {
		return nil, malformed("bad scan header")
	}
	sh := &scanHeader{
		comps: make([]scanComponent, ns),
		ss:    int(p[1+2*ns]), se: int(p[2+2*ns]),
		ah: int(p[3+2*ns] >> 4), al: int(p[3+2*ns] & 15),
		restartInterval: d.restartInterval,
	}
	for i := range sh.comps {
		id, tables := p[1+2*i], p[2+2*i]
		var c *component
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return nil, malformed("scan component not in frame")
		}
		for _, prev := range sh.comps[:i] {
			if prev.c == c {
				return nil, malformed("component twice in scan")
			}
		}
		// libjpeg takes a component's quantization table when its first scan starts.
		if !c.scanned {
			if c.quant = d.quant[c.tq]; c.quant == nil {
				return nil, malformed("quantization table %d not defined", c.tq)
			}
		}
		c.scanned = true
		td, ta := tables>>4, tables&15
		if td > 3 || ta > 3 {
			return nil, malformed("bad Huffman table selector")
		}
		sh.comps[i] = scanComponent{c: c, dc: d.huff[td], ac: d.huff[4+ta]}
		sh.blocksPerMCU += c.h * c.v
	}
	if ns > 1 && sh.blocksPerMCU > 10 {
		return nil, malformed("more than 10 blocks per MCU")
	}
	// The tables a scan decodes with must be defined: a file that relies on the default tables
	// some decoders assume (Motion JPEG) is left to image/jpeg.
	needDC, needAC := sh.ss == 0 && sh.ah == 0, sh.se > 0
	for _, sc := range sh.comps {
		if needDC && sc.dc == nil || needAC && sc.ac == nil {
			return nil, ErrUnsupported
		}
	}
	return sh, nil
}

// walk runs block on every block of a scan in coding order, with the bit reader and the
// index of the block's component in the scan and its position in the component, and rowDone
// after each row of MCUs. It reads the restart markers between intervals and calls restart
// after each. It returns the offset of the marker after the scan.
func (d *decoder) walk(sh *scanHeader, pos int, block func(br *bitReader, i, bx, by int) error, rowDone, restart func()) (int, error) {
	// A scan of one component codes its blocks one by one, covering just the component's area;
	// an interleaved scan codes whole MCUs of h×v blocks per component (T.81 A.2.2, A.2.3).
	ns := len(sh.comps)
	mcusX, mcus := d.mcusX, d.mcusX*d.mcusY
	if ns == 1 {
		c := sh.comps[0].c
		mcusX, mcus = c.blocksW, c.blocksW*c.blocksH
	}
	br := &bitReader{data: d.src, pos: pos}
	restarts := 0
	for m := range mcus {
		if m > 0 && m%mcusX == 0 {
			// A file cut short stops here, not after decoding the rest of a frame it may
			// declare at 16384×16384 from zero bits.
			if br.overrun() {
				return 0, malformed("entropy-coded data ends too early")
			}
			rowDone()
		}
		if sh.restartInterval > 0 && m > 0 && m%sh.restartInterval == 0 {
			// T.81 E.1.4: RSTn with n counting modulo 8; predictions and EOB runs start again
			// after it (F.2.1.3.1, G.1.2.2).
			if br.overrun() {
				return 0, malformed("entropy-coded data ends too early")
			}
			at := br.restart()
			if at+1 >= len(d.src) || d.src[at+1] != markerRST0+byte(restarts%8) {
				return 0, malformed("missing or out-of-order RST marker")
			}
			restarts++
			*br = bitReader{data: d.src, pos: at + 2}
			restart()
		}
		mx, my := m%mcusX, m/mcusX
		for i, sc := range sh.comps {
			h, v := sc.c.h, sc.c.v
			if ns == 1 {
				h, v = 1, 1
			}
			for b := range h * v {
				if err := block(br, i, mx*h+b%h, my*v+b/h); err != nil {
					return 0, err
				}
			}
		}
	}
	rowDone()
	if br.overrun() {
		return 0, malformed("entropy-coded data ends too early")
	}
	return br.restart(), nil
}

// sequentialScan decodes a scan of a sequential frame, which codes all 64 coefficients at full
// precision (T.81 B.2.3), and runs the IDCT beside it.
func (d *decoder) sequentialScan(sh *scanHeader, pos int) (int, error) {
	if sh.ss != 0 || sh.se != 63 || sh.ah != 0 || sh.al != 0 {
		return 0, malformed("bad sequential scan parameters")
	}
	rowBlocks := d.mcusX * sh.blocksPerMCU
	if len(sh.comps) == 1 {
		rowBlocks = sh.comps[0].c.blocksW
	}
	idct := startIDCT(rowBlocks)
	defer idct.finish()
	row := idct.next()
	var pred [4]int32
	return d.walk(sh, pos, func(br *bitReader, i, bx, by int) error {
		sc := sh.comps[i]
		c := sc.c
		diff, err := dcDifference(br, sc.dc)
		if err != nil {
			return err
		}
		pred[i] += diff
		// The slot's block is all zeros: new, or cleared by its last IDCT.
		row = row[:len(row)+1]
		pb := &row[len(row)-1]
		pb.c, pb.off = c, c.offset(bx, by)
		pb.blk.set(0, pred[i]*c.quant[0])
		return acCoefficients(br, sc, &pb.blk)
	}, func() {
		idct.submit(row)
		row = idct.next()
	}, func() { pred = [4]int32{} })
}

// dcDifference decodes a DC difference category and its extra bits (T.81 F.2.2.1).
func dcDifference(br *bitReader, t *huffTable) (int32, error) {
	if br.n < 16 {
		br.fill()
	}
	// A DC category is at most 11: a symbol with a run nibble is invalid, left to decode.
	if f := t.fast[br.acc>>(64-lookupBits)]; f != 0 && f>>8&0xFF == 0 {
		l := uint(f & 0xFF)
		br.acc <<= l
		br.n -= l
		return f >> 16, nil
	}
	s, err := br.decode(t)
	if err != nil {
		return 0, err
	}
	if s > 11 {
		return 0, malformed("DC difference out of range")
	}
	return br.receiveExtend(uint(s)), nil
}

// acCoefficients decodes the AC coefficients of one block (T.81 F.2.2.2), keeping, dequantized,
// those the reduced IDCT uses. It is the decoder's inner loop, so it keeps the bit buffer in
// locals and refills it only when fewer bits remain than a symbol and its extra bits can take
// (16 + 10).
func acCoefficients(br *bitReader, sc scanComponent, blk *block) error {
	t, basis, quant := sc.ac, sc.c.basis, sc.c.quant
	acc, n := br.acc, br.n
	for k := 1; k < 64; {
		if n < 26 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		peek := acc >> (64 - lookupBits)
		if f := t.fast[peek]; f != 0 {
			l := uint(f & 0xFF)
			acc <<= l
			n -= l
			if k += int(f >> 8 & 0xFF); k > 63 {
				return malformed("AC coefficient out of range")
			}
			if z := zigzag[k]; basis.keep>>z&1 != 0 {
				blk.set(z, (f>>16)*quant[k])
			}
			k++
			continue
		}
		var rs byte
		if e := t.Lookup[peek]; e != 0 {
			l := uint(e >> 8)
			acc <<= l
			n -= l
			rs = byte(e)
		} else {
			br.acc, br.n = acc, n
			var err error
			if rs, err = br.decode(t); err != nil {
				return err
			}
			acc, n = br.acc, br.n
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r != 15 {
				break // EOB
			}
			k += 16 // ZRL
			continue
		}
		if k += r; k > 63 || s > 10 {
			return malformed("AC coefficient out of range")
		}
		v := int32(acc >> (64 - s))
		acc <<= s
		n -= s
		if v < 1<<(s-1) {
			v -= 1<<s - 1
		}
		if z := zigzag[k]; basis.keep>>z&1 != 0 {
			blk.set(z, v*quant[k])
		}
		k++
	}
	br.acc, br.n = acc, n
	return nil
}
