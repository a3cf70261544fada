package hls

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/cmaf"
	"drmpack/packager/demux"
	"drmpack/packager/sampleaes"
	"drmpack/packager/ts"
)

// codec is an elementary stream format we can carry in MPEG-TS.
type codec int

const (
	h264 codec = iota + 1
	h265
	aacADTS
	mpegAudio
	ac3
	eac3
)

// PIDs of the program: one video and one audio stream at most.
const (
	videoPID = 0x100
	audioPID = 0x101
)

// NAL units written by the muxer: access unit delimiters that accept any picture type.
var (
	avcAUD  = []byte{0x09, 0xF0}
	hevcAUD = []byte{0x46, 0x01, 0x50}
)

// esTrack turns one input track's samples into PES payloads: Annex B access units for video,
// ADTS frames for AAC, the frames themselves for MPEG audio and AC-3.
type esTrack struct {
	track  *demux.Track
	codec  codec
	stream ts.Stream
	codecs string // RFC 6381, for the master playlist's CODECS
	// Video: NAL length prefix size and the parameter sets written before every random access
	// picture that does not carry its own.
	lengthSize int
	paramSets  [][]byte
	nals       [][]byte // scratch: the NAL units of the current sample
	asc        *aac.AudioSpecificConfig
	enc        *sampleaes.Encrypter // SAMPLE-AES; nil for clear streams
	// Timing: presentation time of sample i is dts[i]+CTO+ptsShift, its decode time
	// dts[i]+dtsShift (dtsShift <= ptsShift keeps DTS <= PTS with negative composition offsets).
	dts                []int64
	ptsShift, dtsShift int64
}

func newESTrack(m *demux.Media, t *demux.Track, sampleAES bool) (*esTrack, error) {
	e := &esTrack{track: t}
	codecs, err := cmaf.Codecs(t)
	if err != nil {
		return nil, fmt.Errorf("track %d (%s): %v", t.ID, t.Format, err)
	}
	e.codecs = codecs
	switch se := t.SampleEntry.(type) {
	case *mp4.VisualSampleEntryBox:
		err = e.setupVideo(se, sampleAES)
	case *mp4.AudioSampleEntryBox:
		err = e.setupAudio(m, se, sampleAES)
	default:
		err = fmt.Errorf("no sample entry")
	}
	if err != nil {
		return nil, fmt.Errorf("track %d (%s): %v", t.ID, t.Format, err)
	}
	e.dts = make([]int64, len(t.Samples)+1)
	minCTO := int64(0)
	for i, s := range t.Samples {
		e.dts[i+1] = e.dts[i] + int64(s.Dur)
		minCTO = min(minCTO, int64(s.CTO))
	}
	e.ptsShift = t.Delay - t.StartOffset
	e.dtsShift = e.ptsShift + minCTO
	return e, nil
}

// clone returns a copy of e for another goroutine: shared read-only tables, its own scratch
// space and encrypter.
func (e *esTrack) clone() *esTrack {
	c := *e
	c.nals = nil
	if e.enc != nil {
		c.enc = e.enc.Clone()
	}
	return &c
}

func (e *esTrack) setupVideo(se *mp4.VisualSampleEntryBox, sampleAES bool) error {
	e.stream = ts.Stream{PID: videoPID, StreamID: ts.StreamIDVideo}
	switch {
	case se.AvcC != nil:
		if len(se.AvcC.SPSnalus) == 0 {
			return fmt.Errorf("avcC without SPS")
		}
		e.codec, e.stream.Type, e.lengthSize = h264, ts.StreamTypeH264, 4
		e.paramSets = append(append(e.paramSets, se.AvcC.SPSnalus...), se.AvcC.PPSnalus...)
		if sampleAES {
			e.stream.Type = ts.StreamTypeH264SampleAES
			e.stream.Descriptors = ts.PrivateDataIndicator("zavc")
		}
	case se.HvcC != nil:
		if sampleAES {
			return fmt.Errorf("SAMPLE-AES in MPEG-TS is defined for H.264 only; package HEVC with --hls-method aes-128")
		}
		e.codec, e.stream.Type = h265, ts.StreamTypeHEVC
		e.lengthSize = int(se.HvcC.LengthSizeMinusOne) + 1
		for _, typ := range []hevc.NaluType{hevc.NALU_VPS, hevc.NALU_SPS, hevc.NALU_PPS} {
			e.paramSets = append(e.paramSets, se.HvcC.GetNalusForType(typ)...)
		}
	default:
		return fmt.Errorf("video format %s cannot be carried in MPEG-TS (only AVC and HEVC)", se.Type())
	}
	return nil
}

