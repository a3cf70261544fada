package jpegopt

import "math/bits"

// A token is one element of a scan's entropy-coded data, in order:
//   - a Huffman symbol: table slot << 24 | symbol << 16 | its extra bits (the extra bit
//     count follows from the slot's class and the symbol, see dcExtraLen and acExtraLen);
//   - raw bits (rawFlag): count << 16 | up to 16 bits, the correction bits of refinement
//     scans, which are not Huffman coded (T.81 G.1.2.1, G.1.2.3);
//   - a restart (restartFlag): the end of a restart interval (T.81 E.1.4).
const (
	rawFlag     = 1 << 31
	restartFlag = 1 << 30
)

// Table slots are class*4 + destination; class 0 is DC, class 1 is AC (T.81 B.2.4.2).
const acSlots = 4

type scanComponent struct {
	c      *component
	index  int // position in the scan header
	dcSlot int
	acSlot int
}

type scanHeader struct {
	comps  []scanComponent
	ss, se int // spectral selection
	ah, al int // successive approximation bit positions
}

// scan re-codes one scan: header is the whole SOS segment, p its payload and dataStart the
// offset of the entropy-coded data. It returns the offset of the marker after the scan.
func (o *optimizer) scan(header, p []byte, dataStart int) (int, error) {
	if !o.sawFrame {
		return 0, malformed("scan before frame header")
	}
	o.sawScan = true
	sh, err := o.parseScanHeader(p)
	if err != nil {
		return 0, err
	}
	end, err := o.decodeScan(sh, dataStart)
	if err != nil {
		return 0, err
	}
	o.encodeScan(sh, header)
	return end, nil
}

// parseScanHeader parses an SOS segment (T.81 B.2.3) and checks that the scan is one this
// package can parse.
func (o *optimizer) parseScanHeader(p []byte) (*scanHeader, error) {
	if len(p) < 1 {
		return nil, malformed("truncated scan header")
	}
	n := int(p[0])
	if n < 1 || n > 4 || len(p) != 4+2*n {
		return nil, malformed("bad scan header length")
	}
	sh := &scanHeader{
		ss: int(p[1+2*n]),
		se: int(p[2+2*n]),
		ah: int(p[3+2*n] >> 4),
		al: int(p[3+2*n] & 15),
	}
	blocksPerMCU := 0
	for i := range n {
		id, tables := p[1+2*i], p[2+2*i]
		var c *component
		for j := range o.comps {
			if o.comps[j].id == id {
				c = &o.comps[j]
			}
		}
		if c == nil {
			return nil, malformed("scan component not in frame")
		}
		for _, prev := range sh.comps {
			if prev.c == c {
				return nil, malformed("component twice in scan")
			}
		}
		dc, ac := int(tables>>4), int(tables&15)
		if dc > 3 || ac > 3 {
			return nil, malformed("bad Huffman table selector")
		}
		sh.comps = append(sh.comps, scanComponent{c: c, index: i, dcSlot: dc, acSlot: acSlots + ac})
		blocksPerMCU += c.h * c.v
	}
	if n > 1 && blocksPerMCU > 10 {
		return nil, malformed("more than 10 blocks per MCU")
	}

	if !o.progressive {
		// Sequential scans code all 64 coefficients at full precision (T.81 B.2.3).
		if sh.ss != 0 || sh.se != 63 || sh.ah != 0 || sh.al != 0 {
			return nil, errUnsupported
		}
		return sh, o.checkTables(sh, true, true)
	}

	// Progressive scans (T.81 G.1.1.1.1): a DC scan may interleave components, an AC scan
	// codes one component and a band within 1..63; a first scan (Ah = 0) codes coefficients
	// not coded before, a refinement scan adds exactly one bit below the previous Al. AC
	// scans need the component's DC first scan before them.
	if sh.ss == 0 && sh.se != 0 || sh.ss > sh.se || sh.se > 63 || sh.ss > 0 && n != 1 || sh.al > 13 {
		return nil, malformed("bad progressive scan parameters")
	}
	if sh.ah != 0 && sh.al != sh.ah-1 {
		return nil, malformed("bad successive approximation")
	}
	for _, sc := range sh.comps {
		c := sc.c
		if sh.ss > 0 && c.coefBit[0] < 0 {
			return nil, malformed("AC scan before the DC scan")
		}
		for k := sh.ss; k <= sh.se; k++ {
			if sh.ah == 0 && c.coefBit[k] >= 0 || sh.ah != 0 && int(c.coefBit[k]) != sh.ah {
				return nil, malformed("bad progression")
			}
			c.coefBit[k] = int8(sh.al)
		}
		if sh.ss > 0 && c.nonzero == nil {
			c.nonzero = make([]uint64, c.blocksW*c.blocksH)
		}
	}
	isDC := sh.ss == 0
	return sh, o.checkTables(sh, isDC && sh.ah == 0, !isDC)
}

