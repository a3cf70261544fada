package mp3

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"drmpack/internal/mediatest"
)

// TestInfoUpdateOnFFmpegsTag rewrites the Xing/LAME tag ffmpeg wrote with what ffmpeg wrote: the
// counts, the delay and padding must come out the same, and the tag CRC must equal ffmpeg's
// (an independent CRC-16 implementation, libavutil's).
func TestInfoUpdateOnFFmpegsTag(t *testing.T) {
	for _, name := range []string{"audio.mp3", "audio_vbr_id3.mp3"} {
		b, err := os.ReadFile(filepath.Join(mediatest.Media(t), name))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil || s.Info == nil || s.Info.Encoder == "" {
			t.Fatalf("%s: %v, want a Xing/LAME tag", name, err)
		}
		orig := b[s.Info.Offset : s.Info.Offset+int64(s.Info.Size)]
		frame := bytes.Clone(orig)
		u := InfoUpdate{Delay: s.EncoderDelay, Padding: s.EncoderPadding}
		for _, f := range s.Frames {
			u.Sizes = append(u.Sizes, f.Size)
		}
		if err := UpdateInfoFrame(frame, u); err != nil {
			t.Fatal(err)
		}
		h, _ := ParseHeader(frame)
		got, want := parseInfoTag(frame, h), parseInfoTag(orig, h)
		if got.Frames != want.Frames || got.Bytes != want.Bytes || got.EncoderDelay != want.EncoderDelay || got.EncoderPadding != want.EncoderPadding {
			t.Fatalf("%s: rewritten tag %+v, ffmpeg's %+v", name, got, want)
		}
		// The seek table follows LAME's definition; ffmpeg's muxer samples its positions one
		// percent later, so the two agree to within that.
		xing := HeaderSize + h.SideInfoSize() + 16
		for i := range 100 {
			if d := int(frame[xing+i]) - int(orig[xing+i]); d < -4 || d > 4 {
				t.Fatalf("%s: TOC\n% x\nffmpeg's\n% x", name, frame[xing:xing+100], orig[xing:xing+100])
			}
		}
		const crcAt = 190 // MPEG-1 stereo: header, side info, Xing with every field, LAME tag
		if stored := binary.BigEndian.Uint16(orig[crcAt:]); crc16(orig[:crcAt]) != stored {
			t.Fatalf("%s: CRC %04x of ffmpeg's tag, ffmpeg stored %04x", name, crc16(orig[:crcAt]), stored)
		}
		if binary.BigEndian.Uint16(frame[crcAt:]) != crc16(frame[:crcAt]) {
			t.Fatalf("%s: rewritten tag CRC not updated", name)
		}
	}
}

