package mp3

import (
	"errors"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want Header
	}{
		{
			// 0xFB: MPEG-1, Layer III, no CRC. 0x90: 128 kbit/s, 44.1 kHz.
			name: "MPEG-1 L3 128k 44.1k stereo",
			b:    []byte{0xFF, 0xFB, 0x90, 0x00},
			want: Header{Version: MPEG1, Layer: 3, Bitrate: 128000, SampleRate: 44100, Channels: 2,
				ChannelMode: ChannelStereo, FrameSize: 417, SamplesPerFrame: 1152},
		},
		{
			name: "MPEG-1 L3 128k 44.1k padded joint stereo",
			b:    []byte{0xFF, 0xFB, 0x92, 0x40},
			want: Header{Version: MPEG1, Layer: 3, Bitrate: 128000, SampleRate: 44100, Channels: 2,
				ChannelMode: ChannelJointStereo, Padding: true, FrameSize: 418, SamplesPerFrame: 1152},
		},
		{
			// 0xFA: protection bit clear = CRC present.
			name: "MPEG-1 L3 320k 48k mono CRC",
			b:    []byte{0xFF, 0xFA, 0xE4, 0xC0},
			want: Header{Version: MPEG1, Layer: 3, Bitrate: 320000, SampleRate: 48000, Channels: 1,
				ChannelMode: ChannelMono, Protected: true, FrameSize: 960, SamplesPerFrame: 1152},
		},
		{
			// 0xF3: MPEG-2 Layer III. 0x80: 64 kbit/s, 22.05 kHz.
			name: "MPEG-2 L3 64k 22.05k",
			b:    []byte{0xFF, 0xF3, 0x80, 0xC0},
			want: Header{Version: MPEG2, Layer: 3, Bitrate: 64000, SampleRate: 22050, Channels: 1,
				ChannelMode: ChannelMono, FrameSize: 208, SamplesPerFrame: 576},
		},
		{
			// 0xE3: MPEG-2.5 Layer III. 0x84: 64 kbit/s, 12 kHz.
			name: "MPEG-2.5 L3 64k 12k",
			b:    []byte{0xFF, 0xE3, 0x84, 0x80},
			want: Header{Version: MPEG25, Layer: 3, Bitrate: 64000, SampleRate: 12000, Channels: 2,
				ChannelMode: ChannelDual, FrameSize: 384, SamplesPerFrame: 576},
		},
		{
			name: "MPEG-2.5 L3 8k 8k",
			b:    []byte{0xFF, 0xE3, 0x18, 0xC0},
			want: Header{Version: MPEG25, Layer: 3, Bitrate: 8000, SampleRate: 8000, Channels: 1,
				ChannelMode: ChannelMono, FrameSize: 72, SamplesPerFrame: 576},
		},
		{
			// 0xFD: MPEG-1 Layer II. 0xA0: 192 kbit/s at 44.1 kHz.
			name: "MPEG-1 L2 192k 44.1k",
			b:    []byte{0xFF, 0xFD, 0xA0, 0x00},
			want: Header{Version: MPEG1, Layer: 2, Bitrate: 192000, SampleRate: 44100, Channels: 2,
				FrameSize: 626, SamplesPerFrame: 1152},
		},
		{
			// 0xFF: MPEG-1 Layer I. 0xCA: index 12 (384 kbit/s in the
			// Layer I table), 32 kHz, padding: a 4-byte slot.
			name: "MPEG-1 L1 384k 32k padded",
			b:    []byte{0xFF, 0xFF, 0xCA, 0x00},
			want: Header{Version: MPEG1, Layer: 1, Bitrate: 384000, SampleRate: 32000, Channels: 2,
				Padding: true, FrameSize: (12*384000/32000 + 1) * 4, SamplesPerFrame: 384},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseHeader(% x)\n got %+v\nwant %+v", tt.b, got, tt.want)
			}
			if bits := headerBits(got) & streamMask; bits != be32(tt.b)&streamMask {
				t.Errorf("headerBits = %08x, want %08x", bits, be32(tt.b)&streamMask)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", []byte{0xFF, 0xFB, 0x90}, ErrInvalidHeader},
		{"no sync", []byte{0x49, 0x44, 0x33, 0x03}, ErrInvalidHeader},
		{"11-bit sync incomplete", []byte{0xFF, 0xDB, 0x90, 0x00}, ErrInvalidHeader},
		{"reserved version", []byte{0xFF, 0xEB, 0x90, 0x00}, ErrInvalidHeader},
		{"reserved layer", []byte{0xFF, 0xF9, 0x90, 0x00}, ErrInvalidHeader},
		{"bitrate index 15", []byte{0xFF, 0xFB, 0xF0, 0x00}, ErrInvalidHeader},
		{"reserved sample rate", []byte{0xFF, 0xFB, 0x9C, 0x00}, ErrInvalidHeader},
		{"free format", []byte{0xFF, 0xFB, 0x00, 0x00}, ErrFreeFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseHeader(% x) = %+v, %v; want %v", tt.b, h, err, tt.want)
			}
			if h != (Header{}) {
				t.Errorf("non-zero header %+v with error", h)
			}
		})
	}
}

// TestHeaderSpace walks every 4-byte header with a sync word (the last byte
// only carries mode and flags, two values suffice) and checks the
// invariants Scan relies on: frame sizes within [MinFrameSize,
// MaxFrameSize], both bounds reached, and headerBits/streamMask agreeing
// with ParseHeader.
func TestHeaderSpace(t *testing.T) {
	minSeen, maxSeen := MaxFrameSize, 0
	valid := 0
	for b1 := 0xE0; b1 <= 0xFF; b1++ {
		for b2 := 0; b2 <= 0xFF; b2++ {
			for _, b3 := range []byte{0x00, 0xC0} {
				b := []byte{0xFF, byte(b1), byte(b2), b3}
				h, err := ParseHeader(b)
				if err != nil {
					continue
				}
				valid++
				if h.FrameSize < MinFrameSize || h.FrameSize > MaxFrameSize {
					t.Fatalf("% x: frame size %d outside [%d, %d]", b, h.FrameSize, MinFrameSize, MaxFrameSize)
				}
				if h.FrameSize < HeaderSize+h.SideInfoSize() && h.Layer == 3 && h.Version == MPEG1 {
					t.Fatalf("% x: frame smaller than its side info", b)
				}
				minSeen, maxSeen = min(minSeen, h.FrameSize), max(maxSeen, h.FrameSize)
				if headerBits(h)&streamMask != be32(b)&streamMask {
					t.Fatalf("% x: headerBits %08x", b, headerBits(h))
				}
				if h.Channels != 1 && h.Channels != 2 || h.Bitrate <= 0 || h.SampleRate <= 0 {
					t.Fatalf("% x: %+v", b, h)
				}
			}
		}
	}
	if minSeen != MinFrameSize || maxSeen != MaxFrameSize {
		t.Errorf("frame sizes span [%d, %d], constants say [%d, %d]", minSeen, maxSeen, MinFrameSize, MaxFrameSize)
	}
	// versions x layers x CRC x bitrates x rates x padding x private bit x modes
	if want := 3 * 3 * 2 * 14 * 3 * 2 * 2 * 2; valid != want {
		t.Errorf("%d valid headers, want %d", valid, want)
	}
}

func TestVersionString(t *testing.T) {
	for v, want := range map[Version]string{MPEG1: "MPEG-1", MPEG2: "MPEG-2", MPEG25: "MPEG-2.5", 0: "Version(0)"} {
		if got := v.String(); got != want {
			t.Errorf("%d: %q, want %q", int(v), got, want)
		}
	}
}