// checkTables makes sure the Huffman tables a scan uses are defined. A file that relies on
// the default tables some decoders assume (Motion JPEG) is left alone.
func (o *optimizer) checkTables(sh *scanHeader, dc, ac bool) error {
	for _, sc := range sh.comps {
		if dc && o.dec[sc.dcSlot] == nil || ac && o.dec[sc.acSlot] == nil {
			return errUnsupported
		}
	}
	return nil
}

// scanDecoder holds the state of decoding one scan to tokens.
type scanDecoder struct {
	o      *optimizer
	sh     *scanHeader
	br     bitReader
	eobRun int // blocks left in the current EOB run (T.81 G.1.2.2)
	// Per scan component, the DC prediction (T.81 F.2.1.3.1) of the input and of the
	// output, which differ after padding blocks, and the last DC refinement bit.
	dcPred    [4]int32
	newDCPred [4]int32
	dcBit     [4]uint32
}

func (d *scanDecoder) symbol(slot int) (byte, error) {
	return d.br.decode(d.o.dec[slot])
}

func (d *scanDecoder) emit(slot int, sym byte, extra uint32) {
	d.o.tokens = append(d.o.tokens, uint32(slot)<<24|uint32(sym)<<16|extra)
}

// raw appends n (at most 16) correction bits, packing up to 16 into a token.
func (d *scanDecoder) raw(v uint32, n uint) {
	t := d.o.tokens
	if last := len(t) - 1; last >= 0 && t[last]&rawFlag != 0 {
		if count := uint(t[last] >> 16 & 31); count+n <= 16 {
			t[last] = rawFlag | uint32(count+n)<<16 | (t[last]&0xFFFF)<<n | v
			return
		}
	}
	d.o.tokens = append(t, rawFlag|uint32(n)<<16|v)
}

// Largest magnitude categories of 8-bit data (T.81 F.1.2.1.1, F.1.2.2.1).
const (
	maxDCSize = 11
	maxACSize = 10
)

