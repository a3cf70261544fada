package demux

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"
)

// maxMoovSize bounds the header we load into memory: a real moov of a multi-hour file is tens of
// megabytes, so anything larger is a corrupt or hostile size field.
const maxMoovSize = 512 << 20

// indexMP4 walks the top-level boxes itself (so that any number of mdat boxes, 64-bit sizes and a
// last box running to the end of the file are accepted), loads only moov, and builds the sample
// index from its tables.
func (m *Media) indexMP4() error {
	var moovPos, moovSize int64 = -1, 0
	hdr := make([]byte, 16)
	for pos := int64(0); pos < m.Size; {
		if m.Size-pos < 8 {
			break // trailing padding shorter than a box header
		}
		if err := readFull(m.r, hdr[:8], pos); err != nil {
			return err
		}
		size := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		switch size {
		case 0:
			size = m.Size - pos
		case 1:
			if err := readFull(m.r, hdr[8:16], pos+8); err != nil {
				return fmt.Errorf("%w: truncated box header of %q", ErrUnsupported, typ)
			}
			size = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if size < 8 || size > m.Size-pos {
			return fmt.Errorf("%w: box %q at byte %d claims %d bytes but the file has %d left (truncated or corrupt file)",
				ErrUnsupported, printable(typ), pos, size, m.Size-pos)
		}
		switch typ {
		case "moov":
			moovPos, moovSize = pos, size
		case "moof":
			return fmt.Errorf("%w: fragmented MP4 input is not supported; give the original progressive file", ErrUnsupported)
		}
		pos += size
	}
	if moovPos < 0 {
		return fmt.Errorf("%w: no moov box (header missing or file truncated)", ErrUnsupported)
	}
	if moovSize > maxMoovSize {
		return fmt.Errorf("%w: moov of %d bytes is too large", ErrUnsupported, moovSize)
	}
	buf := make([]byte, moovSize)
	if err := readFull(m.r, buf, moovPos); err != nil {
		return err
	}
	box, err := mp4.DecodeBox(uint64(moovPos), bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("%w: moov: %v", ErrUnsupported, err)
	}
	moov, ok := box.(*mp4.MoovBox)
	if !ok {
		return fmt.Errorf("%w: moov did not decode", ErrUnsupported)
	}
	movieTimescale := uint32(0)
	if moov.Mvhd != nil {
		movieTimescale = moov.Mvhd.Timescale
	}
	for _, trak := range moov.Traks {
		t, err := m.trackFromTrak(trak, movieTimescale)
		if err != nil {
			return err
		}
		if t != nil {
			m.Tracks = append(m.Tracks, t)
		}
	}
	if len(m.Tracks) == 0 {
		return fmt.Errorf("%w: no tracks", ErrUnsupported)
	}
	return nil
}

func printable(s string) string {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", s)
		}
	}
	return s
}

// trackFromTrak returns nil for tracks without samples (chapters stubs, empty hint tracks).
func (m *Media) trackFromTrak(trak *mp4.TrakBox, movieTimescale uint32) (*Track, error) {
	if trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Minf == nil ||
		trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
		return nil, fmt.Errorf("%w: track without the mandatory boxes", ErrUnsupported)
	}
	stbl := trak.Mdia.Minf.Stbl
	t := &Track{
		ID:        trak.Tkhd.TrackID,
		Timescale: trak.Mdia.Mdhd.Timescale,
		Language:  trak.Mdia.Mdhd.GetLanguage(),
	}
	if t.Timescale == 0 {
		return nil, fmt.Errorf("%w: track %d has timescale 0", ErrUnsupported, t.ID)
	}
	if len(stbl.Stsd.Children) == 0 {
		return nil, nil
	}
	if len(stbl.Stsd.Children) > 1 {
		return nil, fmt.Errorf("%w: track %d switches between %d sample descriptions", ErrUnsupported, t.ID, len(stbl.Stsd.Children))
	}
	entry := stbl.Stsd.Children[0]
	t.SampleEntry = entry
	t.Format = entry.Type()
	switch se := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		t.Kind = Video
		t.Width, t.Height = int(se.Width), int(se.Height)
	case *mp4.AudioSampleEntryBox:
		t.Kind = Audio
		t.SampleRate, t.Channels = int(se.SampleRate), int(se.ChannelCount)
	}
	if t.Format == "encv" || t.Format == "enca" {
		return nil, fmt.Errorf("%w: track %d is already encrypted", ErrUnsupported, t.ID)
	}
	samples, err := sampleIndex(stbl, m.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: track %d: %v", ErrUnsupported, t.ID, err)
	}
	if len(samples) == 0 {
		return nil, nil
	}
	t.Samples = samples
	if trak.Edts != nil && len(trak.Edts.Elst) > 0 {
		t.StartOffset, t.Delay = editShift(trak.Edts.Elst[0].Entries, movieTimescale, t.Timescale)
	}
	return t, nil
}

