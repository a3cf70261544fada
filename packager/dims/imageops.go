package dims

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"maps"
	"math"
	"os"
	"slices"
)

// applyOps runs the pixel commands in order on img (origin 0,0).
func applyOps(img *image.RGBA, ops []command, cfg *Config) (*image.RGBA, error) {
	for _, c := range ops {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		switch c.name {
		case "crop":
			x0, y0, x1, y1 := c.geo.cropRect(w, h)
			r := image.Rect(x0, y0, x1, y1).Intersect(img.Rect)
			if r.Empty() {
				// ImageMagick leaves a 1×1 transparent image here; nobody asks for that.
				return nil, failf(ConvertFailed, "crop %s lies outside the %dx%d image", c.arg, w, h)
			}
			img = cloneRGBA(img.SubImage(r).(*image.RGBA))
		case "thumbnail", "resize":
			nw, nh, err := targetSize(c, w, h, cfg)
			if err != nil {
				return nil, err
			}
			if nw != w || nh != h {
				img = resample(img, nw, nh)
			}
		case "composite":
			ov, err := cfg.overlay(c.arg)
			if err != nil {
				return nil, err
			}
			composite(img, ov, cfg.Composites[c.arg])
		}
	}
	return img, nil
}

// targetSize is the size a thumbnail or resize command gives a w×h image, refused when it
// rounds to nothing or exceeds the pixel limit.
func targetSize(c command, w, h int, cfg *Config) (int, int, error) {
	nw, nh := c.geo.size(w, h)
	if nw == 0 || nh == 0 {
		return 0, 0, failf(ConvertFailed, "%s %s leaves no pixels of %dx%d", c.name, c.arg, w, h)
	}
	if int64(nw)*int64(nh) > cfg.MaxPixels {
		return 0, 0, failf(ConvertFailed, "%s %s makes %dx%d, over %d pixels", c.name, c.arg, nw, nh, cfg.MaxPixels)
	}
	return nw, nh, nil
}

// loadReduction is how a JPEG's leading thumbnail or resize to nw×nh shrinks it before its
// Lanczos pass: box-averaged by boxX×boxY (stored orientation), and decoded at 1/scale on the
// way where the decoder can. The zero value, scale 0, means no such command.
type loadReduction struct {
	scale      int
	boxX, boxY int
	nw, nh     int
}

// planLoadReduction plans the reduction of a w×h JPEG. The box reduction leaves three to six
// times the target (see shrinkFactors). The decoder's scale may go further, like libvips'
// shrink-on-load, which leaves at least a factor of two for the final resize: its reduced IDCT
// averages 8/scale-pixel boxes of the full decode, and with two output-pixel widths left for
// Lanczos the result stays over 50 dB PSNR against ImageMagick's full -resize, within about
// 2 dB of decoding at full size (see TestJPEGShrinkOnLoadMatchesImageMagick).
func planLoadReduction(w, h, orientation int, ops []command, cfg *Config) (loadReduction, error) {
	if len(ops) == 0 || ops[0].name != "thumbnail" && ops[0].name != "resize" {
		return loadReduction{}, nil
	}
	if orientation >= 5 {
		w, h = h, w
	}
	nw, nh, err := targetSize(ops[0], w, h, cfg)
	if err != nil {
		return loadReduction{}, err
	}
	r := loadReduction{scale: 1, nw: nw, nh: nh}
	for r.scale < 8 && 2*r.scale <= min(w/(2*nw), h/(2*nh)) {
		r.scale *= 2
	}
	r.boxX, r.boxY = shrinkFactors(w, h, nw, nh)
	if orientation >= 5 {
		r.boxX, r.boxY = r.boxY, r.boxX
	}
	return r, nil
}

// factors is the whole box reduction of an image decoded at 1/scale: the box reduction, or the
// scale when that is more.
func (r loadReduction) factors(scale int) (int, int) {
	return scale * max(r.boxX/scale, 1), scale * max(r.boxY/scale, 1)
}