// decodeScan decodes the scan's entropy-coded data from dataStart into o.tokens. It returns the offset of the marker that ends the scan.
func (o *optimizer) decodeScan(sh *scanHeader, dataStart int) (int, error) {
	o.tokens = o.tokens[:0]
	d := &scanDecoder{o: o, sh: sh, br: bitReader{data: o.src, pos: dataStart}}

	block := d.sequentialBlock
	if o.progressive {
		switch {
		case sh.ss == 0 && sh.ah == 0:
			block = d.dcFirstBlock
		case sh.ss == 0:
			block = d.dcRefineBlock
		case sh.ah == 0:
			block = d.acFirstBlock
		default:
			block = d.acRefineBlock
		}
	}

	// A scan of one component codes its blocks one by one, each an MCU, covering just the
	// component's area; an interleaved scan codes MCUs of h×v blocks per component, covering
	// whole MCUs (T.81 A.2.2, A.2.3).
	var mcus, mcusX int
	if len(sh.comps) == 1 {
		c := sh.comps[0].c
		mcus = c.blocksW * c.blocksH
	} else {
		mcusX = ceilDiv(o.width, 8*o.hMax)
		mcus = mcusX * ceilDiv(o.height, 8*o.vMax)
	}
	restarts := 0
	for m := range mcus {
		if o.restartInterval > 0 && m > 0 && m%o.restartInterval == 0 {
			// T.81 E.1.4 / F.2.1.3.1: padding, then RSTn with n counting modulo 8; DC
			// predictions and the EOB run start again after it (G.1.2.2).
			d.br.skipToMarker()
			_, marker, next, err := o.nextMarker(d.br.pos)
			if err != nil {
				return 0, err
			}
			if marker != markerRST0+byte(restarts%8) {
				return 0, malformed("missing or out-of-order RST marker")
			}
			restarts++
			d.br.pos = next
			d.eobRun = 0
			d.dcPred, d.newDCPred = [4]int32{}, [4]int32{}
			o.tokens = append(o.tokens, restartFlag)
		}
		for _, sc := range sh.comps {
			n := 1
			if len(sh.comps) > 1 {
				n = sc.c.h * sc.c.v
			}
			for i := range n {
				// Blocks of an interleaved MCU that lie wholly outside the component
				// (T.81 A.2.4) are never displayed; like jpegtran they become padding
				// blocks: the previous block's DC and no AC coefficients.
				padding := false
				if len(sh.comps) > 1 {
					bx := m%mcusX*sc.c.h + i%sc.c.h
					by := m/mcusX*sc.c.v + i/sc.c.h
					padding = bx >= sc.c.blocksW || by >= sc.c.blocksH
				}
				if err := block(sc, m, padding); err != nil {
					return 0, err
				}
			}
		}
	}
	// An EOB run longer than the blocks left in the scan (G.1.2.2) has no meaning: libjpeg
	// drops the rest, image/jpeg skips blocks of the next scan with it.
	if d.eobRun > 0 {
		return 0, malformed("EOB run past the end of the scan")
	}
	d.br.skipToMarker()
	return d.br.pos, nil
}

// sequentialBlock decodes one block of a sequential scan: a DC difference category with its
// extra bits (T.81 F.2.2.1), then run/size AC symbols up to EOB or coefficient 63
// (F.2.2.2).
func (d *scanDecoder) sequentialBlock(sc scanComponent, _ int, padding bool) error {
	if err := d.dcSymbol(sc, padding); err != nil {
		return err
	}
	mark := len(d.o.tokens)
	if err := d.sequentialAC(sc); err != nil {
		return err
	}
	if padding {
		d.o.tokens = append(d.o.tokens[:mark], uint32(sc.acSlot)<<24) // just EOB
	}
	return nil
}

// sequentialAC decodes the AC symbols of one block of a sequential scan.
func (d *scanDecoder) sequentialAC(sc scanComponent) error {
	for k := 1; k < 64; {
		rs, err := d.symbol(sc.acSlot)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			// Sequential coding has only EOB and ZRL; decoders read other RRRR0000 symbols
			// differently (libjpeg as EOB, image/jpeg as a progressive EOB run).
			if r != 0 && r != 15 {
				return malformed("bad AC symbol 0x%02X", rs)
			}
			d.emit(sc.acSlot, rs, 0)
			if r == 0 {
				return nil // EOB
			}
			k += 16 // ZRL
			continue
		}
		if k += r; k > 63 || s > maxACSize {
			return malformed("AC coefficient out of range")
		}
		extra, err := d.br.bits(s)
		if err != nil {
			return err
		}
		d.emit(sc.acSlot, rs, extra)
		k++
	}
	return nil
}

// dcSymbol decodes a DC difference category and its extra bits (T.81 F.2.2.1; G.1.2.1 for
// progressive DC first scans, which code DC >> Al the same way) and emits the difference
// from the output's prediction: zero for a padding block, which copies the previous DC.
func (d *scanDecoder) dcSymbol(sc scanComponent, padding bool) error {
	s, err := d.symbol(sc.dcSlot)
	if err != nil {
		return err
	}
	if s > maxDCSize {
		return malformed("DC difference out of range")
	}
	extra, err := d.br.bits(uint(s))
	if err != nil {
		return err
	}
	i := sc.index
	d.dcPred[i] += extend(extra, s)
	if padding {
		d.emit(sc.dcSlot, 0, 0)
		return nil
	}
	diff := d.dcPred[i] - d.newDCPred[i]
	d.newDCPred[i] = d.dcPred[i]
	if diff == int32(extend(extra, s)) {
		d.emit(sc.dcSlot, s, extra)
		return nil
	}
	// After padding blocks the difference changes; one a decoder of 8-bit data could not
	// have produced means the input's DC values are out of range.
	size, extra := category(diff)
	if size > maxDCSize {
		return malformed("DC coefficient out of range")
	}
	d.emit(sc.dcSlot, size, extra)
	return nil
}

