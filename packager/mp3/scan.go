package mp3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Frame locates one audio frame in the source: one MP4 sample / one PES
// payload unit. Size includes the 4-byte header (and CRC): the packagers copy
// frames verbatim.
type Frame struct {
	Offset int64
	Size   uint32
}

// Stream is the result of Scan: where the audio frames and tags are. It holds
// no audio data, only 16 bytes per frame (2.2 MB per hour of 44.1 kHz audio).
type Stream struct {
	// Header is the header of the first audio frame (after the info
	// frame). Version, Layer and SampleRate hold for every frame; Bitrate,
	// Padding, Protected and the channel mode may vary from frame to frame
	// (VBR; stereo/joint stereo switching). Scan does not reject a change
	// in channel count either, as MP3 decoders follow it per frame.
	Header Header

	// ID3v2Size is the length of the ID3v2 tag(s) at the start of the file,
	// header and footer included: the tag is bytes [0, ID3v2Size). Several
	// back-to-back tags are covered as one range. 0 if there is none.
	ID3v2Size int64

	// ID3v1 is set when the file ends with a 128-byte ID3v1 "TAG"; APEv2
	// when an APEv2 tag precedes it (or ends the file). TrailerOffset is
	// where the trailing tags (APEv2, Lyrics3v2, appended ID3v2.4, ID3v1)
	// begin, the file size if there are none. No frame extends past it.
	ID3v1         bool
	APEv2         bool
	TrailerOffset int64

	// Info is the Xing/Info/LAME or VBRI tag, nil if absent. Its frame is
	// not in Frames.
	Info *InfoTag

	// Frames are the audio frames, in file order.
	Frames []Frame

	// EncoderDelay and EncoderPadding come from the LAME tag, in samples;
	// 0 if unknown. A gapless player starts playback EncoderDelay +
	// DecoderDelay samples into the decoded output and plays
	// GaplessSamples() samples.
	EncoderDelay   int
	EncoderPadding int

	// MaxBitrate is the highest frame bitrate in bits/s (for the MP4
	// decoder config and manifest bandwidth).
	MaxBitrate int

	// SkippedBytes counts the bytes between the ID3v2 tag and
	// TrailerOffset that are neither the info frame nor an audio frame:
	// junk Scan resynchronised over, tags in mid-stream, a final partial
	// frame. 0 for a clean file.
	SkippedBytes int64

	// Truncated is set when the file ends in the middle of a frame; that
	// frame is dropped.
	Truncated bool
}

// Samples is the number of PCM samples (per channel) the frames decode to.
func (s *Stream) Samples() int64 {
	return int64(len(s.Frames)) * int64(s.Header.SamplesPerFrame)
}

// GaplessSamples is Samples without the encoder delay and padding: the
// length of the original audio when the LAME tag is present.
func (s *Stream) GaplessSamples() int64 {
	return max(0, s.Samples()-int64(s.EncoderDelay)-int64(s.EncoderPadding))
}

// Duration is the decoded length of the frames, frames × SamplesPerFrame /
// SampleRate, truncated to the nanosecond. It includes encoder delay and
// padding, like ffprobe's stream duration.
func (s *Stream) Duration() time.Duration {
	return samplesToDuration(s.Samples(), s.Header.SampleRate)
}

// AvgBitrate is the mean bitrate of the audio frames in bits/s.
func (s *Stream) AvgBitrate() int {
	n := s.Samples()
	if n == 0 {
		return 0
	}
	var bytes int64
	for _, f := range s.Frames {
		bytes += int64(f.Size)
	}
	return int(bytes * 8 * int64(s.Header.SampleRate) / n)
}

// samplesToDuration avoids the overflow of n*time.Second/rate, which would
// wrap after ~58 hours of 44.1 kHz audio.
func samplesToDuration(n int64, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	r := int64(rate)
	return time.Duration(n/r)*time.Second + time.Duration(n%r*int64(time.Second)/r)
}

