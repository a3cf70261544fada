package mp3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func newBuilder(t testing.TB) *builder { return &builder{t: t} }

func TestScanCBR(t *testing.T) {
	spec := mp3Hdr(128)
	b := newBuilder(t)
	for i := 0; i < 100; i++ {
		// The padding pattern of a real 44.1 kHz CBR stream is irregular;
		// any pattern will do here.
		spec.padding = i%2 == 1
		b.add(spec, 1)
	}
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
	want := Header{Version: MPEG1, Layer: 3, Bitrate: 128000, SampleRate: 44100, Channels: 2,
		ChannelMode: ChannelJointStereo, FrameSize: 417, SamplesPerFrame: 1152}
	if s.Header != want {
		t.Errorf("Header = %+v, want %+v", s.Header, want)
	}
	if s.Info != nil || s.ID3v2Size != 0 || s.ID3v1 || s.APEv2 || s.Truncated || s.SkippedBytes != 0 {
		t.Errorf("unexpected extras: %+v", s)
	}
	if s.Samples() != 100*1152 {
		t.Errorf("Samples = %d", s.Samples())
	}
	if got, want := s.Duration(), time.Duration(100*1152)*time.Second/44100; got != want {
		t.Errorf("Duration = %v, want %v", got, want)
	}
	// 50 frames of 417 and 50 of 418 bytes over 100*1152 samples.
	if got, want := s.AvgBitrate(), int(int64(417*50+418*50)*8*44100/(100*1152)); got != want {
		t.Errorf("AvgBitrate = %d, want %d", got, want)
	}
	if s.MaxBitrate != 128000 {
		t.Errorf("MaxBitrate = %d", s.MaxBitrate)
	}
}

func TestScanVersionsAndLayers(t *testing.T) {
	tests := []struct {
		name string
		spec hdrSpec
		spf  int
	}{
		{"MPEG-1 Layer I", hdrSpec{v: MPEG1, layer: 1, kbps: 384, rate: 48000}, 384},
		{"MPEG-1 Layer II", hdrSpec{v: MPEG1, layer: 2, kbps: 192, rate: 44100, mode: ChannelMono}, 1152},
		{"MPEG-2 Layer III", hdrSpec{v: MPEG2, layer: 3, kbps: 64, rate: 22050}, 576},
		{"MPEG-2 Layer III 8k 24kHz (smallest frame)", hdrSpec{v: MPEG2, layer: 3, kbps: 8, rate: 24000, mode: ChannelMono}, 576},
		{"MPEG-2.5 Layer III", hdrSpec{v: MPEG25, layer: 3, kbps: 32, rate: 11025}, 576},
		{"MPEG-2 Layer I", hdrSpec{v: MPEG2, layer: 1, kbps: 256, rate: 16000}, 384},
		{"MPEG-1 Layer III with CRC", hdrSpec{v: MPEG1, layer: 3, kbps: 320, rate: 32000, crc: true}, 1152},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(t).add(tt.spec, 20)
			s, err := scanBytes(t, b.bytes())
			if err != nil {
				t.Fatal(err)
			}
			framesEqual(t, s.Frames, b.frames)
			if s.Header.SamplesPerFrame != tt.spf || s.Header.Version != tt.spec.v || s.Header.Layer != tt.spec.layer ||
				s.Header.SampleRate != tt.spec.rate || s.Header.Protected != tt.spec.crc {
				t.Errorf("Header = %+v", s.Header)
			}
			if got, want := s.Duration(), time.Duration(20*tt.spf)*time.Second/time.Duration(tt.spec.rate); got != want {
				t.Errorf("Duration = %v, want %v", got, want)
			}
		})
	}
}

// TestScanManyBlocks makes frames straddle many read-block boundaries.
func TestScanManyBlocks(t *testing.T) {
	b := newBuilder(t).vbrFrames(mp3Hdr(0), 5000, 32, 320, 128, 256, 40, 192, 112)
	if len(b.bytes()) < 8*blockSize {
		t.Fatalf("test file too small: %d bytes", len(b.bytes()))
	}
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
	if s.MaxBitrate != 320000 || s.Header.Bitrate != 32000 {
		t.Errorf("MaxBitrate %d, first bitrate %d", s.MaxBitrate, s.Header.Bitrate)
	}
}

