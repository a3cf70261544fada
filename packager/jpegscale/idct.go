package jpegscale

import (
	"math"
	"math/bits"
)

// The reduced IDCT, as libjpeg's jidctred.c defines it: each output pixel is the mean of the
// scale×scale pixels the full 8×8 IDCT (T.81 A.3.3) would give, before rounding. The full IDCT
// is separable and linear, so is the mean, and it collapses into one n×8 matrix per axis:
//
//	A[x][u] = ½ C(u) · (1/k) Σ_{j<k} cos((2(kx+j)+1)uπ/16),  k = 8/n, C(0) = 1/√2, else 1,
//
// with f(x, y) = Σu Σv A[y][v] A[x][u] F(v, u). Some frequencies average out to zero (u = 4
// for n = 4; 2, 4 and 6 for n = 2; all but DC for n = 1, where a pixel is F(0, 0)/8), and
// their coefficients are never kept. Averaging keeps the decoded picture equal to the full
// decode shrunk by whole boxes, so a caller can treat it as a box filter. n = 8 is the full
// IDCT, which subsampled chroma needs at 1/2 (see decoder.defineFrame).
type reducedBasis struct {
	n    int
	a    [8 * 8]float32 // A[x][u] at x*8+u
	used [8]bool        // A[·][u] is not all zero
}

var bases = [9]*reducedBasis{1: newReducedBasis(1), 2: newReducedBasis(2), 4: newReducedBasis(4), 8: newReducedBasis(8)}

func newReducedBasis(n int) *reducedBasis {
	b := &reducedBasis{n: n}
	k := 8 / n
	for x := range n {
		for u := range 8 {
			c := 1.0
			if u == 0 {
				c = 1 / math.Sqrt2
			}
			var s float64
			for j := range k {
				s += math.Cos(float64(2*(k*x+j)+1) * float64(u) * math.Pi / 16)
			}
			if v := c / 2 * s / float64(k); math.Abs(v) > 1e-9 {
				b.a[x*8+u] = float32(v)
				b.used[u] = true
			}
		}
	}
	return b
}

// blockBasis is the reduced IDCT of one component: x across (n pixels per block), y down.
type blockBasis struct {
	x, y *reducedBasis
	// keep has bit row*8+column set for the coefficients that contribute to the output.
	keep uint64
}

func newBlockBasis(nx, ny int) blockBasis {
	b := blockBasis{x: bases[nx], y: bases[ny]}
	for z := range 64 {
		if b.x.used[z&7] && b.y.used[z>>3] {
			b.keep |= 1 << z
		}
	}
	return b
}

// block holds the dequantized coefficients of one block in natural order, which rows have any
// non-zero one, and whether any AC one is.
type block struct {
	coef [64]int32
	rows uint8
	ac   bool
}

func (blk *block) set(z uint8, v int32) {
	blk.coef[z] = v
	blk.rows |= 1 << (z >> 3)
	blk.ac = blk.ac || z != 0
}

// idct writes the pixels of a block to dst (rows stride apart), level-shifted and clamped
// (T.81 A.3.1), and clears the block for the next one.
func (b blockBasis) idct(blk *block, dst []byte, stride int) {
	nx, ny := b.x.n, b.y.n
	if nx == 1 && ny == 1 || !blk.ac {
		// A block without AC coefficients (most of a smooth picture) is flat at its mean. (At
		// 1×1 no AC coefficient is ever kept.)
		v := clampLevel(float32(blk.coef[0]) / 8)
		for y := range ny {
			row := dst[y*stride : y*stride+nx]
			for x := range row {
				row[x] = v
			}
		}
		blk.coef[0], blk.rows, blk.ac = 0, 0, false
		return
	}
	// Rows first, only those with coefficients: tmp[v][x] = Σu A[x][u] F(v, u). Then each
	// such row adds A[y][v] tmp[v][x] to every pixel.
	var tmp [8][8]float32
	for r := blk.rows; r != 0; r &= r - 1 {
		v := bits.TrailingZeros8(r)
		row := (*[8]int32)(blk.coef[v*8:])
		f0, f1, f2, f3 := float32(row[0]), float32(row[1]), float32(row[2]), float32(row[3])
		f4, f5, f6, f7 := float32(row[4]), float32(row[5]), float32(row[6]), float32(row[7])
		for x := range nx {
			a := (*[8]float32)(b.x.a[x*8:])
			tmp[v][x] = a[0]*f0 + a[1]*f1 + a[2]*f2 + a[3]*f3 + a[4]*f4 + a[5]*f5 + a[6]*f6 + a[7]*f7
		}
		*row = [8]int32{}
	}
	var sum [8][8]float32
	for r := blk.rows; r != 0; r &= r - 1 {
		v := bits.TrailingZeros8(r)
		t := &tmp[v]
		for y := range ny {
			if w := b.y.a[y*8+v]; w != 0 {
				out := &sum[y]
				for x := range nx {
					out[x] += w * t[x]
				}
			}
		}
	}
	for y := range ny {
		out := dst[y*stride : y*stride+nx]
		for x := range out {
			out[x] = clampLevel(sum[y][x])
		}
	}
	blk.rows, blk.ac = 0, false
}

// clampLevel adds the level shift of 8-bit samples and rounds into 0..255.
func clampLevel(v float32) byte {
	v += 128.5
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v)
}