// Tuning of the scan.
const (
	// blockSize is the read granularity. It is far larger than any frame
	// (MaxFrameSize) or tag structure we peek at, so a frame header is
	// almost always already buffered, and large enough that a ReadAt
	// costs little per byte.
	blockSize = 128 << 10

	// syncFrames consecutive matching headers are required before Scan
	// believes it has found the stream, at the start or after junk. One
	// 0xFFE sync word turns up by chance every few KB of compressed
	// audio or JPEG data; three chained ones essentially never.
	syncFrames = 3

	// maxLeadingJunk bounds the search for the first frame after the
	// ID3v2 tag (encoders' zero padding, a tag whose declared size is too
	// small, a RIFF/WAVE wrapper). Past it the input is not MP3.
	maxLeadingJunk = 1 << 20

	// maxJunk bounds the gap Scan skips between two frames. Damaged
	// streams have gaps of a few bytes to a few KB; a larger one means
	// the file is not what it claims, and silently dropping that much
	// audio from a package would be worse than failing.
	maxJunk = 64 << 10

	// maxFreeFormatFrame bounds the distance between free-format headers
	// that freeFormatAt looks for (640 kbit/s at 32 kHz is 2880 bytes).
	maxFreeFormatFrame = 4096

	// trailerBlockSize is the buffer for peeking at the trailing tags'
	// footers, which are a few dozen bytes each.
	trailerBlockSize = 4 << 10

	// keepBehind is how much of the current block a forward refill keeps
	// (see blockReader.at); more than confirm's look-ahead of
	// (syncFrames-1)*MaxFrameSize+HeaderSize.
	keepBehind = 8 << 10

	// maxFreeFormatChecks bounds the work spent on free-format-looking
	// headers in the search for the first frame: each check scans up to
	// maxFreeFormatFrame bytes, and crafted junk could be full of them.
	maxFreeFormatChecks = 64

	// initialFrameCap caps the index capacity preallocated from the file
	// size, which the caller asserts but the reader may not back.
	initialFrameCap = 1 << 16
)

// Scan reads the stream and builds its frame index.
//
// It skips the ID3v2 tag(s) at the start by their declared size and the
// APEv2/Lyrics3/ID3v1 tags at the end, takes the first audio frame as the
// one where syncFrames consecutive headers agree, and treats a Xing/Info or
// VBRI tag in that frame as metadata (Stream.Info). It then walks the
// stream frame by frame. When a frame does not start where the previous one
// ended, it resyncs over at most maxJunk bytes, again requiring consecutive
// headers so that a stray 0xFFE in junk is not taken for a frame; an ID3v2
// tag met there (concatenated files) is skipped whole.
//
// It fails with ErrNoAudio if there is no audio frame (not an MP3 file,
// tags only), ErrMixedFormat if the MPEG version, layer or sample rate
// changes, ErrFreeFormat for free-format streams, ErrLostSync if a gap is
// too large, and with the reader's error if r cannot deliver size bytes. A
// file cut in the middle of a frame is not an error: the partial frame is
// dropped and Truncated is set.
//
// size is the total byte length. Scan reads through r in blockSize blocks,
// so it is efficient on an *os.File; it does not retain r.
func Scan(r io.ReaderAt, size int64) (*Stream, error) {
	if size < 0 {
		return nil, fmt.Errorf("mp3: negative size %d", size)
	}
	rd := newBlockReader(r, size, blockSize, keepBehind)
	s := &Stream{}

	// Leading ID3v2 tags. They can be large (cover art), which is why they
	// are skipped by size rather than searched through.
	pos := int64(0)
	for size-pos >= id3v2HeaderSize {
		b, err := rd.at(pos, id3v2HeaderSize)
		if err != nil {
			return nil, err
		}
		n := id3v2Size(b)
		if n == 0 {
			break
		}
		pos += n
	}
	if pos >= size && pos > 0 {
		return nil, fmt.Errorf("%w: the ID3v2 tag (%d bytes) leaves no room for audio in the %d-byte file", ErrNoAudio, pos, size)
	}
	s.ID3v2Size = pos

	// The trailer gets its own small buffer so that peeking at the end of
	// the file does not evict the first block, which the frame scan reads
	// next.
	tr, err := readTrailer(newBlockReader(r, size, trailerBlockSize, 0), pos, size)
	if err != nil {
		return nil, err
	}
	s.ID3v1, s.APEv2, s.TrailerOffset = tr.id3v1, tr.apev2, tr.start

	sc := &scanner{rd: rd, end: tr.start}
	p, h, err := sc.findSync(pos, pos+maxLeadingJunk, nil)
	if err != nil {
		return nil, err
	}
	if p < 0 {
		if tr.start-pos > maxLeadingJunk {
			return nil, fmt.Errorf("%w in the first %d bytes after offset %d (not an MP3 file?)", ErrNoAudio, maxLeadingJunk, pos)
		}
		return nil, fmt.Errorf("%w (not an MP3 file?)", ErrNoAudio)
	}

	// The info tag, if any, is in the first frame. confirm has checked
	// that the frame is complete unless the file ends within it.
	if p+int64(h.FrameSize) <= sc.end {
		b, err := rd.at(p, h.FrameSize)
		if err != nil {
			return nil, err
		}
		if t := parseInfoTag(b[:h.FrameSize], h); t != nil {
			t.Offset, t.Size = p, h.FrameSize
			s.Info = t
			s.EncoderDelay, s.EncoderPadding = t.EncoderDelay, t.EncoderPadding
			p += int64(h.FrameSize)
		}
	}

	if err := sc.walk(s, p, h); err != nil {
		return nil, err
	}
	if len(s.Frames) == 0 {
		if s.Info != nil {
			return nil, fmt.Errorf("%w: only a %s tag frame", ErrNoAudio, s.Info.Kind)
		}
		return nil, ErrNoAudio
	}
	skipped := s.TrailerOffset - s.ID3v2Size
	if s.Info != nil {
		skipped -= int64(s.Info.Size)
	}
	for _, f := range s.Frames {
		skipped -= int64(f.Size)
	}
	s.SkippedBytes = skipped
	return s, nil
}