// extend turns s extra bits into the signed difference they code (T.81 F.2.2.1, Figure
// F.12): values below 2^(s-1) are negative.
func extend(bits uint32, s byte) int32 {
	v := int32(bits)
	if s > 0 && v < 1<<(s-1) {
		v -= 1<<s - 1
	}
	return v
}

// category returns the magnitude category of v and its extra bits, the inverse of extend
// (T.81 F.1.2.1.1).
func category(v int32) (byte, uint32) {
	size := byte(bits.Len32(uint32(max(v, -v))))
	if v < 0 {
		v += 1<<size - 1
	}
	return size, uint32(v)
}

func (d *scanDecoder) dcFirstBlock(sc scanComponent, _ int, padding bool) error {
	return d.dcSymbol(sc, padding)
}

// dcRefineBlock reads the one uncoded bit a DC refinement scan adds per block (T.81
// G.1.2.1); a padding block repeats the bit of the block before it, whose DC it copies.
func (d *scanDecoder) dcRefineBlock(sc scanComponent, _ int, padding bool) error {
	bit, err := d.br.bits(1)
	if err != nil {
		return err
	}
	if padding {
		bit = d.dcBit[sc.index]
	}
	d.dcBit[sc.index] = bit
	d.raw(bit, 1)
	return nil
}

// acFirstBlock decodes one block of an AC first scan (T.81 G.1.2.2): like a sequential
// block within the band Ss..Se, except that EOBn symbols end a run of 2^n plus n extra
// bits blocks.
func (d *scanDecoder) acFirstBlock(sc scanComponent, blk int, _ bool) error {
	if d.eobRun > 0 {
		d.eobRun--
		return nil
	}
	nz := &sc.c.nonzero[blk]
	for k := d.sh.ss; k <= d.sh.se; {
		rs, err := d.symbol(sc.acSlot)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r == 15 {
				d.emit(sc.acSlot, rs, 0)
				k += 16 // ZRL
				continue
			}
			run, err := d.br.bits(uint(r))
			if err != nil {
				return err
			}
			d.emit(sc.acSlot, rs, run)
			d.eobRun = 1<<r + int(run) - 1
			return nil
		}
		// The coefficient is sent as value >> Al; keeping value within 15 bits also keeps it
		// nonzero in decoders that store 16-bit coefficients, so every decoder agrees on
		// which coefficients a later refinement scan corrects.
		if k += r; k > d.sh.se || s > maxACSize || int(s)+d.sh.al > 15 {
			return malformed("AC coefficient out of range")
		}
		extra, err := d.br.bits(s)
		if err != nil {
			return err
		}
		d.emit(sc.acSlot, rs, extra)
		*nz |= 1 << k
		k++
	}
	return nil
}

// acRefineBlock decodes one block of an AC refinement scan (T.81 G.1.2.3). Symbols code
// coefficients that become nonzero (size 1, one sign bit) after a run of coefficients that
// stay zero; every coefficient already nonzero that the run or the EOB passes over gets one
// correction bit, sent uncoded after the symbol's own bits.
func (d *scanDecoder) acRefineBlock(sc scanComponent, blk int, _ bool) error {
	nz := &sc.c.nonzero[blk]
	k := d.sh.ss
	if d.eobRun == 0 {
		for ; k <= d.sh.se; k++ {
			rs, err := d.symbol(sc.acSlot)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), uint(rs&15)
			if s > 1 {
				return malformed("bad refinement symbol")
			}
			if s == 0 && r != 15 {
				run, err := d.br.bits(uint(r))
				if err != nil {
					return err
				}
				d.emit(sc.acSlot, rs, run)
				d.eobRun = 1<<r + int(run)
				break
			}
			sign, err := d.br.bits(s)
			if err != nil {
				return err
			}
			d.emit(sc.acSlot, rs, sign)
			// Pass r coefficients that stay zero and stop on the next one (for ZRL, the
			// 16th zero, which the loop then steps over), correcting the nonzero ones on
			// the way; a run longer than the band ends the block.
			zeros := ^*nz & band(k, d.sh.se)
			for range r {
				zeros &= zeros - 1
			}
			stop := d.sh.se + 1
			if zeros != 0 {
				stop = bits.TrailingZeros64(zeros)
			}
			if err := d.corrections(*nz & band(k, stop-1)); err != nil {
				return err
			}
			k = stop
			if s == 1 {
				if k > d.sh.se {
					return malformed("refinement run past the band")
				}
				*nz |= 1 << k
			}
		}
	}
	if d.eobRun > 0 {
		// Inside an EOB run the rest of the band only gets correction bits.
		if err := d.corrections(*nz & band(k, d.sh.se)); err != nil {
			return err
		}
		d.eobRun--
	}
	return nil
}

