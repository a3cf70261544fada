package dims

import (
	"math"
	"strconv"
	"strings"
)

// geometry is one parsed ImageMagick-style geometry string as the manual writes it:
// WxH{+-}X{+-}Y with the flags % @ ! < >. A zero W or H means "not given".
type geometry struct {
	w, h       float64
	x, y       int
	hasOffset  bool
	percent    bool // %: W and H are percentages of the image size
	area       bool // @: W is a maximum pixel count
	exact      bool // !: ignore the aspect ratio
	onlyShrink bool // >: only make images larger than W/H smaller
	onlyGrow   bool // <: only make images smaller than W/H larger
}

// maxDimension bounds every number in a geometry so that later arithmetic cannot overflow;
// real limits on the result are applied against Config.MaxPixels.
const maxDimension = 1 << 20

// parseGeometry reads s. Like ImageMagick, flag characters may stand anywhere (the manual writes
// "50%x30%" and "100x200+20+30%"); unlike ImageMagick, zero sizes, repeated separators and
// trailing garbage are refused rather than guessed at.
func parseGeometry(s string) (geometry, bool) {
	var g geometry
	var rest strings.Builder
	for _, c := range s {
		switch c {
		case '%':
			g.percent = true
		case '@':
			g.area = true
		case '!':
			g.exact = true
		case '>':
			g.onlyShrink = true
		case '<':
			g.onlyGrow = true
		default:
			rest.WriteRune(c)
		}
	}
	body := rest.String()
	size, off := body, ""
	if i := strings.IndexAny(body, "+-"); i >= 0 {
		size, off = body[:i], body[i:]
	}
	ws, hs, hasX := strings.Cut(strings.ReplaceAll(size, "X", "x"), "x")
	var ok bool
	if g.w, ok = parseSize(ws, g.percent); !ok {
		return g, false
	}
	if g.h, ok = parseSize(hs, g.percent); !ok {
		return g, false
	}
	if g.w == 0 && g.h == 0 || !hasX && hs != "" || hasX && hs == "" && ws == "" {
		return g, false
	}
	if off != "" {
		if g.x, g.y, ok = parseOffset(off); !ok {
			return g, false
		}
		g.hasOffset = true
	}
	return g, true
}

// parseSize reads one of W or H: empty (not given) or a positive number, with a fraction
// only for percentages.
func parseSize(s string, percent bool) (float64, bool) {
	if s == "" {
		return 0, true
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c != '.' || !percent) {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v > maxDimension || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// parseOffset reads "{+-}X{+-}Y" (both required).
func parseOffset(s string) (int, int, bool) {
	j := strings.IndexAny(s[1:], "+-")
	if j < 0 {
		return 0, 0, false
	}
	x, okx := parseSigned(s[:j+1])
	y, oky := parseSigned(s[j+1:])
	return x, y, okx && oky
}

func parseSigned(s string) (int, bool) {
	if len(s) < 2 || s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v > maxDimension || v < -maxDimension {
		return 0, false
	}
	return v, true
}

// validForSize reports whether g is a thumbnail/resize geometry: no offset, and @ only in its
// "W@" form (ImageMagick reads "WxH@" as an area of W, which nobody means).
func (g geometry) validForSize() bool {
	return !g.hasOffset && (!g.area || g.h == 0 && !g.percent)
}

// validForCrop reports whether g is a crop geometry: both sizes, no resize flags.
func (g geometry) validForCrop() bool {
	return g.w > 0 && g.h > 0 && !g.area && !g.exact && !g.onlyShrink && !g.onlyGrow
}

// size computes the new size of a w×h image under g with ImageMagick's rules
// (ParseMetaGeometry in magick/geometry.c, read for its semantics): percentages first, then
// the aspect-preserving fit (the smaller scale wins; "W@" fits W as a width), then the > and <
// conditions, then the pixel-area limit, which only ever shrinks what the steps before gave.
// A zero result means the percentage left nothing.
func (g geometry) size(w, h int) (int, int) {
	fw, fh := float64(w), float64(h)
	gw, gh := g.w, g.h
	if g.percent {
		px, py := gw, gh
		if px == 0 {
			px = 100
		}
		if py == 0 {
			py = px
		}
		gw = math.Floor(px*fw/100 + 0.5)
		gh = math.Floor(py*fh/100 + 0.5)
		fw, fh = gw, gh
	}
	nw, nh := fw, fh
	switch {
	case g.percent: // already the final size; only the flags below still apply
	case g.exact || gw == fw && gh == fh:
		if g.w != 0 {
			nw = gw
		}
		if g.h != 0 {
			nh = gh
		}
	default:
		scale := 1.0
		switch {
		case g.w != 0 && g.h != 0:
			scale = math.Min(gw/fw, gh/fh)
		case g.w != 0:
			scale = gw / fw
		default:
			scale = gh / fh
		}
		nw = math.Max(math.Floor(scale*fw+0.5), 1)
		nh = math.Max(math.Floor(scale*fh+0.5), 1)
	}
	if g.onlyShrink {
		nw, nh = math.Min(nw, fw), math.Min(nh, fh)
	}
	if g.onlyGrow {
		nw, nh = math.Max(nw, fw), math.Max(nh, fh)
	}
	if g.area {
		// The small addition keeps an exact square area (10000@ of a square) from flooring
		// to one pixel less, as ImageMagick's epsilon does.
		r := math.Sqrt(g.w+1e-6) / math.Sqrt(fw*fh)
		if fw*r < nw || fh*r < nh {
			nw, nh = math.Floor(fw*r), math.Floor(fh*r)
		}
	}
	// A percentage can round to nothing, which ImageMagick refuses ("negative or zero image
	// size") and so does the caller; every other form keeps at least one pixel.
	if !g.percent {
		nw, nh = math.Max(nw, 1), math.Max(nh, 1)
	}
	return int(nw), int(nh)
}

// cropRect is the region crop g selects in a w×h image before clipping: percentages scale the
// size, offsets are pixels from the top-left corner.
func (g geometry) cropRect(w, h int) (x0, y0, x1, y1 int) {
	cw, ch := int(g.w), int(g.h)
	if g.percent {
		cw = int(math.Floor(g.w*float64(w)/100 + 0.5))
		ch = int(math.Floor(g.h*float64(h)/100 + 0.5))
	}
	return g.x, g.y, g.x + cw, g.y + ch
}