// junk returns n random bytes: they contain sync words and valid headers
// (about one per 5 KB), but three chained ones are vanishingly unlikely. It
// starts with a byte that cannot begin a header, so the gap is seen as junk
// from its first byte.
func junk(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[0] = 0
	return b
}

// fakeHeaders returns data with isolated valid headers of spec and pairs of
// chained ones: what compressed audio and JPEGs look like to a scanner,
// and exactly what syncFrames must reject.
func fakeHeaders(t testing.TB, spec hdrSpec) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 1, 2, 3})
	for i := 0; i < 5; i++ {
		b.Write(spec.bytes(t)) // lone header followed by zeros
		b.Write(make([]byte, 50))
	}
	// Two chained frames, then something else where the third should be.
	b.Write(spec.frame(t))
	b.Write(spec.frame(t))
	b.Write([]byte{0, 0, 0, 0, 0})
	return b.Bytes()
}

func TestScanResync(t *testing.T) {
	spec := mp3Hdr(128)
	j := append(junk(3000, 1), fakeHeaders(t, spec)...)
	b := newBuilder(t).add(spec, 30).raw(j).add(spec, 30)
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
	if s.SkippedBytes != int64(len(j)) {
		t.Errorf("SkippedBytes = %d, want %d", s.SkippedBytes, len(j))
	}
}

func TestScanLostSync(t *testing.T) {
	spec := mp3Hdr(128)
	b := newBuilder(t).add(spec, 30).raw(make([]byte, maxJunk+1)).add(spec, 30)
	_, err := scanBytes(t, b.bytes())
	if !errors.Is(err, ErrLostSync) {
		t.Fatalf("err = %v, want ErrLostSync", err)
	}
	// The largest gap that is still tolerated.
	b = newBuilder(t).add(spec, 30).raw(make([]byte, maxJunk)).add(spec, 30)
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
}

func TestScanTrailingGarbage(t *testing.T) {
	spec := mp3Hdr(128)
	fake := fakeHeaders(t, spec)
	for _, n := range []int{1, 3, 4, 1000, maxJunk - len(fake)} {
		j := append(append([]byte{}, fake...), junk(n, uint64(n))...)
		b := newBuilder(t).add(spec, 10).raw(j)
		s, err := scanBytes(t, b.bytes())
		if err != nil {
			t.Fatalf("%d bytes of garbage: %v", n, err)
		}
		framesEqual(t, s.Frames, b.frames)
		if s.SkippedBytes != int64(len(j)) {
			t.Errorf("SkippedBytes = %d, want %d", s.SkippedBytes, len(j))
		}
	}
}

func TestScanMixedFormat(t *testing.T) {
	base := mp3Hdr(128)
	rate, version, layer := base, base, base
	rate.rate = 48000
	version.v, version.rate, version.kbps = MPEG2, 22050, 64
	layer.layer = 2
	for name, other := range map[string]hdrSpec{"sample rate": rate, "version": version, "layer": layer} {
		t.Run(name, func(t *testing.T) {
			// Directly adjacent, and after junk.
			for _, gap := range [][]byte{nil, junk(500, 7)} {
				b := newBuilder(t).add(base, 20).raw(gap).add(other, 20)
				_, err := scanBytes(t, b.bytes())
				if !errors.Is(err, ErrMixedFormat) {
					t.Fatalf("gap %d: err = %v, want ErrMixedFormat", len(gap), err)
				}
			}
		})
	}
}

// Channel mode and bitrate are per frame; a change is not an error.
func TestScanChannelModeChange(t *testing.T) {
	mono := mp3Hdr(128)
	mono.mode = ChannelMono
	b := newBuilder(t).add(mp3Hdr(128), 10).add(mono, 10).add(mp3Hdr(320), 10)
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
}

func TestScanFreeFormat(t *testing.T) {
	free := mp3Hdr(0)
	var b bytes.Buffer
	for i := 0; i < 20; i++ {
		b.Write(free.bytes(t))
		b.Write(make([]byte, 600))
	}
	_, err := scanBytes(t, b.Bytes())
	if !errors.Is(err, ErrFreeFormat) {
		t.Fatalf("err = %v, want ErrFreeFormat", err)
	}
	// A lone free-format header in junk is just junk.
	bb := newBuilder(t).raw(free.bytes(t)).raw(make([]byte, 100)).add(mp3Hdr(128), 5)
	s, err := scanBytes(t, bb.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, bb.frames)
}