// scanner walks frames between the leading tags and end (the start of the
// trailing tags).
type scanner struct {
	rd         *blockReader
	end        int64
	freeChecks int // freeFormatAt calls so far
}

// walk appends the frames from p on to s.Frames. ref is a header of the
// stream: every frame must match it under streamMask.
func (sc *scanner) walk(s *Stream, p int64, ref Header) error {
	// The per-frame work is a mask compare and a table lookup: frame sizes
	// for the stream's version/layer/sample rate, by bitrate index and
	// padding bit. 0 marks the free and forbidden indexes.
	var sizes [16][2]uint32
	for bi := 1; bi < 15; bi++ {
		br := bitrates[lsfIndex(ref.Version)][ref.Layer-1][bi] * 1000
		_, sizes[bi][0] = frameSizeU(ref.Version, ref.Layer, br, ref.SampleRate, false)
		_, sizes[bi][1] = frameSizeU(ref.Version, ref.Layer, br, ref.SampleRate, true)
	}
	refBits := headerBits(ref) & streamMask

	if n := (sc.end - p) / int64(ref.FrameSize); n > 0 {
		s.Frames = make([]Frame, 0, min(n+1, initialFrameCap))
	}
	var maxBI uint32
	first := true
	for {
		if sc.end-p < HeaderSize {
			break // nothing, or a few bytes too short to be a frame
		}
		b, err := sc.rd.at(p, HeaderSize)
		if err != nil {
			return err
		}
		hb := be32(b)
		if hb&streamMask == refBits {
			bi := hb >> 12 & 0xF
			if size := sizes[bi][hb>>9&1]; size != 0 {
				if p+int64(size) > sc.end {
					s.Truncated = true
					break
				}
				if first {
					// Header describes the first audio frame, which
					// differs from the info frame in bitrate.
					h, err := ParseHeader(b)
					if err != nil {
						return err // unreachable: the mask and size checks passed
					}
					s.Header = h
					first = false
				}
				s.Frames = append(s.Frames, Frame{Offset: p, Size: size})
				maxBI = max(maxBI, bi)
				p += int64(size)
				continue
			}
		}

		// Not a frame of this stream. An ID3v2 tag here comes from
		// concatenated files; skip it by its size, like the leading one.
		if sc.end-p >= id3v2HeaderSize {
			if b, err = sc.rd.at(p, id3v2HeaderSize); err != nil {
				return err
			}
			if n := id3v2Size(b); n > 0 && n <= sc.end-p {
				p += n
				continue
			}
		}
		q, _, err := sc.findSync(p, p+maxJunk+1, &ref)
		if err != nil {
			return err
		}
		if q == p {
			// findSync only returns p if the header there matches the
			// stream, which the fast path above would have taken.
			return fmt.Errorf("mp3: internal error: no progress at offset %d", p)
		}
		if q < 0 {
			if sc.end-p <= maxJunk {
				break // trailing garbage
			}
			return fmt.Errorf("%w: no frame within %d bytes after offset %d", ErrLostSync, maxJunk, p)
		}
		p = q
	}
	if !first {
		s.MaxBitrate = bitrates[lsfIndex(ref.Version)][ref.Layer-1][maxBI] * 1000
	}
	return nil
}