// editShift reduces an edit list to the one thing a packager can honour without re-timing
// samples: an optional initial empty edit (a delay) followed by the media time that starts the
// presentation. Later edits (cuts inside the movie) are rare outside editing tools and ignored.
func editShift(entries []mp4.ElstEntry, movieTimescale, mediaTimescale uint32) (start, delay int64) {
	for _, e := range entries {
		if e.MediaTime == -1 {
			if movieTimescale > 0 {
				delay += int64(e.SegmentDuration) * int64(mediaTimescale) / int64(movieTimescale)
			}
			continue
		}
		return e.MediaTime, delay
	}
	return 0, delay
}

// sampleIndex expands stts, ctts, stss, stsz, stsc and stco/co64 into one Sample per access unit.
// Every count is checked against the file size first so a corrupt table cannot make it allocate
// more than the file could describe.
func sampleIndex(stbl *mp4.StblBox, fileSize int64) ([]Sample, error) {
	if stbl.Stsz == nil || stbl.Stts == nil || stbl.Stsc == nil {
		return nil, fmt.Errorf("sample tables missing (stsz, stts or stsc)")
	}
	n := int64(stbl.Stsz.SampleNumber)
	if n == 0 {
		return nil, nil
	}
	if n > fileSize {
		return nil, fmt.Errorf("%d samples cannot fit in %d bytes", n, fileSize)
	}
	if stbl.Stsz.SampleUniformSize == 0 && int64(len(stbl.Stsz.SampleSize)) < n {
		return nil, fmt.Errorf("stsz lists %d sizes for %d samples", len(stbl.Stsz.SampleSize), n)
	}
	samples := make([]Sample, n)
	var total int64
	for i := range samples {
		size := stbl.Stsz.SampleUniformSize
		if size == 0 {
			size = stbl.Stsz.SampleSize[i]
		}
		samples[i].Size = size
		total += int64(size)
	}
	if total > fileSize {
		return nil, fmt.Errorf("sample sizes add up to %d bytes, more than the file's %d", total, fileSize)
	}

	// Durations.
	i := int64(0)
	for e, count := range stbl.Stts.SampleCount {
		for c := uint32(0); c < count && i < n; c++ {
			samples[i].Dur = stbl.Stts.SampleTimeDelta[e]
			i++
		}
	}
	if i < n {
		return nil, fmt.Errorf("stts covers %d of %d samples", i, n)
	}

	// Composition offsets.
	if ctts := stbl.Ctts; ctts != nil {
		for e := range ctts.SampleOffset {
			first, end := int64(ctts.EndSampleNr[e]), int64(ctts.EndSampleNr[e+1])
			for s := first; s < end && s < n; s++ {
				samples[s].CTO = ctts.SampleOffset[e]
			}
		}
	}

	// Sync samples: no stss means every sample is a random access point.
	if stss := stbl.Stss; stss != nil {
		for _, nr := range stss.SampleNumber {
			if nr >= 1 && int64(nr) <= n {
				samples[nr-1].Sync = true
			}
		}
	} else {
		for i := range samples {
			samples[i].Sync = true
		}
	}

	// Offsets: chunks from stsc, chunk positions from stco or co64.
	var chunkOffsets func(int) (int64, bool)
	switch {
	case stbl.Stco != nil:
		chunkOffsets = offsetTable(stbl.Stco.ChunkOffset)
	case stbl.Co64 != nil:
		chunkOffsets = offsetTable(stbl.Co64.ChunkOffset)
	default:
		return nil, fmt.Errorf("no chunk offset table (stco/co64)")
	}
	entries := stbl.Stsc.Entries
	if len(entries) == 0 {
		return nil, fmt.Errorf("empty stsc")
	}
	s := int64(0)
	for e, entry := range entries {
		if entry.FirstChunk == 0 || entry.SamplesPerChunk == 0 {
			return nil, fmt.Errorf("stsc entry %d is invalid", e)
		}
		lastChunk := int64(-1) // runs to the last chunk of the file
		if e+1 < len(entries) {
			lastChunk = int64(entries[e+1].FirstChunk) - 1
			if lastChunk < int64(entry.FirstChunk) {
				return nil, fmt.Errorf("stsc entries out of order")
			}
		}
		for c := int64(entry.FirstChunk); (lastChunk < 0 || c <= lastChunk) && s < n; c++ {
			off, ok := chunkOffsets(int(c - 1))
			if !ok {
				if lastChunk < 0 {
					break
				}
				return nil, fmt.Errorf("stsc refers to chunk %d beyond the chunk offset table", c)
			}
			for k := uint32(0); k < entry.SamplesPerChunk && s < n; k++ {
				if off < 0 || off+int64(samples[s].Size) > fileSize {
					return nil, fmt.Errorf("sample %d lies outside the file (truncated file?)", s+1)
				}
				samples[s].Offset = off
				off += int64(samples[s].Size)
				s++
			}
		}
	}
	if s < n {
		return nil, fmt.Errorf("chunk tables place %d of %d samples", s, n)
	}
	return samples, nil
}

// offsetTable gives stco's 32-bit and co64's 64-bit chunk offsets one lookup; ok is false past
// the table's end.
func offsetTable[T uint32 | uint64](co []T) func(int) (int64, bool) {
	return func(c int) (int64, bool) {
		if c >= len(co) {
			return 0, false
		}
		return int64(co[c]), true
	}
}
