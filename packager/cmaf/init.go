// Package cmaf writes CMAF tracks (ISO/IEC 23000-19): one init segment per track and media
// segments of one fragment each, with the Common Encryption boxes (sinf/tenc, senc, saiz, saio).
package cmaf

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/cenc"
	"drmpack/packager/demux"
)

// TrackID is the track_ID of every CMAF track we write: a CMAF track file holds exactly one track.
const TrackID = 1

// Protection describes how a track is encrypted and signalled.
type Protection struct {
	Scheme          cenc.Scheme
	KID             [16]byte
	PerSampleIVSize int
	ConstantIV      []byte
	Pattern         cenc.Pattern
	PSSH            [][]byte // complete pssh boxes, copied into moov
}

// InitSegment returns the init segment (ftyp + moov) of a CMAF track carrying t's samples. The
// codec configuration is copied from the input's sample entry; with p non-nil the entry becomes
// encv/enca with a sinf that names the original format, the scheme and the tenc defaults.
func InitSegment(t *demux.Track, p *Protection) ([]byte, error) {
	init := mp4.CreateEmptyInit()
	init.Ftyp = mp4.NewFtyp("iso6", 0, []string{"iso6", "cmfc", "dash"})
	init.Children[0] = init.Ftyp
	trak := init.AddEmptyTrack(t.Timescale, t.Kind.String(), t.Language)
	if t.Kind == demux.Video {
		trak.Tkhd.Width = mp4.Fixed32(t.Width << 16)
		trak.Tkhd.Height = mp4.Fixed32(t.Height << 16)
	}
	entry, err := copyBox(t.SampleEntry)
	if err != nil {
		return nil, fmt.Errorf("copy sample entry %s: %w", t.Format, err)
	}
	if p != nil {
		if err := protectEntry(entry, p); err != nil {
			return nil, err
		}
		for _, b := range p.PSSH {
			box, err := mp4.DecodeBox(0, bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("pssh: %w", err)
			}
			init.Moov.AddChild(box)
		}
	}
	trak.Mdia.Minf.Stbl.Stsd.AddChild(entry)
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// copyBox deep-copies a box by encoding and decoding it, so the input's tree is never modified.
func copyBox(b mp4.Box) (mp4.Box, error) {
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return nil, err
	}
	return mp4.DecodeBox(0, &buf)
}

func protectEntry(entry mp4.Box, p *Protection) error {
	sinf := &mp4.SinfBox{}
	switch se := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		sinf.AddChild(&mp4.FrmaBox{DataFormat: se.Type()})
		se.SetType("encv")
		defer se.AddChild(sinf)
	case *mp4.AudioSampleEntryBox:
		sinf.AddChild(&mp4.FrmaBox{DataFormat: se.Type()})
		se.SetType("enca")
		defer se.AddChild(sinf)
	default:
		return fmt.Errorf("cannot encrypt a %s track", entry.Type())
	}
	sinf.AddChild(&mp4.SchmBox{SchemeType: string(p.Scheme), SchemeVersion: 0x00010000})
	tenc := &mp4.TencBox{
		DefaultIsProtected:     1,
		DefaultPerSampleIVSize: byte(p.PerSampleIVSize),
		DefaultKID:             mp4.UUID(p.KID[:]),
	}
	if p.Scheme == cenc.CBCS {
		// Version 1 carries the crypt:skip pattern; cbcs always uses it (0:0 for whole blocks).
		tenc.Version = 1
		tenc.DefaultCryptByteBlock = p.Pattern.Crypt
		tenc.DefaultSkipByteBlock = p.Pattern.Skip
		tenc.DefaultConstantIV = p.ConstantIV
	}
	schi := &mp4.SchiBox{}
	schi.AddChild(tenc)
	sinf.AddChild(schi)
	return nil
}
