package cenc

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/hevc"
)

// Codec names the NAL-structured video codecs whose samples use subsample encryption.
type Codec int

// Supported NAL-structured codecs.
const (
	AVC Codec = iota + 1
	HEVC
)

// VideoConfig is what subsample encryption needs to know about a video track: how NAL units are
// delimited in a sample and the parameter sets needed to find where each slice header ends.
type VideoConfig struct {
	Codec      Codec
	LengthSize int // bytes of each NAL unit's length prefix (1, 2 or 4)
	SPS, PPS   [][]byte
}

// nalLayout computes subsample maps. It keeps parameter-set maps that grow when a sample carries
// its own SPS/PPS (avc3/hev1 streams), since later slice headers depend on them.
type nalLayout struct {
	codec      Codec
	lengthSize int
	avcSPS     map[uint32]*avc.SPS
	avcPPS     map[uint32]*avc.PPS
	hevcSPS    map[uint32]*hevc.SPS
	hevcPPS    map[uint32]*hevc.PPS
}

func newNALLayout(c *VideoConfig) (*nalLayout, error) {
	switch c.LengthSize {
	case 1, 2, 4:
	default:
		return nil, fmt.Errorf("NAL length size %d is not 1, 2 or 4", c.LengthSize)
	}
	l := &nalLayout{codec: c.Codec, lengthSize: c.LengthSize}
	switch c.Codec {
	case AVC:
		l.avcSPS, l.avcPPS = map[uint32]*avc.SPS{}, map[uint32]*avc.PPS{}
	case HEVC:
		l.hevcSPS, l.hevcPPS = map[uint32]*hevc.SPS{}, map[uint32]*hevc.PPS{}
	default:
		return nil, fmt.Errorf("unknown video codec %d", c.Codec)
	}
	for _, group := range [][][]byte{c.SPS, c.PPS} {
		for _, ps := range group {
			if err := l.learn(ps); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// learn records a parameter set NAL unit; other NAL types are ignored.
func (l *nalLayout) learn(nalu []byte) error {
	if len(nalu) == 0 {
		return nil
	}
	switch l.codec {
	case AVC:
		switch avc.GetNaluType(nalu[0]) {
		case avc.NALU_SPS:
			sps, err := avc.ParseSPSNALUnit(nalu, false)
			if err != nil {
				return fmt.Errorf("parse SPS: %w", err)
			}
			l.avcSPS[sps.ParameterID] = sps
		case avc.NALU_PPS:
			pps, err := avc.ParsePPSNALUnit(nalu, l.avcSPS)
			if err != nil {
				return fmt.Errorf("parse PPS: %w", err)
			}
			l.avcPPS[pps.PicParameterSetID] = pps
		}
	case HEVC:
		switch hevc.GetNaluType(nalu[0]) {
		case hevc.NALU_SPS:
			sps, err := hevc.ParseSPSNALUnit(nalu)
			if err != nil {
				return fmt.Errorf("parse SPS: %w", err)
			}
			l.hevcSPS[uint32(sps.SpsID)] = sps
		case hevc.NALU_PPS:
			pps, err := hevc.ParsePPSNALUnit(nalu, l.hevcSPS)
			if err != nil {
				return fmt.Errorf("parse PPS: %w", err)
			}
			l.hevcPPS[pps.PicParameterSetID] = pps
		}
	}
	return nil
}

// sliceHeaderSize returns how many leading bytes of a NAL unit (header included) must stay clear:
// the whole unit for non-VCL NAL units, the NAL header plus the slice header for slices.
func (l *nalLayout) sliceHeaderSize(nalu []byte) (int, bool, error) {
	switch l.codec {
	case AVC:
		switch avc.GetNaluType(nalu[0]) {
		case 1, 2, 5:
			sh, err := avc.ParseSliceHeader(nalu, l.avcSPS, l.avcPPS)
			if err != nil {
				return 0, false, fmt.Errorf("AVC slice header: %w", err)
			}
			return int(sh.Size), true, nil
		}
	case HEVC:
		if t := hevc.GetNaluType(nalu[0]); t <= 31 && len(nalu) > 2 {
			sh, err := hevc.ParseSliceHeader(nalu, l.hevcSPS, l.hevcPPS)
			if err != nil {
				return 0, false, fmt.Errorf("HEVC slice header: %w", err)
			}
			return int(sh.Size), true, nil
		}
	}
	return len(nalu), false, l.learn(nalu)
}

// subsamples maps one length-prefixed sample to clear/protected runs, one run pair per slice.
// Length prefixes, non-VCL NAL units and slice headers are clear. For cenc the protected part of
// each slice is a whole number of AES blocks (the remainder joins the clear bytes before it), which
// keeps every CTR-decrypting CDM on block boundaries; for cbcs the protected part runs to the end
// of the slice and the pattern leaves its partial last block clear.
func (l *nalLayout) subsamples(sample []byte, scheme Scheme, dst []Subsample) ([]Subsample, error) {
	pos, clearRun := 0, 0
	for pos < len(sample) {
		if len(sample)-pos < l.lengthSize {
			return nil, fmt.Errorf("sample ends inside a NAL length prefix at byte %d", pos)
		}
		n := 0
		for _, b := range sample[pos : pos+l.lengthSize] {
			n = n<<8 | int(b)
		}
		start := pos + l.lengthSize
		if n == 0 || n > len(sample)-start {
			return nil, fmt.Errorf("NAL unit length %d at byte %d overruns the %d-byte sample", n, pos, len(sample))
		}
		nalu := sample[start : start+n]
		header, isSlice, err := l.sliceHeaderSize(nalu)
		if err != nil {
			return nil, err
		}
		if header > n {
			return nil, fmt.Errorf("slice header of %d bytes is longer than its %d-byte NAL unit", header, n)
		}
		clearRun += l.lengthSize + header
		body := n - header
		if scheme == CENC {
			clearRun += body % 16
			body -= body % 16
		}
		if isSlice && body > 0 {
			dst = appendSubsample(dst, clearRun, body)
			clearRun = 0
		} else {
			clearRun += body
		}
		pos = start + n
	}
	if clearRun > 0 || len(dst) == 0 {
		dst = appendSubsample(dst, clearRun, 0)
	}
	return dst, nil
}

// appendSubsample splits clear runs longer than the 16-bit senc field into clear-only entries.
func appendSubsample(dst []Subsample, clearBytes, protected int) []Subsample {
	for clearBytes > 0xFFFF {
		dst = append(dst, Subsample{Clear: 0xFFFF})
		clearBytes -= 0xFFFF
	}
	return append(dst, Subsample{Clear: uint16(clearBytes), Protected: uint32(protected)})
}