func (e *esTrack) setupAudio(m *demux.Media, se *mp4.AudioSampleEntryBox, sampleAES bool) error {
	e.stream = ts.Stream{PID: audioPID, StreamID: ts.StreamIDAudio}
	var setup []byte
	var audioType, indicator string
	switch {
	case se.Esds != nil && se.Esds.DecConfigDescriptor != nil:
		dc := se.Esds.DecConfigDescriptor
		switch dc.ObjectType {
		case mp4.ObjectTypeAAC:
			if dc.DecSpecificInfo == nil {
				return fmt.Errorf("AAC without AudioSpecificConfig")
			}
			setup = dc.DecSpecificInfo.DecConfig
			asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(setup))
			if err != nil {
				return fmt.Errorf("AudioSpecificConfig: %v", err)
			}
			if _, ok := aac.ReverseFrequencies[asc.SamplingFrequency]; !ok || asc.ChannelConfiguration == 0 || asc.ChannelConfiguration > 7 {
				return fmt.Errorf("AAC at %d Hz with channel configuration %d cannot be framed as ADTS", asc.SamplingFrequency, asc.ChannelConfiguration)
			}
			e.asc = asc
			e.codec, e.stream.Type = aacADTS, ts.StreamTypeADTS
			audioType, indicator = "zaac", "aacd"
			switch asc.ObjectType {
			case aac.HEAACv1:
				audioType = "zach"
			case aac.HEAACv2:
				audioType = "zacp"
			}
		case 0x6B, 0x69: // MPEG-1 and MPEG-2 audio (MP3)
			e.codec, e.stream.Type = mpegAudio, ts.StreamTypeMPEG1Audio
			if dc.ObjectType == 0x69 {
				e.stream.Type = ts.StreamTypeMPEG2Audio
			}
			// HLS names MP3 by its MPEG-4 audio object type (34, Layer-3).
			e.codecs = "mp4a.40.34"
		default:
			return fmt.Errorf("audio object type 0x%02X cannot be carried in MPEG-TS", dc.ObjectType)
		}
	case se.Dac3 != nil:
		e.codec, e.stream.Type, e.stream.StreamID = ac3, ts.StreamTypeAC3, ts.StreamIDPrivateStream
		audioType, indicator = "zac3", "ac3d"
		if sampleAES {
			// The setup data is the first 10 bytes of a syncframe.
			if len(e.track.Samples) == 0 || e.track.Samples[0].Size < 10 {
				return fmt.Errorf("AC-3 track without a complete syncframe")
			}
			frame := make([]byte, e.track.Samples[0].Size)
			if err := m.ReadSamples(e.track, 0, 1, frame); err != nil {
				return err
			}
			setup = frame[:10]
		}
	case se.Dec3 != nil:
		e.codec, e.stream.Type, e.stream.StreamID = eac3, ts.StreamTypeEAC3, ts.StreamIDPrivateStream
		audioType, indicator = "zec3", "ec3d"
		var buf bytes.Buffer
		if err := se.Dec3.Encode(&buf); err != nil {
			return err
		}
		setup = buf.Bytes()[8:] // the dec3 payload, without its box header
	default:
		return fmt.Errorf("no codec configuration for %s", se.Type())
	}
	if !sampleAES {
		return nil
	}
	if indicator == "" {
		return fmt.Errorf("SAMPLE-AES in MPEG-TS is defined for AAC, AC-3 and E-AC-3 only; package MP3 with --hls-method aes-128")
	}
	if len(setup) > 255 {
		return fmt.Errorf("audio setup data of %d bytes is too long for SAMPLE-AES signalling", len(setup))
	}
	e.stream.Type = map[codec]byte{aacADTS: ts.StreamTypeAACSampleAES, ac3: ts.StreamTypeAC3SampleAES, eac3: ts.StreamTypeEAC3SampleAES}[e.codec]
	e.stream.Descriptors = append(ts.PrivateDataIndicator(indicator), ts.Registration("apad", ts.AudioSetup(audioType, 0, setup))...)
	return nil
}