func apeTag(body []byte, withHeader bool) []byte {
	hdr := func(flags uint32) []byte {
		b := make([]byte, apeFooterSize)
		copy(b, "APETAGEX")
		binary.LittleEndian.PutUint32(b[8:], 2000)
		binary.LittleEndian.PutUint32(b[12:], uint32(len(body)+apeFooterSize))
		binary.LittleEndian.PutUint32(b[16:], 1)
		binary.LittleEndian.PutUint32(b[20:], flags)
		return b
	}
	var out []byte
	flags := uint32(0)
	if withHeader {
		flags = 1 << 31
		out = append(out, hdr(flags|1<<29)...)
	}
	out = append(out, body...)
	return append(out, hdr(flags)...)
}

func lyrics3(text string) []byte {
	b := []byte("LYRICSBEGIN" + "LYR" + fmt.Sprintf("%05d", len(text)) + text)
	return append(b, fmt.Sprintf("%06dLYRICS200", len(b))...)
}

func TestScanTags(t *testing.T) {
	spec := mp3Hdr(128)
	// The tag bodies hold chains of valid frames: if a tag were not
	// recognised, its content would be indexed as audio.
	chain := newBuilder(t).add(spec, 5).bytes()
	v24 := id3v2(chain)
	v24[3] = 4
	v24[5] = 0x10 // footer present
	footer := append([]byte("3DI"), v24[3:10]...)
	v24 = append(v24, footer...)

	tests := []struct {
		name         string
		head, tail   []byte
		id3v1, apev2 bool
	}{
		{"ID3v2.3 only", id3v2(chain), nil, false, false},
		{"ID3v2.4 with footer", v24, nil, false, false},
		{"two ID3v2 tags", append(id3v2(chain), id3v2([]byte("x"))...), nil, false, false},
		{"ID3v1", nil, id3v1("title"), true, false},
		{"APEv2 with header", nil, apeTag(chain, true), false, true},
		{"APEv2 without header + ID3v1", nil, append(apeTag(chain, false), id3v1("t")...), true, true},
		{"Lyrics3v2 + ID3v1", nil, append(lyrics3("la la"), id3v1("t")...), true, false},
		{"APEv2 + Lyrics3v2 + ID3v1", id3v2(nil), append(append(apeTag(chain, true), lyrics3(string(chain))...), id3v1("t")...), true, true},
		{"appended ID3v2.4 + ID3v1", nil, append(append([]byte{}, v24...), id3v1("t")...), true, false},
		{"enhanced ID3v1", nil, append(append([]byte("TAG+"), make([]byte, id3v1ExtSize-4)...), id3v1("t")...), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(t).raw(tt.head).add(spec, 20).raw(tt.tail)
			s, err := scanBytes(t, b.bytes())
			if err != nil {
				t.Fatal(err)
			}
			framesEqual(t, s.Frames, b.frames)
			if s.ID3v2Size != int64(len(tt.head)) {
				t.Errorf("ID3v2Size = %d, want %d", s.ID3v2Size, len(tt.head))
			}
			if want := int64(len(b.bytes()) - len(tt.tail)); s.TrailerOffset != want {
				t.Errorf("TrailerOffset = %d, want %d", s.TrailerOffset, want)
			}
			if s.ID3v1 != tt.id3v1 || s.APEv2 != tt.apev2 {
				t.Errorf("ID3v1 %v APEv2 %v, want %v %v", s.ID3v1, s.APEv2, tt.id3v1, tt.apev2)
			}
			if s.SkippedBytes != 0 {
				t.Errorf("SkippedBytes = %d", s.SkippedBytes)
			}
		})
	}
}

