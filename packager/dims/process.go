package dims

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"drmpack/packager/jpegopt"
	"drmpack/packager/jpegscale"
)

// defaultJPEGQuality is used when a JPEG is written from a PNG or GIF, or from a JPEG whose
// quality cannot be estimated; ImageMagick (which mod_dims drives) uses the same value.
const defaultJPEGQuality = 92

// plan is a recipe resolved against the configuration and the original: the pixel operations
// in order and the output settings.
type plan struct {
	ops            []command // crop, thumbnail, resize, composite
	format         string    // jpg, png, gif
	quality        int       // -1: not asked
	optimize       bool
	firstFrameOnly bool
}

// Process applies recipe to the image src (JPEG, PNG or GIF) and returns the new image and its
// content type. Every failure is an *Error whose text is one of the manual's four sentences.
// A nil cfg means DefaultConfig(). The rules where the manual leaves room:
//
//   - thumbnail and resize both follow ImageMagick's geometry (-thumbnail/-resize): the manual
//     defines thumbnail's W and H as maximums, with "!" for an exact size, which is
//     ImageMagick's fit-inside; mod_dims' thumbnail (cover, then crop the centre) would make
//     "!" meaningless. resize takes the same flags, as in mod_dims.
//   - crop is one region from the top-left corner, clipped to the image; a region entirely
//     outside fails (ImageMagick would make a 1×1 transparent image).
//   - A JPEG is turned upright by its EXIF orientation before any command.
//   - Metadata: re-encoded output carries none (EXIF, ICC, XMP, comments, PNG text): the
//     orientation is already applied and web images are sRGB. When nothing needs re-encoding
//     (no pixel command, same format, no lower quality) the original bytes are returned with
//     their metadata, through jpegopt for optimize.
//   - An animated GIF becomes a GIF with every frame transformed; to JPEG or PNG, or with
//     FirstFrameOnly, only its first frame is used.
//   - A transparent image written as JPEG is laid over white.
//   - quality sets the JPEG quality and, as in mod_dims, can only lower a JPEG original's
//     (estimated) quality; PNG and GIF ignore it. optimize is lossless and, as the manual
//     says, for JPEG only: PNG and GIF are returned as they would be without it.
//   - format, quality, optimize and firstframeonly apply wherever they stand in the recipe.
func Process(src []byte, recipe string, cfg *Config) (out []byte, contentType string, err error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	defer func() {
		// Decoders and this package are meant never to panic; if one does, the request fails
		// like any unsupported image rather than taking a server down.
		if p := recover(); p != nil {
			out, contentType, err = nil, "", failf(ConvertFailed, "internal error: %v", p)
		}
		var e *Error
		if errors.As(err, &e) {
			e.Redirect = cfg.Redirect
		}
	}()
	r, err := ParseRecipe(recipe)
	if err != nil {
		return nil, "", err
	}
	return r.run(src, cfg)
}

var contentTypes = map[string]string{"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}

func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif"
	}
	return ""
}

func (r *Recipe) run(src []byte, cfg *Config) ([]byte, string, error) {
	// The size limit is checked on the bytes, before anything is decoded.
	if int64(len(src)) > cfg.MaxSourceSize {
		return nil, "", failf(TooLarge, "%d bytes > MaxSourceSize %d", len(src), cfg.MaxSourceSize)
	}
	in := sniff(src)
	if in == "" {
		return nil, "", failf(ConvertFailed, "not a JPEG, PNG or GIF image")
	}
	ic, _, err := image.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return nil, "", failf(LoadFailed, "%s header: %v", in, err)
	}
	p := plan{format: in, quality: -1, firstFrameOnly: cfg.FirstFrameOnly}
	for _, c := range r.cmds {
		if c.name == "firstframeonly" {
			p.firstFrameOnly = c.n == 1
		}
	}
	frames := 1
	if in == "gif" {
		if frames, err = countGIFFrames(src); err != nil {
			return nil, "", failf(LoadFailed, "gif: %v", err)
		}
	}
	orientation := 1
	if in == "jpg" {
		orientation = exifOrientation(src)
	}
	ow, oh := ic.Width, ic.Height
	if orientation >= 5 {
		ow, oh = oh, ow
	}
	if err := p.resolve(r, cfg, ow, oh); err != nil {
		return nil, "", err
	}
	animated := in == "gif" && p.format == "gif" && !p.firstFrameOnly && frames > 1
	decodedFrames := 1
	if animated {
		decodedFrames = frames
	}
	// DecodeConfig reads only the header, so a bomb is refused before its pixels are allocated.
	if int64(ic.Width)*int64(ic.Height)*int64(decodedFrames) > cfg.MaxPixels {
		return nil, "", failf(LoadFailed, "%dx%d×%d frames exceeds %d pixels", ic.Width, ic.Height, decodedFrames, cfg.MaxPixels)
	}

	sourceQuality := 0
	if in == "jpg" {
		sourceQuality = estimateJPEGQuality(src)
	}
	jpegQuality := p.jpegQuality(sourceQuality)
	reencode := len(p.ops) > 0 || p.format != in ||
		in == "gif" && p.firstFrameOnly && frames > 1 ||
		in == "jpg" && p.quality >= 0 && (sourceQuality == 0 || jpegQuality < sourceQuality)
	if !reencode {
		// Nothing changes the pixels: the original bytes (and their metadata) are the answer,
		// which keeps optimize lossless.
		return p.finish(src), contentTypes[p.format], nil
	}

	var out []byte
	if animated {
		out, err = processAnimation(src, &p, cfg)
	} else {
		out, err = processStill(src, in, image.Pt(ic.Width, ic.Height), orientation, jpegQuality, &p, cfg)
	}
	if err != nil {
		return nil, "", err
	}
	return p.finish(out), contentTypes[p.format], nil
}

