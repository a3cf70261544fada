package cmaf

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/cenc"
	"drmpack/packager/demux"
)

// Codecs returns the RFC 6381 codecs parameter of a track (e.g. avc1.64001F, hvc1.1.6.L93.B0,
// mp4a.40.2, mp4a.6B, ac-3, ec-3), as MPD @codecs and HLS CODECS need it.
func Codecs(t *demux.Track) (string, error) {
	switch se := t.SampleEntry.(type) {
	case *mp4.VisualSampleEntryBox:
		switch {
		case se.AvcC != nil:
			if len(se.AvcC.SPSnalus) == 0 {
				return "", fmt.Errorf("avcC without SPS")
			}
			sps, err := avc.ParseSPSNALUnit(se.AvcC.SPSnalus[0], false)
			if err != nil {
				return "", fmt.Errorf("parse SPS: %w", err)
			}
			return avc.CodecString(t.Format, sps), nil
		case se.HvcC != nil:
			spss := se.HvcC.GetNalusForType(hevc.NALU_SPS)
			if len(spss) == 0 {
				return "", fmt.Errorf("hvcC without SPS")
			}
			sps, err := hevc.ParseSPSNALUnit(spss[0])
			if err != nil {
				return "", fmt.Errorf("parse SPS: %w", err)
			}
			return hevc.CodecString(t.Format, sps), nil
		}
	case *mp4.AudioSampleEntryBox:
		switch {
		case se.Esds != nil && se.Esds.DecConfigDescriptor != nil:
			dc := se.Esds.DecConfigDescriptor
			if dc.ObjectType != mp4.ObjectTypeAAC || dc.DecSpecificInfo == nil {
				return fmt.Sprintf("mp4a.%02X", dc.ObjectType), nil
			}
			asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(dc.DecSpecificInfo.DecConfig))
			if err != nil {
				return "", fmt.Errorf("AudioSpecificConfig: %w", err)
			}
			return fmt.Sprintf("mp4a.40.%d", asc.ObjectType), nil
		case se.Dac3 != nil:
			return "ac-3", nil
		case se.Dec3 != nil:
			return "ec-3", nil
		}
	}
	return "", fmt.Errorf("no codec configuration for %s", t.Format)
}

// VideoConfig extracts what subsample encryption needs from an AVC or HEVC sample entry; it
// returns nil for tracks that are protected whole-sample (audio).
func VideoConfig(t *demux.Track) (*cenc.VideoConfig, error) {
	se, ok := t.SampleEntry.(*mp4.VisualSampleEntryBox)
	if !ok {
		return nil, nil
	}
	switch {
	case se.AvcC != nil:
		// mp4ff accepts only 4-byte NAL length fields in avcC, so that is what samples carry.
		return &cenc.VideoConfig{Codec: cenc.AVC, LengthSize: 4, SPS: se.AvcC.SPSnalus, PPS: se.AvcC.PPSnalus}, nil
	case se.HvcC != nil:
		h := se.HvcC
		return &cenc.VideoConfig{Codec: cenc.HEVC, LengthSize: int(h.LengthSizeMinusOne) + 1,
			SPS: h.GetNalusForType(hevc.NALU_SPS), PPS: h.GetNalusForType(hevc.NALU_PPS)}, nil
	}
	return nil, fmt.Errorf("video format %s cannot be encrypted (only AVC and HEVC)", t.Format)
}