// TestScanLeadingJunk covers what sits between the ID3v2 tag and the first
// frame in real files: zero padding, and the rest of a tag whose declared
// size is too small (here full of sync words, as cover art is).
func TestScanLeadingJunk(t *testing.T) {
	spec := mp3Hdr(128)
	for name, j := range map[string][]byte{
		"zero padding":         make([]byte, 5000),
		"false syncs":          append(junk(20000, 3), fakeHeaders(t, spec)...),
		"other-format headers": fakeHeaders(t, hdrSpec{v: MPEG2, layer: 3, kbps: 64, rate: 24000}),
	} {
		t.Run(name, func(t *testing.T) {
			b := newBuilder(t).raw(id3v2([]byte("short"))).raw(j).add(spec, 20)
			s, err := scanBytes(t, b.bytes())
			if err != nil {
				t.Fatal(err)
			}
			framesEqual(t, s.Frames, b.frames)
			if s.ID3v2Size != 15 || s.SkippedBytes != int64(len(j)) {
				t.Errorf("ID3v2Size %d, SkippedBytes %d", s.ID3v2Size, s.SkippedBytes)
			}
		})
	}
}

func TestScanMidStreamID3(t *testing.T) {
	spec := mp3Hdr(128)
	tag := id3v2(newBuilder(t).add(spec, 5).bytes())
	b := newBuilder(t).add(spec, 10).raw(tag).add(spec, 10)
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
	if s.SkippedBytes != int64(len(tag)) {
		t.Errorf("SkippedBytes = %d, want %d", s.SkippedBytes, len(tag))
	}
}

type lameSpec struct {
	encoder          string
	delay, padding   int
	flags            uint32
	frames, numBytes uint32
}

// xingFrame builds a Xing/Info frame like LAME's: tag after the side info,
// all four optional fields, then the LAME extension.
func xingFrame(t testing.TB, spec hdrSpec, kind string, l lameSpec) []byte {
	f := spec.frame(t)
	h, _ := ParseHeader(f)
	off := HeaderSize + h.SideInfoSize()
	if h.Protected {
		off += 2
	}
	p := f[off:]
	copy(p, kind)
	binary.BigEndian.PutUint32(p[4:], l.flags)
	q := 8
	if l.flags&xingFlagFrames != 0 {
		binary.BigEndian.PutUint32(p[q:], l.frames)
		q += 4
	}
	if l.flags&xingFlagBytes != 0 {
		binary.BigEndian.PutUint32(p[q:], l.numBytes)
		q += 4
	}
	if l.flags&xingFlagTOC != 0 {
		for i := 0; i < 100; i++ {
			p[q+i] = byte(i * 255 / 100)
		}
		q += 100
	}
	if l.flags&xingFlagQuality != 0 {
		q += 4
	}
	if l.encoder != "" {
		copy(p[q:], l.encoder)
		p[q+21] = byte(l.delay >> 4)
		p[q+22] = byte(l.delay<<4) | byte(l.padding>>8)
		p[q+23] = byte(l.padding)
	}
	return f
}

func vbriFrame(t testing.TB, spec hdrSpec, frames, numBytes uint32) []byte {
	f := spec.frame(t)
	p := f[vbriOffset:]
	copy(p, "VBRI")
	binary.BigEndian.PutUint16(p[4:], 1)
	binary.BigEndian.PutUint16(p[6:], 0x0480) // delay field, ignored
	binary.BigEndian.PutUint32(p[10:], numBytes)
	binary.BigEndian.PutUint32(p[14:], frames)
	return f
}