// shrinkOnLoad runs a JPEG's leading thumbnail or resize when it is a large reduction (the
// common case of a photograph to a thumbnail): img, w×h in the file, was decoded at the
// reduction's scale (see decodeJPEG); what its box reduction still lacks is done on the YCbCr
// planes, skipping the full-size RGBA copy. It returns a nil image when the general path
// applies.
func shrinkOnLoad(img image.Image, scale, w, h, orientation int, ops []command, cfg *Config) (*image.RGBA, []command, error) {
	r, err := planLoadReduction(w, h, orientation, ops, cfg)
	if err != nil {
		return nil, nil, err
	}
	ycc, isYCbCr := img.(*image.YCbCr)
	kx, ky := r.factors(scale)
	if r.scale == 0 || kx == 1 && ky == 1 || scale == 1 && !isYCbCr {
		return nil, ops, nil
	}
	bx, by := kx/scale, ky/scale
	var small *image.RGBA
	switch {
	case bx == 1 && by == 1:
		small = toRGBA(img)
	case isYCbCr:
		small = toRGBA(shrinkYCbCr(ycc, bx, by))
	default:
		small = boxShrink(toRGBA(img), bx, by)
	}
	if orientation >= 5 {
		w, h, kx, ky = h, w, ky, kx
	}
	return lanczosResample(orient(small, orientation), float64(w)/float64(kx), float64(h)/float64(ky),
		partialLead(w, kx, orientation == 2 || orientation == 3 || orientation == 6 || orientation == 7),
		partialLead(h, ky, orientation == 3 || orientation == 4 || orientation == 7 || orientation == 8),
		r.nw, r.nh), ops[1:], nil
}

// partialLead is how much of the first box lies before the image, in boxes, when orientation
// flipped the axis and so moved the partial last box of the stored image to the front.
func partialLead(n, k int, flipped bool) float64 {
	if r := n % k; flipped && r != 0 {
		return float64(k-r) / float64(k)
	}
	return 0
}

// gravities maps the manual's Gravity names to where the overlay goes on each axis (x, y):
// 0 against the left/top edge, 1 centred, 2 against the right/bottom edge.
var gravities = map[string][2]int{
	"nw": {0, 0}, "n": {1, 0}, "ne": {2, 0},
	"w": {0, 1}, "c": {1, 1}, "e": {2, 1},
	"sw": {0, 2}, "s": {1, 2}, "se": {2, 2},
}

// compositePosition places an ow×oh overlay on a w×h image like ImageMagick's -gravity with
// -geometry: +x+y move inwards from an edge, right/down from a centre line; a centre is
// w/2-ow/2 in integers as ImageMagick computes it. A percentage is of the image's size.
func compositePosition(w, h, ow, oh int, c *Composite) (int, int) {
	dx, dy := c.X, c.Y
	if c.XPercent {
		dx = int(math.Floor(float64(c.X)*float64(w)/100 + 0.5))
	}
	if c.YPercent {
		dy = int(math.Floor(float64(c.Y)*float64(h)/100 + 0.5))
	}
	g := gravities[c.Gravity]
	place := func(size, osize, d, where int) int {
		switch where {
		case 0:
			return d
		case 1:
			return size/2 - osize/2 + d
		}
		return size - osize - d
	}
	return place(w, ow, dx, g[0]), place(h, oh, dy, g[1])
}