// resolve expands byoriginal commands (conditions are tested on the oriented original, first
// match wins) and collects the output settings; the last format and quality win.
func (p *plan) resolve(r *Recipe, cfg *Config, ow, oh int) error {
	var walk func(cmds []command) error
	walk = func(cmds []command) error {
		for _, c := range cmds {
			switch c.name {
			case "crop", "thumbnail", "resize":
				p.ops = append(p.ops, c)
			case "composite":
				if cfg.Composites[c.arg] == nil {
					return failf(ConvertFailed, "no Composite named %q", c.arg)
				}
				p.ops = append(p.ops, c)
			case "format":
				p.format = c.arg
			case "quality":
				p.quality = c.n
			case "optimize":
				p.optimize = true
			case "byoriginal":
				conds, ok := cfg.ByOriginal[c.arg]
				if !ok {
					return failf(ConvertFailed, "no ByOriginal named %q", c.arg)
				}
				for _, cond := range conds {
					if (cond.Width == 0 || ow < cond.Width) && (cond.Height == 0 || oh < cond.Height) {
						if err := walk(cond.Recipe.cmds); err != nil {
							return err
						}
						break
					}
				}
			}
		}
		return nil
	}
	return walk(r.cmds)
}

// jpegQuality is the quality a JPEG is written with. Like mod_dims, quality only ever lowers
// a JPEG original's estimated quality: re-encoding higher makes the file larger without
// bringing back detail, and the manual's point of quality is a smaller transfer.
func (p *plan) jpegQuality(source int) int {
	q := p.quality
	if q < 0 {
		q = defaultJPEGQuality
		if source > 0 {
			q = source
		}
	}
	if source > 0 && q > source {
		q = source
	}
	return q
}

// finish applies optimize. The manual supports optimisation for JPEG only, so for PNG and GIF
// it is a no-op. jpegopt returns its input when it cannot make it smaller; an input it cannot
// parse is returned unoptimised too, as the manual says already-optimised images stay as they
// are rather than fail.
func (p *plan) finish(b []byte) []byte {
	if !p.optimize || p.format != "jpg" {
		return b
	}
	if o, err := jpegopt.Optimize(b); err == nil && len(o) < len(b) {
		return o
	}
	return b
}

// processStill handles JPEG, PNG and the first frame of a GIF.
func processStill(src []byte, in string, size image.Point, orientation, jpegQuality int, p *plan, cfg *Config) ([]byte, error) {
	var img image.Image
	var err error
	var gifPalette *image.Paletted
	scale := 1
	switch in {
	case "jpg":
		img, scale, err = decodeJPEG(src, size, orientation, p.ops, cfg)
	case "png":
		img, err = png.Decode(bytes.NewReader(src))
	case "gif":
		var g *gif.GIF
		g, err = decodeFirstGIFFrame(src)
		if err == nil {
			gifPalette = g.Image[0]
			c := image.NewRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
			drawFrame(c, g.Image[0])
			img = c
		}
	}
	if err != nil {
		return nil, failf(LoadFailed, "%s: %v", in, err)
	}
	var rgba *image.RGBA
	ops := p.ops
	if in == "jpg" {
		if rgba, ops, err = shrinkOnLoad(img, scale, size.X, size.Y, orientation, ops, cfg); err != nil {
			return nil, err
		}
	}
	if rgba == nil {
		rgba = orient(toRGBA(img), orientation)
	}
	if rgba, err = applyOps(rgba, ops, cfg); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	switch p.format {
	case "jpg":
		err = jpeg.Encode(&buf, flatten(rgba), &jpeg.Options{Quality: jpegQuality})
	case "png":
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		err = enc.Encode(&buf, rgba)
	case "gif":
		var frame *image.Paletted
		if gifPalette != nil {
			frame = quantizeToPalette(rgba, gifPalette.Palette)
		} else {
			frame = quantizeDithered(rgba)
		}
		err = gif.Encode(&buf, frame, nil)
	}
	if err != nil {
		return nil, failf(ConvertFailed, "encode %s: %v", p.format, err)
	}
	return buf.Bytes(), nil
}

