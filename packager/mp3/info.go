package mp3

import "bytes"

// Kinds of InfoTag.
const (
	KindXing = "Xing" // VBR stream (LAME, ffmpeg)
	KindInfo = "Info" // same layout, written by LAME/ffmpeg for CBR streams
	KindVBRI = "VBRI" // Fraunhofer encoder
)

// InfoTag is the Xing/Info (optionally with LAME extension) or VBRI header
// that encoders put into the first frame of a stream. That frame is a valid
// MPEG frame whose audio content is silence, so decoders that do not know
// it output an extra frame of silence; gapless-aware ones (ffmpeg among
// them) drop it. It is therefore not part of Stream.Frames: the packagers
// must not emit it as a sample.
//
// One deliberate difference from ffmpeg: ffmpeg only drops the frame when
// the tag records a frame or byte count, so it plays the (silent) frame of
// a tag LAME left as a zero placeholder, e.g. when encoding to a pipe. Scan
// always treats a tagged frame as metadata.
type InfoTag struct {
	Kind   string // KindXing, KindInfo or KindVBRI
	Offset int64  // file offset of the frame that carries the tag
	Size   int    // size of that frame in bytes

	// Frames and Bytes are what the encoder recorded; 0 when absent. For
	// LAME/ffmpeg files Frames counts the audio frames without this one.
	// They are informational only: Scan counts the frames itself, since
	// tags are often stale after editing.
	Frames uint32
	Bytes  uint32

	// LAME extension (Xing/Info only). Encoder is the 9-byte short version
	// string ("LAME3.100", "Lavc59.37"); empty when there is no LAME
	// extension. EncoderDelay and EncoderPadding are only filled in when the
	// encoder string is one ffmpeg trusts (LAME, Lavc, Lavf), so that
	// packaged output trims exactly what ffmpeg-based players trim.
	//
	// The tag's CRC is not checked: ffmpeg's muxer computes it over a fixed
	// 190 bytes, which is wrong for mono and for frames shorter than that,
	// and ffmpeg's demuxer ignores it too.
	Encoder        string
	EncoderDelay   int // samples of encoder delay at the start (excluding DecoderDelay)
	EncoderPadding int // samples of padding at the end
}

const (
	xingFlagFrames  = 1
	xingFlagBytes   = 2
	xingFlagTOC     = 4
	xingFlagQuality = 8

	lameTagSize = 36 // from the encoder string to the tag CRC, inclusive
	vbriOffset  = 4 + 32
)

// parseInfoTag looks for a Xing/Info or VBRI tag in frame (the complete
// first frame of the stream, header h). It returns nil for an ordinary
// audio frame. Only Layer III streams carry these tags.
func parseInfoTag(frame []byte, h Header) *InfoTag {
	if h.Layer != 3 {
		return nil
	}
	// The Xing tag sits right after the side information. Writers do not
	// put a CRC in this frame, but if one is flagged, the side information
	// (and thus the tag) moves by 2 bytes; accept both positions.
	off := HeaderSize + h.SideInfoSize()
	if t := parseXing(frame, off); t != nil {
		return t
	}
	if h.Protected {
		if t := parseXing(frame, off+2); t != nil {
			return t
		}
	}
	// VBRI is always at a fixed position, whatever the channel mode.
	return parseVBRI(frame)
}

func parseXing(frame []byte, off int) *InfoTag {
	if off+8 > len(frame) {
		return nil
	}
	var kind string
	switch string(frame[off : off+4]) {
	case KindXing:
		kind = KindXing
	case KindInfo:
		kind = KindInfo
	default:
		return nil
	}
	t := &InfoTag{Kind: kind}
	flags := be32(frame[off+4:])
	p := off + 8
	// Optional fields follow in flag order; a field cut off by the end of
	// the frame ends parsing, but the frame stays an info frame (its magic
	// was there, it carries no audio).
	if flags&xingFlagFrames != 0 {
		if p+4 > len(frame) {
			return t
		}
		t.Frames = be32(frame[p:])
		p += 4
	}
	if flags&xingFlagBytes != 0 {
		if p+4 > len(frame) {
			return t
		}
		t.Bytes = be32(frame[p:])
		p += 4
	}
	if flags&xingFlagTOC != 0 {
		p += 100
	}
	if flags&xingFlagQuality != 0 {
		p += 4
	}
	// The LAME extension follows the Xing fields, wherever they end (ffmpeg
	// reads it sequentially the same way).
	if p+lameTagSize > len(frame) {
		return t
	}
	lame := frame[p : p+lameTagSize]
	enc := lame[:9]
	if i := bytes.IndexByte(enc, 0); i >= 0 {
		enc = enc[:i]
	}
	if printable(enc) {
		t.Encoder = string(enc)
	}
	// Encoder delay and padding: two 12-bit values at offset 21. ffmpeg
	// applies them when the version string starts with one of these,
	// whatever follows; do the same so that our trim matches what
	// ffmpeg-based players output.
	switch string(lame[:4]) {
	case "LAME", "Lavf", "Lavc":
		t.EncoderDelay = int(lame[21])<<4 | int(lame[22])>>4
		t.EncoderPadding = int(lame[22]&0x0F)<<8 | int(lame[23])
	}
	return t
}

func parseVBRI(frame []byte) *InfoTag {
	// "VBRI", version(2), delay(2), quality(2), bytes(4), frames(4), then a
	// TOC we do not need (the frame index is exact).
	if vbriOffset+18 > len(frame) || string(frame[vbriOffset:vbriOffset+4]) != KindVBRI {
		return nil
	}
	b := frame[vbriOffset:]
	return &InfoTag{
		Kind:   KindVBRI,
		Bytes:  be32(b[10:]),
		Frames: be32(b[14:]),
	}
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return len(b) > 0
}