// composite draws ov onto img with the preset's placement and Dissolve: the overlay's own
// alpha times Dissolve/100, then source-over.
func composite(img, ov *image.RGBA, c *Composite) {
	x, y := compositePosition(img.Rect.Dx(), img.Rect.Dy(), ov.Rect.Dx(), ov.Rect.Dy(), c)
	r := image.Rect(x, y, x+ov.Rect.Dx(), y+ov.Rect.Dy()).Intersect(img.Rect)
	if r.Empty() || c.Dissolve == 0 {
		return
	}
	k := uint32(c.Dissolve) * 255 / 100 // overlay opacity in 0..255
	for py := r.Min.Y; py < r.Max.Y; py++ {
		d := img.Pix[img.PixOffset(r.Min.X, py):img.PixOffset(r.Max.X, py)]
		s := ov.Pix[ov.PixOffset(r.Min.X-x, py-y):]
		for i := 0; i < len(d); i += 4 {
			sa := uint32(s[i+3]) * k / 255
			if sa == 0 {
				continue
			}
			inv := 255 - sa
			for ch := range 3 {
				sc := uint32(s[i+ch]) * k / 255
				d[i+ch] = uint8((sc*255 + uint32(d[i+ch])*inv + 127) / 255)
			}
			d[i+3] = uint8((sa*255 + uint32(d[i+3])*inv + 127) / 255)
		}
	}
}

// overlay returns the decoded File of Composite name, decoding it once per Config.
func (cfg *Config) overlay(name string) (*image.RGBA, error) {
	if cfg.overlays != nil {
		cfg.overlays.mu.Lock()
		defer cfg.overlays.mu.Unlock()
		if ov := cfg.overlays.m[name]; ov != nil {
			return ov, nil
		}
	}
	c := cfg.Composites[name]
	data, err := os.ReadFile(c.File)
	if err != nil {
		return nil, failf(ConvertFailed, "composite %q: %v", name, err)
	}
	ic, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || int64(ic.Width)*int64(ic.Height) > cfg.MaxPixels {
		return nil, failf(ConvertFailed, "composite %q: %s is not a usable image (%v)", name, c.File, err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, failf(ConvertFailed, "composite %q: %v", name, err)
	}
	ov := toRGBA(img)
	if cfg.overlays != nil {
		cfg.overlays.m[name] = ov
	}
	return ov, nil
}

// toRGBA converts any decoded image to premultiplied RGBA at origin 0,0; image/draw has fast
// paths for the YCbCr and Gray images the JPEG decoder returns, run here in bands per CPU.
func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	parallelRows(b.Dy(), func(lo, hi int) {
		draw.Draw(dst, image.Rect(0, lo, b.Dx(), hi), img, b.Min.Add(image.Pt(0, lo)), draw.Src)
	})
	return dst
}

func cloneRGBA(src *image.RGBA) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, src.Rect.Dx(), src.Rect.Dy()))
	for y := range dst.Rect.Dy() {
		copy(dst.Pix[y*dst.Stride:(y+1)*dst.Stride], src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y):])
	}
	return dst
}

// drawFrame draws a GIF frame over the canvas; its transparent index leaves the canvas as is.
func drawFrame(canvas *image.RGBA, fr *image.Paletted) {
	r := fr.Rect.Intersect(canvas.Rect)
	lut := make([]color.RGBA, len(fr.Palette))
	for i, c := range fr.Palette {
		lut[i] = color.RGBAModel.Convert(c).(color.RGBA)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			idx := int(fr.Pix[fr.PixOffset(x, y)])
			if idx >= len(lut) || lut[idx].A == 0 {
				continue
			}
			canvas.SetRGBA(x, y, lut[idx])
		}
	}
}

// flatten lays img over white for JPEG, which has no alpha: a transparent logo becomes a logo
// on a white page rather than on the black that its premultiplied zeros would show.
func flatten(img *image.RGBA) *image.RGBA {
	opaque := true
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 255 {
			opaque = false
			break
		}
	}
	if opaque {
		return img
	}
	dst := image.NewRGBA(img.Rect)
	draw.Draw(dst, dst.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Rect, img, img.Rect.Min, draw.Over)
	return dst
}

// animationPalette is one palette for every frame of an animation: the opaque colours of all
// the frames' palettes, when they fit in a GIF palette with a slot left for transparency (always
// so with a global colour table alone); nil otherwise.
func animationPalette(frames []*image.Paletted) color.Palette {
	seen := map[color.RGBA]bool{}
	var pal color.Palette
	for _, fr := range frames {
		for _, c := range fr.Palette {
			rgba := color.RGBAModel.Convert(c).(color.RGBA)
			if rgba.A == 0 || seen[rgba] {
				continue
			}
			if len(pal) == 255 {
				return nil
			}
			seen[rgba] = true
			pal = append(pal, rgba)
		}
	}
	return pal
}

