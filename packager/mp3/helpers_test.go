package mp3

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// Synthetic streams: valid headers with zero-filled bodies. Decoders would
// not like them, but Scan only looks at headers and tags, and zero bodies
// cannot contain a false sync, so tests know exactly where frames are.

type hdrSpec struct {
	v       Version
	layer   int
	kbps    int
	rate    int
	padding bool
	mode    int
	crc     bool
}

// mp3Hdr is MPEG-1 Layer III, 44.1 kHz joint stereo at the given bitrate.
func mp3Hdr(kbps int) hdrSpec {
	return hdrSpec{v: MPEG1, layer: 3, kbps: kbps, rate: 44100, mode: ChannelJointStereo}
}

func (s hdrSpec) bytes(t testing.TB) []byte {
	t.Helper()
	var vb byte
	switch s.v {
	case MPEG1:
		vb = 3
	case MPEG2:
		vb = 2
	case MPEG25:
		vb = 0
	}
	bi := -1
	for i, k := range bitrates[lsfIndex(s.v)][s.layer-1] {
		if k == s.kbps && i > 0 && i < 15 {
			bi = i
		}
	}
	if s.kbps == 0 {
		bi = 0 // free format
	}
	si := -1
	for i, r := range sampleRates[s.v-1] {
		if r == s.rate {
			si = i
		}
	}
	if bi < 0 || si < 0 {
		t.Fatalf("no header for %+v", s)
	}
	b := []byte{0xFF, 0xE0 | vb<<3 | byte(4-s.layer)<<1 | 1, byte(bi)<<4 | byte(si)<<2, byte(s.mode) << 6}
	if s.padding {
		b[2] |= 2
	}
	if s.crc {
		b[1] &^= 1
	}
	return b
}

// frame returns a whole frame: header plus zero body.
func (s hdrSpec) frame(t testing.TB) []byte {
	t.Helper()
	h := s.bytes(t)
	ph, err := ParseHeader(h)
	if err != nil {
		t.Fatalf("ParseHeader(% x): %v", h, err)
	}
	f := make([]byte, ph.FrameSize)
	copy(f, h)
	return f
}

// builder assembles a test file and remembers where the frames went.
type builder struct {
	t      testing.TB
	buf    bytes.Buffer
	frames []Frame
}

func (b *builder) raw(p []byte) *builder {
	b.buf.Write(p)
	return b
}

func (b *builder) add(spec hdrSpec, n int) *builder {
	for i := 0; i < n; i++ {
		f := spec.frame(b.t)
		b.frames = append(b.frames, Frame{Offset: int64(b.buf.Len()), Size: uint32(len(f))})
		b.buf.Write(f)
	}
	return b
}

// vbrFrames writes n frames cycling through bitrates and the padding bit.
func (b *builder) vbrFrames(base hdrSpec, n int, kbps ...int) *builder {
	for i := 0; i < n; i++ {
		s := base
		s.kbps = kbps[i%len(kbps)]
		s.padding = i%3 == 0
		b.add(s, 1)
	}
	return b
}

func (b *builder) bytes() []byte { return b.buf.Bytes() }

// id3v2 returns an ID3v2.3 tag with the given body (body not synchsafe
// encoded: tests use bodies without 0xFF 0x00 patterns or do not care).
func id3v2(body []byte) []byte {
	n := len(body)
	h := []byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	return append(h, body...)
}

func id3v1(title string) []byte {
	b := make([]byte, id3v1Size)
	copy(b, "TAG")
	copy(b[3:33], title)
	return b
}

// scanBytes scans an in-memory file and validates the invariants every
// successful Scan must satisfy.
func scanBytes(t testing.TB, data []byte) (*Stream, error) {
	t.Helper()
	s, err := Scan(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if s != nil {
			t.Fatalf("Scan returned a stream with error %v", err)
		}
		return nil, err
	}
	if err := checkStream(s, data); err != nil {
		t.Fatalf("invalid stream: %v", err)
	}
	return s, nil
}

// checkStream verifies what Scan promises about a stream over data.
func checkStream(s *Stream, data []byte) error {
	size := int64(len(data))
	if len(s.Frames) == 0 {
		return errors.New("no frames without error")
	}
	if int64(len(s.Frames)) > size/MinFrameSize {
		return fmt.Errorf("%d frames in %d bytes", len(s.Frames), size)
	}
	if s.ID3v2Size < 0 || s.ID3v2Size > s.TrailerOffset || s.TrailerOffset > size {
		return fmt.Errorf("tag ranges: id3v2 %d, trailer %d, size %d", s.ID3v2Size, s.TrailerOffset, size)
	}
	if s.ID3v1 && (size-s.TrailerOffset < id3v1Size || string(data[size-id3v1Size:size-id3v1Size+3]) != "TAG") {
		return errors.New("ID3v1 set without TAG")
	}
	pos := s.ID3v2Size
	if s.Info != nil {
		if s.Info.Offset < pos || s.Info.Offset+int64(s.Info.Size) > s.Frames[0].Offset {
			return fmt.Errorf("info frame %+v not between tag end %d and first frame %d", s.Info, pos, s.Frames[0].Offset)
		}
		pos = s.Info.Offset + int64(s.Info.Size)
	}
	var used int64
	maxBitrate := 0
	for i, f := range s.Frames {
		if f.Offset < pos || f.Offset+int64(f.Size) > s.TrailerOffset {
			return fmt.Errorf("frame %d %+v out of order or past trailer %d (prev end %d)", i, f, s.TrailerOffset, pos)
		}
		h, err := ParseHeader(data[f.Offset:])
		if err != nil {
			return fmt.Errorf("frame %d: %v", i, err)
		}
		if h.FrameSize != int(f.Size) || h.Version != s.Header.Version || h.Layer != s.Header.Layer || h.SampleRate != s.Header.SampleRate {
			return fmt.Errorf("frame %d header %+v disagrees with size %d / stream %+v", i, h, f.Size, s.Header)
		}
		if i == 0 && h != s.Header {
			return fmt.Errorf("Header %+v is not the first frame's %+v", s.Header, h)
		}
		maxBitrate = max(maxBitrate, h.Bitrate)
		pos = f.Offset + int64(f.Size)
		used += int64(f.Size)
	}
	if maxBitrate != s.MaxBitrate {
		return fmt.Errorf("MaxBitrate %d, frames say %d", s.MaxBitrate, maxBitrate)
	}
	if s.Info != nil {
		used += int64(s.Info.Size)
	}
	if want := s.TrailerOffset - s.ID3v2Size - used; s.SkippedBytes != want || want < 0 {
		return fmt.Errorf("SkippedBytes %d, want %d", s.SkippedBytes, want)
	}
	if s.Duration() < 0 || s.GaplessSamples() < 0 || s.GaplessSamples() > s.Samples() {
		return fmt.Errorf("bad duration %v / samples %d / gapless %d", s.Duration(), s.Samples(), s.GaplessSamples())
	}
	return nil
}

func framesEqual(t *testing.T, got, want []Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