func TestScanInfoTags(t *testing.T) {
	stereo := mp3Hdr(128)
	mono := hdrSpec{v: MPEG2, layer: 3, kbps: 160, rate: 22050, mode: ChannelMono}
	crc := stereo
	crc.crc = true
	all := uint32(xingFlagFrames | xingFlagBytes | xingFlagTOC | xingFlagQuality)
	tests := []struct {
		name  string
		spec  hdrSpec
		frame []byte
		want  InfoTag
	}{
		{"LAME Xing", stereo, xingFrame(t, stereo, "Xing", lameSpec{"LAME3.100", 576, 1234, all, 20, 9999}),
			InfoTag{Kind: KindXing, Frames: 20, Bytes: 9999, Encoder: "LAME3.100", EncoderDelay: 576, EncoderPadding: 1234}},
		{"Lavc Info mono MPEG-2", mono, xingFrame(t, mono, "Info", lameSpec{"Lavc59.37", 576, 4095, all, 20, 1}),
			InfoTag{Kind: KindInfo, Frames: 20, Bytes: 1, Encoder: "Lavc59.37", EncoderDelay: 576, EncoderPadding: 4095}},
		{"Xing frames only, no LAME", stereo, xingFrame(t, stereo, "Xing", lameSpec{flags: xingFlagFrames, frames: 7}),
			InfoTag{Kind: KindXing, Frames: 7}},
		{"LAME prefix, unprintable rest", stereo, xingFrame(t, stereo, "Xing", lameSpec{"LAME\x01\x02", 1152, 7, all, 20, 1}),
			InfoTag{Kind: KindXing, Frames: 20, Bytes: 1, EncoderDelay: 1152, EncoderPadding: 7}},
		{"zero placeholder", stereo, xingFrame(t, stereo, "Info", lameSpec{}), InfoTag{Kind: KindInfo}},
		{"untrusted encoder", stereo, xingFrame(t, stereo, "Xing", lameSpec{"GOGO1.0", 576, 100, all, 20, 1}),
			InfoTag{Kind: KindXing, Frames: 20, Bytes: 1, Encoder: "GOGO1.0"}},
		{"Xing after CRC", crc, xingFrame(t, crc, "Xing", lameSpec{"LAME3.99r", 1105, 0, all, 3, 4}),
			InfoTag{Kind: KindXing, Frames: 3, Bytes: 4, Encoder: "LAME3.99r", EncoderDelay: 1105}},
		{"VBRI", stereo, vbriFrame(t, stereo, 20, 8888), InfoTag{Kind: KindVBRI, Frames: 20, Bytes: 8888}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag := id3v2([]byte("tag"))
			b := newBuilder(t).raw(tag).raw(tt.frame).add(tt.spec, 20)
			s, err := scanBytes(t, b.bytes())
			if err != nil {
				t.Fatal(err)
			}
			framesEqual(t, s.Frames, b.frames)
			want := tt.want
			want.Offset, want.Size = int64(len(tag)), len(tt.frame)
			if s.Info == nil || *s.Info != want {
				t.Fatalf("Info = %+v, want %+v", s.Info, want)
			}
			if s.EncoderDelay != want.EncoderDelay || s.EncoderPadding != want.EncoderPadding {
				t.Errorf("stream delay/padding %d/%d", s.EncoderDelay, s.EncoderPadding)
			}
			if got, want := s.GaplessSamples(), s.Samples()-int64(want.EncoderDelay+want.EncoderPadding); got != max(want, 0) {
				t.Errorf("GaplessSamples = %d, want %d", got, want)
			}
		})
	}
	// Only the first frame can be an info frame; later ones are audio.
	b := newBuilder(t).add(stereo, 5)
	b.frames = append(b.frames, Frame{Offset: int64(len(b.bytes())), Size: 417})
	b.raw(xingFrame(t, stereo, "Xing", lameSpec{"LAME3.100", 576, 0, all, 1, 1}))
	s, err := scanBytes(t, b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames)
	if s.Info != nil {
		t.Errorf("Info = %+v for a Xing tag in frame 6", s.Info)
	}
}

func TestScanShortStreams(t *testing.T) {
	spec := mp3Hdr(128)
	for n := 1; n <= 3; n++ {
		b := newBuilder(t).add(spec, n)
		s, err := scanBytes(t, b.bytes())
		if err != nil {
			t.Fatalf("%d frames: %v", n, err)
		}
		framesEqual(t, s.Frames, b.frames)
	}
	// One frame and the start of a second.
	b := newBuilder(t).add(spec, 2)
	data := b.bytes()[:417+100]
	s, err := scanBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	framesEqual(t, s.Frames, b.frames[:1])
	if !s.Truncated {
		t.Error("Truncated not set")
	}
	// A lone header is not a stream.
	if _, err := scanBytes(t, spec.bytes(t)); !errors.Is(err, ErrNoAudio) {
		t.Errorf("lone header: err = %v", err)
	}
	// An info frame alone is not audio.
	all := uint32(xingFlagFrames | xingFlagBytes | xingFlagTOC | xingFlagQuality)
	if _, err := scanBytes(t, xingFrame(t, spec, "Info", lameSpec{"LAME3.100", 576, 0, all, 0, 0})); !errors.Is(err, ErrNoAudio) {
		t.Errorf("info frame only: err = %v", err)
	}
}

