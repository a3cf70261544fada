package jpegscale

import (
	"math/bits"
	"runtime"
	"sync"
)

// unzigzag maps a coefficient's row*8+column to its position in coding order, the order
// quantization tables are stored in.
var unzigzag = func() (u [64]uint8) {
	for k, z := range zigzag {
		u[z] = uint8(k)
	}
	return u
}()

// A progressive scan reads and writes only its own band of its components' coefficients, so
// scans whose bands do not meet can be decoded at the same time: each scan is a goroutine that
// first waits for the earlier scans it depends on. With the usual scripts (luma and each chroma
// component in scans of their own) two cores decode a file in about two thirds of the time.
type pendingScan struct {
	sh   *scanHeader
	done chan struct{}
	err  error
}

// dependsOn reports whether scan s must follow the earlier scan e: they share a component and
// their bands overlap.
func (s *scanHeader) dependsOn(e *scanHeader) bool {
	if s.se < e.ss || e.se < s.ss {
		return false
	}
	for _, a := range s.comps {
		for _, b := range e.comps {
			if a.c == b.c {
				return true
			}
		}
	}
	return false
}

// startProgressiveScan checks a progressive scan's place in the progression (T.81 G.1.1.1.1)
// and starts decoding it, from pos, once the scans it depends on are done. It returns the
// offset of the marker after the scan, found without decoding.
func (d *decoder) startProgressiveScan(sh *scanHeader, pos int) (int, error) {
	// A DC scan codes coefficient 0 alone, an AC scan a band within 1..63 of one component; a
	// refinement adds the bit below the previous scan's. AC scans of a component follow its DC
	// first scan.
	if sh.ss == 0 && sh.se != 0 || sh.ss > sh.se || sh.se > 63 || sh.ss > 0 && len(sh.comps) != 1 || sh.al > 13 ||
		sh.ah != 0 && sh.al != sh.ah-1 {
		return 0, malformed("bad progressive scan parameters")
	}
	for _, sc := range sh.comps {
		c := sc.c
		if sh.ss > 0 && c.acDone[0] < 0 {
			return 0, malformed("AC scan before the DC scan")
		}
		for k := sh.ss; k <= sh.se; k++ {
			if sh.ah == 0 && c.acDone[k] >= 0 || sh.ah != 0 && int(c.acDone[k]) != sh.ah {
				return 0, malformed("bad progression")
			}
			c.acDone[k] = int8(sh.al)
		}
	}
	var deps []*pendingScan
	for _, e := range d.scans {
		if sh.dependsOn(e.sh) {
			deps = append(deps, e)
		}
	}
	ps := &pendingScan{sh: sh, done: make(chan struct{})}
	d.scans = append(d.scans, ps)
	go func() {
		defer close(ps.done)
		for _, e := range deps {
			if <-e.done; e.err != nil {
				ps.err = e.err
				return
			}
		}
		ps.err = d.progressiveScan(sh, pos)
	}()
	return d.scanEnd(pos), nil
}

// scanEnd is the offset of the first marker at or after pos other than RSTn: the end of the
// scan's entropy-coded data (T.81 B.1.1.5).
func (d *decoder) scanEnd(pos int) int {
	for ; pos+1 < len(d.src); pos++ {
		if d.src[pos] == 0xFF {
			if m := d.src[pos+1]; m != 0 && m != 0xFF && (m < markerRST0 || m > markerRST0+7) {
				return pos
			}
		}
	}
	return len(d.src)
}

// waitScans waits for every progressive scan started and returns the first error in file
// order.
func (d *decoder) waitScans() error {
	var first error
	for _, ps := range d.scans {
		<-ps.done
		if first == nil {
			first = ps.err
		}
	}
	return first
}

// progressiveScan decodes one scan of a progressive frame into the components' coefficients
// (T.81 G.1.2): the DC band first (interleaved or not) or one AC band of one component, each
// either a first scan of its coefficients' high bits or a refinement by one bit.
func (d *decoder) progressiveScan(sh *scanHeader, pos int) error {
	var pred [4]int32
	eobRun := 0
	var block func(br *bitReader, sc scanComponent, coef []int16, i int) error
	switch {
	case sh.ss == 0 && sh.ah == 0:
		block = func(br *bitReader, sc scanComponent, coef []int16, i int) error {
			diff, err := dcDifference(br, sc.dc)
			if err != nil {
				return err
			}
			pred[i] += diff
			coef[0] = int16(pred[i] << sh.al)
			return nil
		}
	case sh.ss == 0:
		block = func(br *bitReader, _ scanComponent, coef []int16, _ int) error {
			if br.bit() {
				coef[0] |= 1 << sh.al
			}
			return nil
		}
	case sh.ah == 0:
		block = func(br *bitReader, sc scanComponent, coef []int16, _ int) error {
			return acFirst(br, sc.ac, coef, sh, &eobRun)
		}
	default:
		block = func(br *bitReader, sc scanComponent, coef []int16, _ int) error {
			return acRefine(br, sc.ac, coef, sh, &eobRun)
		}
	}
	_, err := d.walk(sh, pos, func(br *bitReader, i, bx, by int) error {
		c := sh.comps[i].c
		at := 64 * (by*c.gridW + bx)
		return block(br, sh.comps[i], c.coefs[at:at+64:at+64], i)
	}, func() {}, func() { pred, eobRun = [4]int32{}, 0 })
	if err == nil && eobRun > 0 {
		// An EOB run longer than the blocks left in the scan (G.1.2.2) has no meaning.
		return malformed("EOB run past the end of the scan")
	}
	return err
}

