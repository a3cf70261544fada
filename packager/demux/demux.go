// Package demux opens MP4 and MP3 inputs and exposes their tracks as codec configuration plus a
// compact sample index, reading sample data on demand through an io.ReaderAt.
package demux

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Kind is what a track carries.
type Kind int

// Track kinds. Other covers subtitles, timed metadata and anything the packager copies or drops.
const (
	Other Kind = iota
	Video
	Audio
)

func (k Kind) String() string {
	switch k {
	case Video:
		return "video"
	case Audio:
		return "audio"
	}
	return "other"
}

// Sample is one access unit in decode order. It is kept small (24 bytes) because a long file
// has hundreds of thousands of them and the index is the only thing kept in memory.
type Sample struct {
	Offset int64  // byte position in the input
	Size   uint32 // bytes
	Dur    uint32 // decode duration in the track timescale
	CTO    int32  // composition time offset (PTS - DTS)
	Sync   bool   // random access point
}

// Track is one elementary stream of the input.
type Track struct {
	ID         uint32
	Kind       Kind
	Format     string // sample entry four-cc: avc1, avc3, hvc1, hev1, mp4a, ac-3, ec-3, .mp3
	Timescale  uint32
	Language   string // ISO 639-2/T, "und" when unknown
	Width      int    // video: coded picture size from the sample entry
	Height     int
	SampleRate int // audio
	Channels   int
	// SampleEntry is the stsd child that describes the codec; output writers copy it.
	SampleEntry mp4.Box
	Samples     []Sample
	// StartOffset is the media time presented first (the first edit's media_time, or an MP3's
	// encoder delay); Delay is an initial empty edit in media timescale units. Together they
	// map decode times to presentation times: PTS = DTS + CTO - StartOffset + Delay.
	StartOffset int64
	Delay       int64
}

// Duration returns the sum of the sample durations in timescale units.
func (t *Track) Duration() uint64 {
	var d uint64
	for _, s := range t.Samples {
		d += uint64(s.Dur)
	}
	return d
}

// Media is an opened input.
type Media struct {
	Path   string
	Size   int64
	Format string // "mp4" or "mp3"
	Tracks []*Track
	r      io.ReaderAt
	closer io.Closer
	// share, when set, is the Sharing this view reads samples through, as consumer.
	share    *Sharing
	consumer int
}

// ReadAt reads sample data from the input.
func (m *Media) ReadAt(p []byte, off int64) (int, error) { return m.r.ReadAt(p, off) }

// View returns a Media over the same input with other tracks, such as a trimmed selection of
// this one's samples. It shares the input: closing the view does nothing, closing m closes both.
func (m *Media) View(tracks []*Track) *Media {
	return &Media{Path: m.Path, Size: m.Size, Format: m.Format, Tracks: tracks, r: m.r, share: m.share, consumer: m.consumer}
}

// Close releases the input.
func (m *Media) Close() error {
	if m.closer == nil {
		return nil
	}
	return m.closer.Close()
}

// ErrUnsupported marks inputs that are readable but not a media file this package understands;
// callers report it as an invalid argument rather than as an I/O failure.
var ErrUnsupported = errors.New("unsupported input")

// Open opens path and indexes its tracks. The container is recognised by its content (an MP4 box
// structure or MP3 frames), not only by its extension.
func Open(path string) (*Media, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	m, err := OpenReaderAt(f, fi.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	m.closer = f
	return m, nil
}

// OpenReaderAt indexes media held by any io.ReaderAt (a file, a byte slice, a remote range
// reader); name supplies the extension hint and the Path reported back.
func OpenReaderAt(r io.ReaderAt, size int64, name string) (*Media, error) {
	m := &Media{Path: name, Size: size, r: r}
	if err := m.index(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Media) index() (err error) {
	// The box decoder is third-party code fed with untrusted bytes: a panic in it must become an
	// error about this input, never a crash of the workstation.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: malformed container (%v)", ErrUnsupported, r)
		}
	}()
	head := make([]byte, 12)
	n, _ := m.r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case looksLikeMP4(head):
		m.Format = "mp4"
		return m.indexMP4()
	case looksLikeMP3(head, strings.ToLower(filepath.Ext(m.Path))):
		m.Format = "mp3"
		return m.indexMP3()
	}
	return fmt.Errorf("%w: not an MP4 or MP3 file", ErrUnsupported)
}

func looksLikeMP4(head []byte) bool {
	if len(head) < 8 {
		return false
	}
	switch string(head[4:8]) {
	case "ftyp", "moov", "mdat", "free", "skip", "wide", "styp":
		return true
	}
	return false
}

func looksLikeMP3(head []byte, ext string) bool {
	if len(head) >= 3 && string(head[:3]) == "ID3" {
		return true
	}
	if len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 {
		return true
	}
	return ext == ".mp3" && len(head) > 0
}

// readFull reads exactly len(p) bytes at off, turning a short read into io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// ReadSamples fills buf with the data of samples [first, end) of t, which buf must hold exactly:
// from the input, or for a view made by Sharing.Views partly from what another consumer read.
func (m *Media) ReadSamples(t *Track, first, end int, buf []byte) error {
	if m.share != nil {
		return m.share.read(m, m.consumer, t, first, end, buf)
	}
	return m.readSamples(t.Samples[first:end], buf)
}

// readSamples reads samples, which must be consecutive in one track, with one ReadAt per run of
// samples that are contiguous in the input (a chunk): an interleaved file is read in a few large
// reads per segment.
func (m *Media) readSamples(samples []Sample, buf []byte) error {
	pos := 0
	for i := 0; i < len(samples); {
		start := samples[i].Offset
		n := int(samples[i].Size)
		j := i + 1
		for j < len(samples) && samples[j].Offset == start+int64(n) {
			n += int(samples[j].Size)
			j++
		}
		if err := readFull(m.r, buf[pos:pos+n], start); err != nil {
			return fmt.Errorf("read %s at byte %d: %w", filepath.Base(m.Path), start, err)
		}
		pos += n
		i = j
	}
	return nil
}