// band returns the mask of coefficients lo..hi, empty when hi < lo.
func band(lo, hi int) uint64 {
	if hi < lo {
		return 0
	}
	return ^uint64(0) >> (63 - hi) &^ (1<<lo - 1)
}

// corrections reads the correction bits of the coefficients in mask, in order, and appends
// them as raw tokens.
func (d *scanDecoder) corrections(mask uint64) error {
	for n := uint(bits.OnesCount64(mask)); n > 0; {
		c := min(n, 16)
		v, err := d.br.bits(c)
		if err != nil {
			return err
		}
		d.raw(v, c)
		n -= c
	}
	return nil
}

// encodeScan writes one DHT segment with the optimal tables for the symbols of the scan
// (T.81 Annex K.2), the scan header unchanged, and the tokens coded with those tables.
func (o *optimizer) encodeScan(sh *scanHeader, header []byte) {
	o.freq = [8][256]uint32{}
	for _, t := range o.tokens {
		if t&(rawFlag|restartFlag) == 0 {
			o.freq[t>>24][byte(t>>16)]++
		}
	}
	enc := &o.enc
	dht := []byte{0xFF, markerDHT, 0, 0}
	for slot := range o.freq {
		if !o.scanUses(sh, slot) {
			continue
		}
		// No table here is empty: the first block of each component in the scan codes at
		// least one symbol with each of its tables (an EOB run starts with a symbol too).
		counts, values := o.buildTable(&o.freq[slot])
		extraLen := dcExtraLen
		if slot >= acSlots {
			extraLen = acExtraLen
		}
		enc[slot].assign(&counts, values, extraLen)
		dht = append(dht, byte(slot/acSlots)<<4|byte(slot%acSlots))
		dht = append(dht, counts[:]...)
		dht = append(dht, values...)
	}
	if len(dht) > 4 {
		dht[2], dht[3] = byte((len(dht)-2)>>8), byte(len(dht)-2)
		o.out = append(o.out, dht...)
	}
	o.out = append(o.out, header...)

	w := bitWriter{out: o.out}
	restarts := 0
	for _, t := range o.tokens {
		switch {
		case t&rawFlag != 0:
			w.write(t&0xFFFF, uint(t>>16&31))
		case t&restartFlag != 0:
			w.pad()
			w.out = append(w.out, 0xFF, markerRST0+byte(restarts%8))
			restarts++
		default:
			e, sym := &enc[t>>24&7], byte(t>>16)
			w.write(e.code[sym]|t&0xFFFF, uint(e.length[sym]))
		}
	}
	w.pad()
	o.out = w.out
}

// scanUses reports whether the scan codes symbols with the table in slot: DC tables in
// sequential and DC first scans, AC tables in sequential and AC scans.
func (o *optimizer) scanUses(sh *scanHeader, slot int) bool {
	isDC := o.progressive && sh.ss == 0
	isAC := o.progressive && sh.ss > 0
	for _, sc := range sh.comps {
		if slot == sc.dcSlot && (!o.progressive || isDC && sh.ah == 0) {
			return true
		}
		if slot == sc.acSlot && (!o.progressive || isAC) {
			return true
		}
	}
	return false
}
