package demux

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/mp3"
)

// MPEG-4 object type indications for MPEG audio carried in an esds (ISO/IEC 14496-1 Table 5).
const (
	objectTypeMPEG1Audio = 0x6B
	objectTypeMPEG2Audio = 0x69
)

// decoderDelay is the MPEG Layer III decoder's own delay in samples (the synthesis filterbank),
// added to the LAME tag's encoder delay to find the first real sample.
const decoderDelay = 529

// indexMP3 turns every MP3 frame into one sample of an audio track whose timescale is the sample
// rate, described the way MP4 files carry MPEG audio: an mp4a entry with an MPEG-1/2 audio esds.
func (m *Media) indexMP3() error {
	s, err := mp3.Scan(m.r, m.Size)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	h := s.Header
	oti := byte(objectTypeMPEG1Audio)
	if h.Version != mp3.MPEG1 {
		oti = objectTypeMPEG2Audio
	}
	esds := mp4.CreateEsdsBox(nil)
	esds.DecConfigDescriptor.ObjectType = oti
	esds.DecConfigDescriptor.DecSpecificInfo = nil
	esds.DecConfigDescriptor.AvgBitrate = averageBitrate(s)
	entry := mp4.CreateAudioSampleEntryBox("mp4a", uint16(h.Channels), 16, uint16(h.SampleRate), esds)

	t := &Track{
		ID: 1, Kind: Audio, Format: "mp4a", Timescale: uint32(h.SampleRate), Language: "und",
		SampleRate: h.SampleRate, Channels: h.Channels, SampleEntry: entry,
		Samples: make([]Sample, len(s.Frames)),
	}
	for i, f := range s.Frames {
		t.Samples[i] = Sample{Offset: f.Offset, Size: f.Size, Dur: uint32(h.SamplesPerFrame), Sync: true}
	}
	if s.EncoderDelay > 0 {
		t.StartOffset = int64(s.EncoderDelay + decoderDelay)
	}
	m.Tracks = []*Track{t}
	return nil
}

func averageBitrate(s *mp3.Stream) uint32 {
	var bytes int64
	for _, f := range s.Frames {
		bytes += int64(f.Size)
	}
	samples := int64(len(s.Frames)) * int64(s.Header.SamplesPerFrame)
	if samples == 0 {
		return 0
	}
	return uint32(bytes * 8 * int64(s.Header.SampleRate) / samples)
}