// findSync returns the first offset q in [from, limit) where a frame chain
// confirmed by confirm starts, with its header, or -1 if there is none. With
// ref set (resync within a stream), a chain of a different version, layer or
// sample rate is ErrMixedFormat, not junk: it is as well established as the
// stream itself.
func (sc *scanner) findSync(from, limit int64, ref *Header) (int64, Header, error) {
	limit = min(limit, sc.end-HeaderSize+1)
	var refBits uint32
	if ref != nil {
		refBits = headerBits(*ref) & streamMask
	}
	for q := from; q < limit; {
		b, err := sc.rd.at(q, HeaderSize)
		if err != nil {
			return -1, Header{}, err
		}
		// Only positions that have a whole header before end are
		// candidates: b[:n] are their first bytes.
		n := min(int64(len(b)-HeaderSize+1), limit-q)
		i := bytes.IndexByte(b[:n], 0xFF)
		if i < 0 {
			q += n
			continue
		}
		q += int64(i)
		b = b[i:]
		if b[1]&0xE0 != 0xE0 {
			q++
			continue
		}
		hb := be32(b)
		h, err := ParseHeader(b)
		switch {
		case err == nil:
			ok, err := sc.confirm(q, h)
			if err != nil {
				return -1, Header{}, err
			}
			if ok {
				if ref != nil && hb&streamMask != refBits {
					return -1, Header{}, fmt.Errorf("%w: %s Layer %d %d Hz at offset %d, after %s Layer %d %d Hz",
						ErrMixedFormat, h.Version, h.Layer, h.SampleRate, q, ref.Version, ref.Layer, ref.SampleRate)
				}
				return q, h, nil
			}
		case errors.Is(err, ErrFreeFormat) && ref == nil && sc.freeChecks < maxFreeFormatChecks:
			sc.freeChecks++
			ok, err := sc.freeFormatAt(q, hb)
			if err != nil {
				return -1, Header{}, err
			}
			if ok {
				return -1, Header{}, fmt.Errorf("%w (stream at offset %d)", ErrFreeFormat, q)
			}
		}
		q++
	}
	return -1, Header{}, nil
}

// confirm reports whether q starts a chain of syncFrames headers that all
// match h under streamMask, each where the previous frame ends. A chain
// that ends exactly at the end of the audio after fewer frames also counts
// (very short streams), and so does one of at least two headers that runs
// into the end (a truncated file).
func (sc *scanner) confirm(q int64, h Header) (bool, error) {
	want := headerBits(h) & streamMask
	pos, size := q, int64(h.FrameSize)
	for k := 1; k < syncFrames; k++ {
		pos += size // end of frame k
		switch {
		case pos == sc.end:
			return true, nil
		case pos > sc.end || sc.end-pos < HeaderSize:
			return k >= 2, nil
		}
		b, err := sc.rd.at(pos, HeaderSize)
		if err != nil {
			return false, err
		}
		if be32(b)&streamMask != want {
			return false, nil
		}
		nh, err := ParseHeader(b)
		if err != nil {
			return false, nil
		}
		size = int64(nh.FrameSize)
	}
	return true, nil
}

