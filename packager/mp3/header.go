// Package mp3 indexes the audio frames of MPEG-1/2/2.5 Layer III (and I/II)
// streams: frame headers, ID3 tags, and the Xing/Info/LAME and VBRI headers.
//
// The packagers (DASH/fragmented MP4, HLS/MPEG-TS, trimming) need to know
// where every audio frame is, not what it contains: each frame becomes one
// sample. Scan therefore reads the file once through an io.ReaderAt in large
// blocks and keeps only a compact index (offset and size per frame); the
// audio bytes are read again later, by whoever writes the output, straight
// from the source.
package mp3

import (
	"errors"
	"fmt"
)

// Version is the MPEG audio version of a frame.
type Version int

// MPEG audio versions. The zero value is deliberately not a valid version so
// that an unset Header is recognisable.
const (
	MPEG1  Version = 1 // ISO/IEC 11172-3: 32, 44.1, 48 kHz
	MPEG2  Version = 2 // ISO/IEC 13818-3 LSF: 16, 22.05, 24 kHz
	MPEG25 Version = 3 // unofficial Fraunhofer extension: 8, 11.025, 12 kHz
)

func (v Version) String() string {
	switch v {
	case MPEG1:
		return "MPEG-1"
	case MPEG2:
		return "MPEG-2"
	case MPEG25:
		return "MPEG-2.5"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// Channel modes, as coded in the header (Header.ChannelMode).
const (
	ChannelStereo      = 0
	ChannelJointStereo = 1
	ChannelDual        = 2 // two independent mono channels
	ChannelMono        = 3
)

// HeaderSize is the size of an MPEG audio frame header (without CRC).
const HeaderSize = 4

// MinFrameSize and MaxFrameSize bound the size of any frame ParseHeader
// accepts. MinFrameSize is MPEG-2 Layer III at 8 kbit/s and 24 kHz
// (72*8000/24000); MaxFrameSize is MPEG-2.5 Layer II at 160 kbit/s and 8 kHz
// with padding (144*160000/8000+1). They bound the frame index: a stream of
// n bytes cannot hold more than n/MinFrameSize frames.
const (
	MinFrameSize = 24
	MaxFrameSize = 2881
)

// DecoderDelay is the delay, in samples, that the MP3 synthesis filterbank
// adds on top of the encoder delay recorded in the LAME tag. Gapless players,
// and ffmpeg's "skip samples", drop EncoderDelay+DecoderDelay samples at the
// start of the decoded stream.
const DecoderDelay = 529

// Errors returned by ParseHeader and Scan; they are wrapped with details, test
// with errors.Is.
var (
	// ErrInvalidHeader: no frame sync, or a reserved version, layer,
	// bitrate or sample rate.
	ErrInvalidHeader = errors.New("mp3: invalid frame header")
	// ErrFreeFormat: the "free" bitrate, where the frame size is not coded
	// in the header. Practically unused, and not supported.
	ErrFreeFormat = errors.New("mp3: free-format bitrate is not supported")
	// ErrNoAudio: the input holds no MPEG audio frame (not an MP3 file,
	// an empty file, or tags only).
	ErrNoAudio = errors.New("mp3: no MPEG audio frames found")
	// ErrMixedFormat: the MPEG version, layer or sample rate changes within
	// the stream, which one MP4 sample entry / one TS stream cannot carry.
	ErrMixedFormat = errors.New("mp3: MPEG version, layer or sample rate changes within the stream")
	// ErrLostSync: more junk between two frames than Scan is willing to
	// skip.
	ErrLostSync = errors.New("mp3: lost frame sync")
)

// Header is a decoded MPEG audio frame header.
type Header struct {
	Version         Version
	Layer           int // 1, 2 or 3
	Bitrate         int // bits/s; never 0 (free format is rejected)
	SampleRate      int // Hz
	Channels        int // 1 or 2
	ChannelMode     int // ChannelStereo, ChannelJointStereo, ChannelDual, ChannelMono
	Padding         bool
	Protected       bool // a 16-bit CRC follows the header
	FrameSize       int  // bytes, including the header
	SamplesPerFrame int  // 384 (Layer I), 1152 (Layer II, MPEG-1 Layer III) or 576 (MPEG-2/2.5 Layer III)
}

// bitrates in kbit/s, indexed by [lsf][layer-1][index]; lsf is 1 for MPEG-2
// and MPEG-2.5 (they share the "low sampling frequency" tables). Index 0 is
// free format and 15 is forbidden.
var bitrates = [2][3][16]int{
	{ // MPEG-1
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, -1},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, -1},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1},
	},
	{ // MPEG-2 and 2.5
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
	},
}