// appendFrame appends the PES payload bytes of one sample: an access unit for video, one frame
// for audio. Encrypted streams are encrypted here.
func (e *esTrack) appendFrame(dst, sample []byte, sync bool) ([]byte, error) {
	switch e.codec {
	case h264, h265:
		return e.appendAccessUnit(dst, sample, sync)
	case aacADTS:
		n := len(sample) + 7
		if n > 0x1FFF {
			return nil, fmt.Errorf("AAC frame of %d bytes is too long for ADTS", len(sample))
		}
		start := len(dst)
		dst = append(dst, adtsHeader(e.asc, n)...)
		dst = append(dst, sample...)
		if e.enc != nil {
			e.enc.EncryptAudioFrame(dst[start:], 7)
		}
		return dst, nil
	}
	start := len(dst)
	dst = append(dst, sample...)
	if e.enc != nil {
		e.enc.EncryptAudioFrame(dst[start:], 0)
	}
	return dst, nil
}

// adtsHeader is the 7-byte ADTS header (ISO/IEC 13818-7 6.2, no CRC) of a frame of frameLen
// bytes including the header. HE-AAC is signalled implicitly: the core AAC-LC object type and
// the core sampling frequency.
func adtsHeader(asc *aac.AudioSpecificConfig, frameLen int) []byte {
	profile := byte(1) // AAC-LC
	if asc.ObjectType >= 1 && asc.ObjectType <= 4 {
		profile = asc.ObjectType - 1
	}
	sfi := aac.ReverseFrequencies[asc.SamplingFrequency]
	ch := asc.ChannelConfiguration
	return []byte{
		0xFF, 0xF1, // sync word, MPEG-4, layer 0, no CRC
		profile<<6 | sfi<<2 | ch>>2,
		(ch&3)<<6 | byte(frameLen>>11),
		byte(frameLen >> 3),
		byte(frameLen&7)<<5 | 0x1F, // buffer fullness 0x7FF: variable rate
		0xFC,                       // ... and one raw data block
	}
}

// appendAccessUnit converts a length-prefixed sample to Annex B: an access unit delimiter first
// (unless the sample has one), the parameter sets before a random access picture that lacks them,
// then every NAL unit behind a four-byte start code.
func (e *esTrack) appendAccessUnit(dst, sample []byte, sync bool) ([]byte, error) {
	e.nals = e.nals[:0]
	hasAUD, hasPS := false, false
	for pos := 0; pos < len(sample); {
		if len(sample)-pos < e.lengthSize {
			return nil, fmt.Errorf("sample ends inside a NAL length prefix")
		}
		n := 0
		for _, b := range sample[pos : pos+e.lengthSize] {
			n = n<<8 | int(b)
		}
		pos += e.lengthSize
		if n == 0 || n > len(sample)-pos {
			return nil, fmt.Errorf("NAL unit length %d overruns the %d-byte sample", n, len(sample))
		}
		nal := sample[pos : pos+n]
		pos += n
		switch e.nalType(nal) {
		case nalAUD:
			hasAUD = hasAUD || len(e.nals) == 0
		case nalParameterSet:
			hasPS = true
		}
		e.nals = append(e.nals, nal)
	}
	startCode := []byte{0, 0, 0, 1}
	if !hasAUD {
		dst = append(append(dst, startCode...), e.aud()...)
	}
	if sync && !hasPS {
		for _, ps := range e.paramSets {
			dst = append(append(dst, startCode...), ps...)
		}
	}
	for _, nal := range e.nals {
		dst = append(dst, startCode...)
		if e.enc != nil {
			dst = e.enc.AppendNAL(dst, nal)
		} else {
			dst = append(dst, nal...)
		}
	}
	return dst, nil
}

type nalClass int

const (
	nalOther nalClass = iota
	nalAUD
	nalParameterSet
)

func (e *esTrack) nalType(nal []byte) nalClass {
	if e.codec == h264 {
		switch nal[0] & 0x1F {
		case 9:
			return nalAUD
		case 7, 8:
			return nalParameterSet
		}
		return nalOther
	}
	switch (nal[0] >> 1) & 0x3F {
	case 35:
		return nalAUD
	case 32, 33, 34:
		return nalParameterSet
	}
	return nalOther
}

func (e *esTrack) aud() []byte {
	if e.codec == h264 {
		return avcAUD
	}
	return hevcAUD
}

// isVideo reports whether the track is the program's video stream.
func (e *esTrack) isVideo() bool { return e.codec == h264 || e.codec == h265 }