// popularPalette is the 255 most frequent opaque colours of a composed animation frame, for
// animations whose local palettes together hold more colours than one GIF palette.
func popularPalette(img *image.RGBA) color.Palette {
	count := map[color.RGBA]int{}
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i+3] == 255 {
			count[color.RGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255}]++
		}
	}
	colors := slices.Collect(maps.Keys(count))
	slices.SortFunc(colors, func(a, b color.RGBA) int {
		if d := cmp.Compare(count[b], count[a]); d != 0 {
			return d
		}
		return cmp.Compare(uint32(a.R)<<16|uint32(a.G)<<8|uint32(a.B), uint32(b.R)<<16|uint32(b.G)<<8|uint32(b.B))
	})
	pal := make(color.Palette, 0, 255)
	for _, c := range colors[:min(len(colors), 255)] {
		pal = append(pal, c)
	}
	if len(pal) == 0 {
		pal = append(pal, color.RGBA{A: 255}) // an all-transparent frame still needs an opaque entry
	}
	return pal
}

// quantizeToPalette maps img onto a GIF palette (nearest colour, no dithering, so
// that the noise does not flicker between frames). Alpha below one half is transparent; a
// palette without a transparent entry gets one.
func quantizeToPalette(img *image.RGBA, pal color.Palette) *image.Paletted {
	pal = append(color.Palette(nil), pal...)
	transparent := -1
	for i, c := range pal {
		if _, _, _, a := c.RGBA(); a == 0 {
			transparent = i
			break
		}
	}
	needTransparent := false
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] < 128 {
			needTransparent = true
			break
		}
	}
	if needTransparent && transparent < 0 {
		if len(pal) < 256 {
			pal = append(pal, color.RGBA{})
		} else {
			pal[255] = color.RGBA{}
		}
		transparent = len(pal) - 1
	}
	opaque := make([]color.RGBA, len(pal))
	for i, c := range pal {
		opaque[i] = color.RGBAModel.Convert(c).(color.RGBA)
	}
	// Nearest-colour searches are cached on 5 bits per channel: a resized frame has tens of
	// thousands of distinct colours but only 256 answers.
	cache := make([]int16, 1<<15)
	for i := range cache {
		cache[i] = -1
	}
	dst := image.NewPaletted(img.Rect, pal)
	for i, j := 0, 0; i < len(img.Pix); i, j = i+4, j+1 {
		a := img.Pix[i+3]
		if a < 128 {
			dst.Pix[j] = uint8(transparent)
			continue
		}
		r, g, b := unpremultiply(img.Pix[i], a), unpremultiply(img.Pix[i+1], a), unpremultiply(img.Pix[i+2], a)
		key := int(r>>3)<<10 | int(g>>3)<<5 | int(b>>3)
		if cache[key] < 0 {
			cache[key] = int16(nearest(opaque, transparent, r|4, g|4, b|4))
		}
		dst.Pix[j] = uint8(cache[key])
	}
	return dst
}

func unpremultiply(c, a uint8) uint8 {
	if a == 255 {
		return c
	}
	return uint8(min(uint32(c)*255/uint32(a), 255))
}