// decodeJPEG decodes a JPEG of the given size at 1/2, 1/4 or 1/8 of it when the first command
// reduces it enough (see planLoadReduction), and returns the scale. The codings
// jpegscale leaves alone (progressive among them), and any file it finds fault with, are
// decoded at full size by image/jpeg, whose verdict then stands.
func decodeJPEG(src []byte, size image.Point, orientation int, ops []command, cfg *Config) (image.Image, int, error) {
	// A command that cannot apply is refused later, by shrinkOnLoad, with its own reason.
	if r, err := planLoadReduction(size.X, size.Y, orientation, ops, cfg); err == nil && r.scale > 1 {
		if img, err := jpegscale.Decode(src, r.scale); err == nil {
			return img, r.scale, nil
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(src))
	return img, 1, err
}

// decodeFirstGIFFrame decodes only the first frame, so FirstFrameOnly also saves the decoding
// of the others.
func decodeFirstGIFFrame(src []byte) (*gif.GIF, error) {
	ic, err := gif.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	img, err := gif.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	pi, ok := img.(*image.Paletted)
	if !ok {
		return nil, fmt.Errorf("unexpected gif image type %T", img)
	}
	return &gif.GIF{Image: []*image.Paletted{pi}, Config: ic}, nil
}

// processAnimation decodes every frame, rebuilds each full picture the way a viewer shows it
// (applying the previous frame's disposal), transforms it, and writes it back as a full-size
// frame with the original delay, disposal and loop count. Full-size frames make every
// disposal method show the same picture as the original, which frames cut to their changed
// rectangles would not once resampling moves their edges.
func processAnimation(src []byte, p *plan, cfg *Config) ([]byte, error) {
	g, err := gif.DecodeAll(bytes.NewReader(src))
	if err != nil {
		return nil, failf(LoadFailed, "gif: %v", err)
	}
	screen := image.Rect(0, 0, g.Config.Width, g.Config.Height)
	canvas := image.NewRGBA(screen)
	out := &gif.GIF{LoopCount: g.LoopCount, Delay: g.Delay, Disposal: g.Disposal}
	shared := animationPalette(g.Image)
	for i, fr := range g.Image {
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		var saved *image.RGBA
		if disposal == gif.DisposalPrevious {
			saved = cloneRGBA(canvas)
		}
		drawFrame(canvas, fr)
		// A full picture shows earlier frames too, so a frame's own (local) palette may lack
		// its colours.
		pal := shared
		if pal == nil {
			pal = popularPalette(canvas)
		}
		res, err := applyOps(cloneRGBA(canvas), p.ops, cfg)
		if err != nil {
			return nil, err
		}
		if i == 0 && int64(len(g.Image))*int64(len(res.Pix)/4) > cfg.MaxPixels {
			// Enlarging every frame of a long animation is a bomb of its own.
			return nil, failf(ConvertFailed, "%d frames of %v exceed %d pixels", len(g.Image), res.Rect.Size(), cfg.MaxPixels)
		}
		out.Image = append(out.Image, quantizeToPalette(res, pal))
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, fr.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	b := out.Image[0].Bounds()
	out.Config = image.Config{ColorModel: out.Image[0].Palette, Width: b.Dx(), Height: b.Dy()}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, out); err != nil {
		return nil, failf(ConvertFailed, "encode gif: %v", err)
	}
	return buf.Bytes(), nil
}

// countGIFFrames walks the GIF block structure without decompressing anything, so that an
// animation's total pixel count can be checked before DecodeAll allocates every frame.
func countGIFFrames(b []byte) (int, error) {
	errShort := io.ErrUnexpectedEOF
	if len(b) < 13 {
		return 0, errShort
	}
	pos := 13
	if b[10]&0x80 != 0 {
		pos += 3 << (b[10]&7 + 1)
	}
	skipSubBlocks := func() error {
		for {
			if pos >= len(b) {
				return errShort
			}
			n := int(b[pos])
			pos += 1 + n
			if n == 0 {
				return nil
			}
		}
	}
	frames := 0
	for pos < len(b) {
		switch b[pos] {
		case 0x21: // extension: label, then sub-blocks
			pos += 2
			if err := skipSubBlocks(); err != nil {
				return 0, err
			}
		case 0x2c: // image descriptor, optional local palette, LZW code size, data
			if pos+10 > len(b) {
				return 0, errShort
			}
			flags := b[pos+9]
			pos += 10
			if flags&0x80 != 0 {
				pos += 3 << (flags&7 + 1)
			}
			pos++
			if err := skipSubBlocks(); err != nil {
				return 0, err
			}
			frames++
		case 0x3b:
			return frames, nil
		default:
			return 0, fmt.Errorf("unknown block 0x%02x", b[pos])
		}
	}
	if frames == 0 {
		return 0, errShort
	}
	// A missing trailer is tolerated, as the standard decoder does.
	return frames, nil
}