// sampleRates indexed by [Version-1][index]; index 3 is reserved.
var sampleRates = [3][3]int{
	{44100, 48000, 32000},
	{22050, 24000, 16000},
	{11025, 12000, 8000},
}

// versionBits maps the 2-bit version field to a Version (0 = reserved).
var versionBits = [4]Version{MPEG25, 0, MPEG2, MPEG1}

// ParseHeader decodes the 4-byte frame header at the start of b. It checks
// everything the header alone can tell (sync, reserved values) but not
// whether a frame really follows; Scan does that by requiring consecutive
// headers.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: need %d bytes, have %d", ErrInvalidHeader, HeaderSize, len(b))
	}
	if b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Header{}, fmt.Errorf("%w: no frame sync (% x)", ErrInvalidHeader, b[:2])
	}
	v := versionBits[b[1]>>3&3]
	if v == 0 {
		return Header{}, fmt.Errorf("%w: reserved MPEG version", ErrInvalidHeader)
	}
	layer := 4 - int(b[1]>>1&3)
	if layer == 4 {
		return Header{}, fmt.Errorf("%w: reserved layer", ErrInvalidHeader)
	}
	bi := int(b[2] >> 4)
	if bi == 15 {
		return Header{}, fmt.Errorf("%w: forbidden bitrate index 15", ErrInvalidHeader)
	}
	si := int(b[2] >> 2 & 3)
	if si == 3 {
		return Header{}, fmt.Errorf("%w: reserved sample rate index", ErrInvalidHeader)
	}
	if bi == 0 {
		return Header{}, ErrFreeFormat
	}
	h := Header{
		Version:     v,
		Layer:       layer,
		SampleRate:  sampleRates[v-1][si],
		ChannelMode: int(b[3] >> 6),
		Padding:     b[2]&2 != 0,
		Protected:   b[1]&1 == 0, // the bit is "protection absent"
	}
	lsf := 0
	if v != MPEG1 {
		lsf = 1
	}
	h.Bitrate = bitrates[lsf][layer-1][bi] * 1000
	h.Channels = 2
	if h.ChannelMode == ChannelMono {
		h.Channels = 1
	}
	h.SamplesPerFrame, h.FrameSize = frameSize(v, layer, h.Bitrate, h.SampleRate, h.Padding)
	return h, nil
}

// frameSize returns samples per frame and the frame length in bytes. The
// padding unit ("slot") is 4 bytes in Layer I and 1 byte otherwise.
func frameSize(v Version, layer, bitrate, sampleRate int, padding bool) (samples, size int) {
	pad := 0
	if padding {
		pad = 1
	}
	switch {
	case layer == 1:
		return 384, (12*bitrate/sampleRate + pad) * 4
	case layer == 3 && v != MPEG1:
		return 576, 72*bitrate/sampleRate + pad
	default: // Layer II, MPEG-1 Layer III
		return 1152, 144*bitrate/sampleRate + pad
	}
}

// SideInfoSize is the size of the Layer III side information that follows the header (and
// CRC); the Xing/Info tag starts right after it.
func (h Header) SideInfoSize() int {
	mono := h.ChannelMode == ChannelMono
	switch {
	case h.Version == MPEG1 && mono:
		return 17
	case h.Version == MPEG1:
		return 32
	case mono:
		return 9
	default:
		return 17
	}
}

// streamMask selects the header bits that must not change between frames of
// one stream: sync, version, layer and sample rate. (Bitrate, padding, CRC,
// and channel mode may legitimately vary frame to frame.) ffmpeg's demuxer
// uses the same mask to decide whether two headers belong together.
const streamMask = 0xFFFE0C00

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