func nearest(pal []color.RGBA, skip int, r, g, b uint8) int {
	best, bestD := 0, math.MaxInt
	for i, c := range pal {
		if i == skip {
			continue
		}
		dr, dg, db := int(c.R)-int(r), int(c.G)-int(g), int(c.B)-int(b)
		if d := dr*dr + dg*dg + db*db; d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// quantizeDithered makes a GIF frame from a true-colour image: the web-safe Plan 9 palette with
// Floyd-Steinberg dithering (what image/gif does by default), plus a transparent entry when
// the image has transparency.
func quantizeDithered(img *image.RGBA) *image.Paletted {
	pal := color.Palette(palette.Plan9)
	src := img
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 255 {
			pal = append(append(color.Palette(nil), palette.Plan9[:255]...), color.RGBA{})
			src = cloneRGBA(img)
			for k := 3; k < len(src.Pix); k += 4 {
				if src.Pix[k] < 128 {
					copy(src.Pix[k-3:k+1], []uint8{0, 0, 0, 0})
				} else {
					a := src.Pix[k]
					for ch := k - 3; ch < k; ch++ {
						src.Pix[ch] = unpremultiply(src.Pix[ch], a)
					}
					src.Pix[k] = 255
				}
			}
			break
		}
	}
	dst := image.NewPaletted(src.Rect, pal)
	draw.FloydSteinberg.Draw(dst, dst.Rect, src, image.Point{})
	return dst
}

// orient turns a JPEG's pixels upright according to its EXIF orientation (1-8), since the
// output carries no EXIF to tell a viewer to do it.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotated 90° clockwise to view
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to view
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dst.PixOffset(dx, dy):dst.PixOffset(dx, dy)+4], img.Pix[img.PixOffset(x, y):])
		}
	}
	return dst
}

// jpegSegments calls f with each marker and segment payload before the first scan.
func jpegSegments(b []byte, f func(marker byte, payload []byte) bool) {
	pos := 2
	for pos+4 <= len(b) && b[pos] == 0xff {
		marker := b[pos+1]
		if marker == 0xda || marker == 0xd9 {
			return
		}
		n := int(binary.BigEndian.Uint16(b[pos+2:]))
		if n < 2 || pos+2+n > len(b) {
			return
		}
		if !f(marker, b[pos+4:pos+2+n]) {
			return
		}
		pos += 2 + n
	}
}

// exifOrientation reads tag 0x0112 of IFD0 in the APP1 Exif segment; 1 when absent.
func exifOrientation(b []byte) int {
	o := 1
	jpegSegments(b, func(marker byte, p []byte) bool {
		if marker != 0xe1 || !bytes.HasPrefix(p, []byte("Exif\x00\x00")) {
			return true
		}
		t := p[6:]
		if len(t) < 8 {
			return false
		}
		var bo binary.ByteOrder = binary.BigEndian
		if t[0] == 'I' {
			bo = binary.LittleEndian
		}
		ifd := int(bo.Uint32(t[4:]))
		if ifd < 8 || ifd+2 > len(t) {
			return false
		}
		n := int(bo.Uint16(t[ifd:]))
		for i := range n {
			e := ifd + 2 + 12*i
			if e+12 > len(t) {
				break
			}
			if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
				if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
					o = v
				}
			}
		}
		return false
	})
	return o
}

// stdLuminance is the ITU T.81 Annex K luminance quantisation table.
var stdLuminance = [64]int{
	16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
}

// estimateJPEGQuality finds the IJG quality (1-100) whose scaled Annex K luminance table is
// closest in sum to the file's first quantisation table; 0 when there is none. Encoders other
// than libjpeg use other tables, so this is an estimate, as ImageMagick's is.
func estimateJPEGQuality(b []byte) int {
	sum := -1
	jpegSegments(b, func(marker byte, p []byte) bool {
		if marker != 0xdb || len(p) < 1 {
			return true
		}
		if p[0]>>4 == 0 && len(p) >= 65 {
			sum = 0
			for _, v := range p[1:65] {
				sum += int(v)
			}
		} else if len(p) >= 129 {
			sum = 0
			for i := range 64 {
				sum += int(binary.BigEndian.Uint16(p[1+2*i:]))
			}
		}
		return false
	})
	if sum < 0 {
		return 0
	}
	best, bestD := 0, math.MaxInt
	for q := 1; q <= 100; q++ {
		scale := 200 - 2*q
		if q < 50 {
			scale = 5000 / q
		}
		s := 0
		for _, v := range stdLuminance {
			s += min(max((v*scale+50)/100, 1), 255)
		}
		if d := abs(s - sum); d < bestD {
			best, bestD = q, d
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