func TestInfoUpdateSynthetic(t *testing.T) {
	spec := mp3Hdr(128)
	all := uint32(xingFlagFrames | xingFlagBytes | xingFlagTOC | xingFlagQuality)
	sizes := []uint32{417, 418, 417, 418, 100, 1000}
	var total uint32
	for _, s := range sizes {
		total += s
	}

	x := xingFrame(t, spec, "Xing", lameSpec{"LAME3.100", 576, 1000, all, 99, 99})
	if err := UpdateInfoFrame(x, InfoUpdate{Sizes: sizes, Delay: 1775, Padding: 4095}); err != nil {
		t.Fatal(err)
	}
	h, _ := ParseHeader(x)
	tag := parseInfoTag(x, h)
	if tag.Frames != 6 || tag.Bytes != total+uint32(len(x)) || tag.EncoderDelay != 1775 || tag.EncoderPadding != 4095 {
		t.Fatalf("Xing after update: %+v", tag)
	}
	toc := x[HeaderSize+h.SideInfoSize()+16:][:100]
	for i := 1; i < 100; i++ {
		if toc[i] < toc[i-1] {
			t.Fatalf("TOC not monotonic: % x", toc)
		}
	}
	if toc[0] != 0 || toc[99] == 0 {
		t.Fatalf("TOC % x", toc)
	}

	// Without the optional fields and the LAME extension only the tag's own fields change.
	bare := xingFrame(t, spec, "Info", lameSpec{flags: xingFlagFrames})
	before := bytes.Clone(bare)
	if err := UpdateInfoFrame(bare, InfoUpdate{Sizes: sizes, Delay: 100}); err != nil {
		t.Fatal(err)
	}
	if tag := parseInfoTag(bare, h); tag.Frames != 6 || tag.Encoder != "" {
		t.Fatalf("Info after update: %+v", tag)
	}
	if n := countDiff(before, bare); n > 4 {
		t.Fatalf("%d bytes changed, want only the frame count", n)
	}

	v := vbriFrame(t, spec, 1, 1)
	if err := UpdateInfoFrame(v, InfoUpdate{Sizes: sizes}); err != nil {
		t.Fatal(err)
	}
	if tag := parseInfoTag(v, h); tag.Kind != KindVBRI || tag.Frames != 6 || tag.Bytes != total+uint32(len(v)) {
		t.Fatalf("VBRI after update: %+v", tag)
	}

	if err := UpdateInfoFrame(spec.frame(t), InfoUpdate{}); err != ErrNoInfoTag {
		t.Fatalf("plain frame: %v", err)
	}
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestParseReservoir(t *testing.T) {
	f := mp3Hdr(128).frame(t)
	f[4], f[5] = 0xFF, 0x80 // main_data_begin = 511 (9 bits)
	r, err := ParseReservoir(f)
	if err != nil || r.MainDataBegin != 511 || r.MainDataSize != len(f)-4-32 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseReservoir(f[:5]); err == nil {
		t.Fatal("cut-off side information accepted")
	}
}

// FuzzUpdateInfoFrame rewrites arbitrary first frames: no panic, no change of length, and a tag
// that is still found afterwards with the new frame count.
func FuzzUpdateInfoFrame(f *testing.F) {
	spec := mp3Hdr(128)
	all := uint32(xingFlagFrames | xingFlagBytes | xingFlagTOC | xingFlagQuality)
	f.Add(xingFrame(f, spec, "Xing", lameSpec{"LAME3.100", 576, 1000, all, 2, 2}), uint16(3))
	f.Add(xingFrame(f, hdrSpec{v: MPEG2, layer: 3, kbps: 64, rate: 24000, mode: ChannelMono}, "Info", lameSpec{"Lavf", 0, 0, xingFlagBytes, 0, 0}), uint16(0))
	f.Add(vbriFrame(f, spec, 1, 1), uint16(70))
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x00}, uint16(1))
	f.Fuzz(func(t *testing.T, frame []byte, n uint16) {
		sizes := make([]uint32, n)
		for i := range sizes {
			sizes[i] = uint32(i%7) * 100
		}
		before := len(frame)
		err := UpdateInfoFrame(frame, InfoUpdate{Sizes: sizes, Delay: int(n), Padding: -int(n)})
		if len(frame) != before {
			t.Fatal("frame length changed")
		}
		if err != nil {
			return
		}
		h, _ := ParseHeader(frame)
		tag := parseInfoTag(frame, h)
		if tag == nil {
			t.Fatal("tag lost")
		}
		if tag.Frames != 0 && tag.Frames != uint32(n) {
			t.Fatalf("frames %d, want %d", tag.Frames, n)
		}
	})
}

// TestOwnMainDataTilesTheReservoir reads every frame of real (LAME, CBR and VBR) files: each
// frame's main data, placed MainDataBegin bytes before its payload and OwnMainData long, ends
// before the next frame's begins and never after its own frame; with a wrong bit position the
// 12-bit lengths would be noise and overlap.
func TestOwnMainDataTilesTheReservoir(t *testing.T) {
	for _, name := range []string{"audio.mp3", "audio_vbr_id3.mp3"} {
		b, err := os.ReadFile(filepath.Join(mediatest.Media(t), name))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		stream := 0 // main data bytes of the frames before this one
		prevEnd, used := 0, 0
		for i, f := range s.Frames {
			frame := b[f.Offset : f.Offset+int64(f.Size)]
			r, err := ParseReservoir(frame)
			if err != nil {
				t.Fatal(err)
			}
			own, err := OwnMainData(frame)
			if err != nil {
				t.Fatal(err)
			}
			start := stream - r.MainDataBegin
			if start < prevEnd || start+own > stream+r.MainDataSize {
				t.Fatalf("%s frame %d: main data [%d,%d) overlaps the previous frame's (ends %d) or leaves its own frame (ends %d)",
					name, i, start, start+own, prevEnd, stream+r.MainDataSize)
			}
			prevEnd, used = start+own, used+own
			stream += r.MainDataSize
		}
		// The frames code something (a zero length everywhere would pass the tiling above).
		if used < stream/4 {
			t.Fatalf("%s: %d of %d main data bytes used", name, used, stream)
		}
	}
}