func TestScanTruncated(t *testing.T) {
	spec := mp3Hdr(128)
	b := newBuilder(t).add(spec, 50)
	full := b.bytes()
	for _, cut := range []int{1, 2, 3, 4, 100, 416} {
		data := full[:len(full)-cut]
		s, err := scanBytes(t, data)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		framesEqual(t, s.Frames, b.frames[:49])
		// With fewer than 4 bytes of the last frame left, there is no
		// header to call a frame: those bytes are just skipped.
		if s.Truncated != (cut <= 417-HeaderSize) {
			t.Errorf("cut %d: Truncated = %v", cut, s.Truncated)
		}
	}
}

func TestScanNotMP3(t *testing.T) {
	rnd := junk(3<<20, 42)
	tests := map[string][]byte{
		"empty":         {},
		"3 bytes":       {0xFF, 0xFB, 0x90},
		"text":          []byte(strings.Repeat("This is not an MP3 file.\n", 1000)),
		"random":        rnd,
		"ID3 only":      id3v2(bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x00}, 100)),
		"ID3 truncated": id3v2(make([]byte, 1000))[:500],
		"ID3v1 only":    id3v1("x"),
		"zeros":         make([]byte, 10000),
		"0xFF fill":     bytes.Repeat([]byte{0xFF}, 10000),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := scanBytes(t, data)
			if !errors.Is(err, ErrNoAudio) {
				t.Fatalf("err = %v, want ErrNoAudio", err)
			}
		})
	}
}

type errReaderAt struct {
	data []byte
	err  error
	at   int64 // fail reads that reach this offset
}

func (r errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.at {
		return 0, r.err
	}
	return copy(p, r.data[off:]), nil
}

func TestScanReadErrors(t *testing.T) {
	data := newBuilder(t).vbrFrames(mp3Hdr(0), 2000, 128, 320).bytes()
	boom := errors.New("boom")
	// A failing read anywhere is reported, not treated as the end of data.
	for _, at := range []int64{0, 100, int64(len(data)) / 2, int64(len(data)) - 1} {
		_, err := Scan(errReaderAt{data, boom, at}, int64(len(data)))
		if !errors.Is(err, boom) {
			t.Errorf("fail at %d: err = %v", at, err)
		}
	}
	// size larger than what the reader has: an error, not a truncated
	// stream, and no allocation proportional to the claimed size.
	for _, extra := range []int64{1, 1000, 1 << 40} {
		_, err := Scan(bytes.NewReader(data), int64(len(data))+extra)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("size +%d: err = %v, want io.ErrUnexpectedEOF", extra, err)
		}
	}
	if _, err := Scan(bytes.NewReader(data), -1); err == nil {
		t.Error("negative size accepted")
	}
}

func TestScanMemory(t *testing.T) {
	// Even the densest stream's index stays within size/MinFrameSize
	// entries (checked by scanBytes) and Scan does not keep the data.
	data := newBuilder(t).add(hdrSpec{v: MPEG2, layer: 3, kbps: 8, rate: 24000, mode: ChannelMono}, 10000).bytes()
	s, err := scanBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Frames) != len(data)/MinFrameSize {
		t.Errorf("%d frames", len(s.Frames))
	}
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := Scan(bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocations per Scan", allocs)
	}
}

func TestSamplesToDuration(t *testing.T) {
	hours := int64(200)
	n := 44100 * 3600 * hours
	if got, want := samplesToDuration(n, 44100), time.Duration(hours)*time.Hour; got != want {
		t.Errorf("200h: %v, want %v", got, want)
	}
	if got, want := samplesToDuration(1152, 44100), 26122448*time.Nanosecond; got != want {
		t.Errorf("1 frame: %v, want %v", got, want)
	}
	if got := samplesToDuration(5, 0); got != 0 {
		t.Errorf("rate 0: %v", got)
	}
	var s Stream
	if s.Duration() != 0 || s.AvgBitrate() != 0 || s.Samples() != 0 {
		t.Error("zero Stream")
	}
}
