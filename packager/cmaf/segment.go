package cmaf

import (
	"fmt"
	"io"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/cenc"
)

// Sample is one sample of a media segment, with the encryption information its senc entry needs.
type Sample struct {
	Size       uint32
	Dur        uint32
	CTO        int32
	Sync       bool
	IV         []byte           // per-sample IV (cenc); nil with a constant IV
	Subsamples []cenc.Subsample // nil for whole-sample encryption
}

// Segment is one CMAF media segment: a single fragment holding Samples, whose data (already
// encrypted when Encrypted is set) the caller passes to WriteSegment as one contiguous payload.
type Segment struct {
	Sequence     uint32
	BaseDecode   uint64 // tfdt baseMediaDecodeTime
	Samples      []Sample
	Encrypted    bool
	SubsampleMap bool // samples carry subsample maps (NAL-structured video)
}

// WriteSegment writes styp + moof + mdat. data must be the concatenated sample payloads, in order;
// it is written after the headers without being copied.
func WriteSegment(w io.Writer, s *Segment, data []byte) error {
	frag, err := mp4.CreateFragment(s.Sequence, TrackID)
	if err != nil {
		return err
	}
	var total uint64
	for i := range s.Samples {
		smp := &s.Samples[i]
		flags := mp4.NonSyncSampleFlags
		if smp.Sync {
			flags = mp4.SyncSampleFlags
		}
		frag.AddSample(mp4.Sample{Flags: flags, Dur: smp.Dur, Size: smp.Size, CompositionTimeOffset: smp.CTO}, s.BaseDecode)
		total += uint64(smp.Size)
	}
	if total != uint64(len(data)) {
		return fmt.Errorf("segment %d: samples add up to %d bytes but %d were given", s.Sequence, total, len(data))
	}
	if s.Encrypted {
		if err := addEncryptionBoxes(frag, s); err != nil {
			return err
		}
	}
	styp := mp4.CreateStyp()
	styp.AddCompatibleBrands([]string{"cmfs"})
	if err := styp.Encode(w); err != nil {
		return err
	}
	if err := frag.Encode(w); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// addEncryptionBoxes adds senc (the IVs and subsample maps), saiz (their sizes) and saio (where
// they are, relative to moof), so players that read either the CENC boxes or senc find them.
func addEncryptionBoxes(frag *mp4.Fragment, s *Segment) error {
	traf := frag.Moof.Traf
	senc := mp4.NewSencBox(len(s.Samples), len(s.Samples))
	saiz := mp4.NewSaizBox(len(s.Samples))
	var subs []mp4.SubSamplePattern
	for i := range s.Samples {
		smp := &s.Samples[i]
		subs = subs[:0]
		for _, ss := range smp.Subsamples {
			subs = append(subs, mp4.SubSamplePattern{BytesOfClearData: ss.Clear, BytesOfProtectedData: ss.Protected})
		}
		var iv mp4.InitializationVector
		if smp.IV != nil {
			iv = append(mp4.InitializationVector(nil), smp.IV...)
		}
		entry := append([]mp4.SubSamplePattern(nil), subs...)
		if len(entry) == 0 {
			entry = nil
		}
		if err := senc.AddSample(mp4.SencSample{IV: iv, SubSamples: entry}); err != nil {
			return err
		}
		if err := saiz.AddSampleInfo(iv, entry); err != nil {
			return err
		}
	}
	if s.SubsampleMap {
		senc.Flags |= mp4.UseSubSampleEncryption
	}
	if len(senc.IVs) == 0 && senc.Flags&mp4.UseSubSampleEncryption == 0 {
		// A constant IV and no subsamples leave nothing to store (cbcs audio): CMAF then omits
		// senc, saiz and saio.
		return nil
	}
	saio := mp4.NewSaioBox()
	for _, b := range []mp4.Box{saiz, saio, senc} {
		if err := traf.AddChild(b); err != nil {
			return err
		}
	}
	// saio points at the first IV/subsample entry inside senc: moof header, every box before senc
	// in moof and traf, then senc's own header, version/flags and sample count.
	offset := uint64(8)
	for _, c := range frag.Moof.Children {
		if c != mp4.Box(traf) {
			offset += c.Size()
			continue
		}
		offset += 8
		for _, tc := range traf.Children {
			if tc == mp4.Box(senc) {
				break
			}
			offset += tc.Size()
		}
		break
	}
	saio.Offset[0] = int64(offset + 16)
	return nil
}
