package dims

import (
	"image"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Resampling is a separable Lanczos-3 filter (ImageMagick's default for photographs) on
// premultiplied RGBA, so transparent pixels lend no colour to their neighbours. It works on
// the gamma-encoded sRGB values as ImageMagick's -resize, browsers and mod_dims do: linear-light
// resampling keeps fine bright-on-dark detail slightly brighter, but costs two conversions per
// pixel and would disagree with the reference the tests compare against.

const lanczosLobes = 3

func lanczos(x float64) float64 {
	if x == 0 {
		return 1
	}
	if x <= -lanczosLobes || x >= lanczosLobes {
		return 0
	}
	px := math.Pi * x
	return lanczosLobes * math.Sin(px) * math.Sin(px/lanczosLobes) / (px * px)
}

// taps are the filter weights of one axis: output i reads len(weights[i]) inputs from start[i].
type taps struct {
	start   []int
	weights [][]float32
}

// makeTaps maps dstN outputs onto srcN inputs that span extent input pixels (extent < srcN
// when one input is a partial box of boxShrink) starting offset pixels in (a partial first
// box that an EXIF flip moved to the front).
func makeTaps(srcN int, extent, offset float64, dstN int) taps {
	scale := float64(dstN) / extent
	// Shrinking widens the filter so that every input pixel contributes (no aliasing).
	blur := math.Max(1/scale, 1)
	support := lanczosLobes * blur
	t := taps{start: make([]int, dstN), weights: make([][]float32, dstN)}
	for i := range dstN {
		center := (float64(i)+0.5)/scale + offset
		lo := max(int(math.Floor(center-support)), 0)
		hi := min(int(math.Ceil(center+support)), srcN)
		w := make([]float32, 0, hi-lo)
		var sum float64
		for j := lo; j < hi; j++ {
			v := lanczos((float64(j) + 0.5 - center) / blur)
			w = append(w, float32(v))
			sum += v
		}
		if sum != 0 {
			for k := range w {
				w[k] = float32(float64(w[k]) / sum)
			}
		}
		t.start[i], t.weights[i] = lo, w
	}
	return t
}

// parallelRows runs f over [0, n) split into one band per CPU.
func parallelRows(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		lo, hi := n*k/workers, n*(k+1)/workers
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// resample scales src (origin 0,0) to w×h. A large reduction first averages integer boxes
// down to between three and six times the target, as libvips does: Lanczos over the remaining
// factor gives the same picture (see TestResampleQualityMatchesImageMagick) for a fraction of
// the taps, since the filter's width grows with the reduction.
func resample(src *image.RGBA, w, h int) *image.RGBA {
	extentX, extentY := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	if kx, ky := shrinkFactors(src.Rect.Dx(), src.Rect.Dy(), w, h); kx > 1 || ky > 1 {
		src = boxShrink(src, kx, ky)
		extentX, extentY = extentX/float64(kx), extentY/float64(ky)
	}
	return lanczosResample(src, extentX, extentY, 0, 0, w, h)
}

// shrinkFactors are the integer box sizes that take sw×sh to between three and six times w×h.
func shrinkFactors(sw, sh, w, h int) (int, int) {
	return max(sw/(3*w), 1), max(sh/(3*h), 1)
}

// resampleChunkRows is how many output rows a worker makes from one horizontally filtered strip
// of the source: the strip, not the whole image, is what the filter holds in float32, and the
// few rows two strips share are filtered twice.
const resampleChunkRows = 128

// lanczosResample filters src, whose pixels span extentX×extentY from offsetX, offsetY, to w×h.
func lanczosResample(src *image.RGBA, extentX, extentY, offsetX, offsetY float64, w, h int) *image.RGBA {
	sw := src.Rect.Dx()
	xt, yt := makeTaps(sw, extentX, offsetX, w), makeTaps(src.Rect.Dy(), extentY, offsetY, h)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	parallelRows(h, func(lo, hi int) {
		var strip []float32
		acc := make([]float32, w*4)
		for y0 := lo; y0 < hi; y0 += resampleChunkRows {
			y1 := min(y0+resampleChunkRows, hi)
			// Taps move forward with y, so these output rows read source rows [first, last).
			first, last := yt.start[y0], yt.start[y1-1]+len(yt.weights[y1-1])
			strip = horizontalPass(strip[:0], src, first, last, xt, w)
			for y := y0; y < y1; y++ {
				clear(acc)
				for k, wt := range yt.weights[y] {
					r := yt.start[y] + k - first
					row := strip[r*w*4 : (r+1)*w*4]
					row = row[:len(acc)]
					for i, v := range row {
						acc[i] += wt * v
					}
				}
				out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
				for i := 0; i < len(out); i += 4 {
					a := clamp8(acc[i+3], 255)
					out[i+0] = clamp8(acc[i+0], a)
					out[i+1] = clamp8(acc[i+1], a)
					out[i+2] = clamp8(acc[i+2], a)
					out[i+3] = a
				}
			}
		}
	})
	return dst
}

// horizontalPass appends source rows [first, last) filtered to w pixels, as float32 so that the
// vertical pass does not clip the negative lobes a second time.
func horizontalPass(strip []float32, src *image.RGBA, first, last int, xt taps, w int) []float32 {
	sw := src.Rect.Dx()
	strip = slices.Grow(strip, (last-first)*w*4)[:(last-first)*w*4]
	for y := first; y < last; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+sw*4]
		out := strip[(y-first)*w*4 : (y-first+1)*w*4]
		for x := range w {
			var r, g, b, a float32
			p := xt.start[x] * 4
			for _, wt := range xt.weights[x] {
				px := row[p : p+4 : p+4]
				r += wt * float32(px[0])
				g += wt * float32(px[1])
				b += wt * float32(px[2])
				a += wt * float32(px[3])
				p += 4
			}
			o := out[x*4 : x*4+4 : x*4+4]
			o[0], o[1], o[2], o[3] = r, g, b, a
		}
	}
	return strip
}

// boxShrink averages kx×ky blocks; the last block of a row or column may be partial.
func boxShrink(src *image.RGBA, kx, ky int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	w, h := (sw+kx-1)/kx, (sh+ky-1)/ky
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	parallelRows(h, func(lo, hi int) {
		acc := make([]uint32, w*4)
		for y := lo; y < hi; y++ {
			clear(acc)
			y0, y1 := y*ky, min(y*ky+ky, sh)
			for sy := y0; sy < y1; sy++ {
				row := src.Pix[sy*src.Stride : sy*src.Stride+sw*4]
				// One pass along the row, summing in registers per output pixel.
				for x, i := 0, 0; x < w; x++ {
					end := min((x+1)*kx, sw) * 4
					var r, g, b, a uint32
					for ; i < end; i += 4 {
						px := row[i : i+4 : i+4]
						r += uint32(px[0])
						g += uint32(px[1])
						b += uint32(px[2])
						a += uint32(px[3])
					}
					s := acc[x*4 : x*4+4 : x*4+4]
					s[0] += r
					s[1] += g
					s[2] += b
					s[3] += a
				}
			}
			out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
			for x := range w {
				n := uint32((y1 - y0) * (min(x*kx+kx, sw) - x*kx))
				for c := range 4 {
					out[x*4+c] = uint8((acc[x*4+c] + n/2) / n)
				}
			}
		}
	})
	return dst
}

// shrinkYCbCr box-averages every plane of a decoded JPEG by kx×ky before any conversion to
// RGBA: the conversion is affine, so averaging first gives the same colours, and a 4000×3000
// photograph is then converted at a quarter of its size or less. The subsampling ratio is kept.
func shrinkYCbCr(src *image.YCbCr, kx, ky int) *image.YCbCr {
	b := src.Rect
	dst := image.NewYCbCr(image.Rect(0, 0, (b.Dx()+kx-1)/kx, (b.Dy()+ky-1)/ky), src.SubsampleRatio)
	// Plane sizes follow from the rectangles; a chroma plane of the source is its stride wide at
	// most and (len/stride) rows high.
	boxPlane(dst.Y, dst.YStride, dst.Rect.Dx(), dst.Rect.Dy(), src.Y[src.YOffset(b.Min.X, b.Min.Y):], src.YStride, b.Dx(), b.Dy(), kx, ky)
	cw, ch := chromaSize(dst)
	scw, sch := chromaSize(src)
	off := src.COffset(b.Min.X, b.Min.Y)
	boxPlane(dst.Cb, dst.CStride, cw, ch, src.Cb[off:], src.CStride, scw, sch, kx, ky)
	boxPlane(dst.Cr, dst.CStride, cw, ch, src.Cr[off:], src.CStride, scw, sch, kx, ky)
	return dst
}

// chromaSize is the size of img's chroma planes.
func chromaSize(img *image.YCbCr) (int, int) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	switch img.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

// boxPlane averages kx×ky blocks of one 8-bit plane; a destination pixel whose block falls
// past the source's edge (the last chroma column can) repeats the edge.
func boxPlane(dst []byte, dstride, dw, dh int, src []byte, sstride, sw, sh, kx, ky int) {
	parallelRows(dh, func(lo, hi int) {
		acc := make([]uint32, dw)
		for y := lo; y < hi; y++ {
			clear(acc)
			y0 := min(y*ky, sh-1)
			y1 := max(min(y0+ky, sh), y0+1)
			for sy := y0; sy < y1; sy++ {
				row := src[sy*sstride : sy*sstride+sw]
				for x := range dw {
					x0 := min(x*kx, sw-1)
					var s uint32
					for _, v := range row[x0:max(min(x0+kx, sw), x0+1)] {
						s += uint32(v)
					}
					acc[x] += s
				}
			}
			out := dst[y*dstride : y*dstride+dw]
			for x := range dw {
				x0 := min(x*kx, sw-1)
				n := uint32((y1 - y0) * (max(min(x0+kx, sw), x0+1) - x0))
				out[x] = uint8((acc[x] + n/2) / n)
			}
		}
	})
}

// clamp8 rounds v into [0, hi]; hi is the alpha for colour channels, which premultiplied
// colour may not exceed.
func clamp8(v float32, hi uint8) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= float32(hi) {
		return hi
	}
	return uint8(v + 0.5)
}