// eobRunLength reads the length of an EOB run of class r (EOBr, T.81 G.1.2.2): 2^r plus r bits.
func eobRunLength(br *bitReader, r int) int {
	return 1<<r + int(br.bits(uint(r)))
}

// acFirst decodes one block of an AC first scan (T.81 G.1.2.2).
func acFirst(br *bitReader, t *huffTable, coef []int16, sh *scanHeader, eobRun *int) error {
	if *eobRun > 0 {
		*eobRun--
		return nil
	}
	for k := sh.ss; k <= sh.se; k++ {
		rs, err := br.decode(t)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r == 15 {
				k += 15 // ZRL: sixteen zeros, with the loop's own step
				continue
			}
			*eobRun = eobRunLength(br, r) - 1
			return nil
		}
		if k += r; k > sh.se || s > 10 {
			return malformed("AC coefficient out of range")
		}
		coef[zigzag[k]] = int16(br.receiveExtend(s) << sh.al)
	}
	return nil
}

// acRefine decodes one block of an AC refinement scan (T.81 G.1.2.3): each new coefficient is
// ±1 at the scan's bit, placed after r zero-history coefficients, and every coefficient already
// non-zero that the decoder passes gets a correction bit.
func acRefine(br *bitReader, t *huffTable, coef []int16, sh *scanHeader, eobRun *int) error {
	bit := int16(1) << sh.al
	refine := func(z uint8) {
		if br.bit() && coef[z]&bit == 0 {
			if coef[z] >= 0 {
				coef[z] += bit
			} else {
				coef[z] -= bit
			}
		}
	}
	k := sh.ss
	if *eobRun == 0 {
		for ; k <= sh.se; k++ {
			rs, err := br.decode(t)
			if err != nil {
				return err
			}
			r, s := int(rs>>4), rs&15
			var value int16
			switch {
			case s == 1:
				value = -bit
				if br.bit() {
					value = bit
				}
			case s != 0:
				return malformed("bad AC refinement symbol 0x%02X", rs)
			case r != 15:
				*eobRun = eobRunLength(br, r)
			}
			if *eobRun > 0 {
				break
			}
			// Skip r coefficients that are still zero (ZRL: 16 of them, value 0), refining
			// the non-zero ones on the way, then place the new coefficient.
			for ; k <= sh.se; k++ {
				z := zigzag[k]
				if coef[z] != 0 {
					refine(z)
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if k > sh.se {
				if value != 0 {
					return malformed("AC refinement past the band")
				}
				break
			}
			if value != 0 {
				coef[zigzag[k]] = value
			}
		}
	}
	if *eobRun > 0 {
		// The rest of the band in an EOB run: only correction bits.
		for ; k <= sh.se; k++ {
			if z := zigzag[k]; coef[z] != 0 {
				refine(z)
			}
		}
		*eobRun--
	}
	return nil
}

// reconstruct runs the IDCT on every block of a progressive frame once all its scans are in,
// on all cores.
func (d *decoder) reconstruct() {
	for ci := range d.comps {
		c := &d.comps[ci]
		rows := len(c.coefs) / 64 / c.gridW
		workers := min(runtime.GOMAXPROCS(0), rows)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var blk block
				for by := w; by < rows; by += workers {
					for bx := range c.gridW {
						coef := c.coefs[64*(by*c.gridW+bx):][:64]
						for keep := c.basis.keep; keep != 0; keep &= keep - 1 {
							z := uint8(bits.TrailingZeros64(keep))
							if v := coef[z]; v != 0 {
								blk.set(z, int32(v)*c.quant[unzigzag[z]])
							}
						}
						c.basis.idct(&blk, c.plane[c.offset(bx, by):], c.stride)
					}
				}
			}()
		}
		wg.Wait()
	}
}
