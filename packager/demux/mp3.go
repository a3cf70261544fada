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
	esds.DecConfigDescriptor.AvgBitrate = uint32(s.AvgBitrate())
	esds.DecConfigDescriptor.MaxBitrate = uint32(s.MaxBitrate)
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
		// The decoder's own filterbank delay comes on top of the encoder's.
		t.StartOffset = int64(s.EncoderDelay + mp3.DecoderDelay)
	}
	m.Tracks = []*Track{t}
	return nil
}