// freeFormatAt reports whether the free-format header hb at q looks like the
// start of a free-format stream: the same header again one frame length d
// later and again two frame lengths later (give or take the padding slot),
// with d at most one maximal frame. A lone free-format sync word in junk
// does not pass, so it cannot mask the real stream that follows.
func (sc *scanner) freeFormatAt(q int64, hb uint32) (bool, error) {
	n := min(int64(2*maxFreeFormatFrame+2*HeaderSize), sc.end-q)
	b, err := sc.rd.at(q, int(n))
	if err != nil {
		return false, err
	}
	b = b[:n]
	const mask = 0xFFFFFD00 // all but the padding bit and the last byte (mode, flags)
	match := func(i int) bool {
		return i >= 0 && i+HeaderSize <= len(b) && b[i] == 0xFF && be32(b[i:])&mask == hb&mask
	}
	for d := MinFrameSize; d <= maxFreeFormatFrame && d+HeaderSize <= len(b); d++ {
		if !match(d) {
			continue
		}
		for j := 2*d - 4; j <= 2*d+4; j++ { // Layer I pads by 4 bytes
			if match(j) {
				return true, nil
			}
		}
	}
	return false, nil
}

func lsfIndex(v Version) int {
	if v == MPEG1 {
		return 0
	}
	return 1
}

func frameSizeU(v Version, layer, bitrate, sampleRate int, padding bool) (int, uint32) {
	n, size := frameSize(v, layer, bitrate, sampleRate, padding)
	return n, uint32(size)
}

// headerBits re-encodes the stream-identifying fields of h (those under
// streamMask) as header bits.
func headerBits(h Header) uint32 {
	var vb, si uint32
	switch h.Version {
	case MPEG1:
		vb = 3
	case MPEG2:
		vb = 2
	case MPEG25:
		vb = 0
	}
	for i, r := range sampleRates[h.Version-1] {
		if r == h.SampleRate {
			si = uint32(i)
		}
	}
	return 0xFFE00000 | vb<<19 | uint32(4-h.Layer)<<17 | si<<10
}

// blockReader reads an io.ReaderAt in blocks of blockSize and serves small
// peeks (frame headers, tags) from memory, turning one ReadAt per frame
// into one per ~300 frames.
type blockReader struct {
	r      io.ReaderAt
	size   int64
	buf    []byte
	behind int   // bytes before the requested offset a forward refill keeps
	off    int64 // file offset of buf[0]
	n      int   // valid bytes in buf
}

func newBlockReader(r io.ReaderAt, size int64, bufSize, behind int) *blockReader {
	return &blockReader{r: r, size: size, buf: make([]byte, min(int64(bufSize), size)), behind: behind}
}

// at returns the buffered bytes from offset off on: at least need of them, or
// all up to size if fewer remain, and more if the block holds more. need must
// not exceed the buffer size less the keep-behind margin (callers peek at
// most a frame). The slice is only valid until the next call.
func (r *blockReader) at(off int64, need int) ([]byte, error) {
	if off < 0 || off > r.size {
		return nil, fmt.Errorf("mp3: internal error: read at %d outside [0, %d]", off, r.size)
	}
	need = int(min(int64(need), r.size-off))
	if off >= r.off && off+int64(need) <= r.off+int64(r.n) {
		return r.buf[off-r.off : r.n], nil
	}
	// Moving forward, the new block starts up to r.behind bytes before
	// off: confirm peeks a few frames ahead of the candidate that
	// findSync then steps past, and without the margin every such
	// look-ahead near a block end would cost two block reads. Bytes we
	// already hold are moved, not read again.
	start := off
	if off > r.off {
		start = max(r.off, off-int64(r.behind))
		if start+int64(len(r.buf)) < off+int64(need) {
			start = off // need too large to keep anything; not done by Scan
		}
	}
	keep := 0
	if start >= r.off && start < r.off+int64(r.n) {
		keep = copy(r.buf, r.buf[start-r.off:r.n])
	}
	want := int(min(int64(len(r.buf)), r.size-start))
	m, err := r.r.ReadAt(r.buf[keep:want], start+int64(keep))
	if keep+m < want {
		r.off, r.n = 0, 0
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("mp3: reading %d bytes at offset %d of %d: %w", want-keep, start+int64(keep), r.size, err)
	}
	r.off, r.n = start, want
	return r.buf[off-start : want], nil
}
