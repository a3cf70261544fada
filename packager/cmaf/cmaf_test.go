package cmaf_test

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/cenc"
	"drmpack/packager/cmaf"
	"drmpack/packager/demux"
	"drmpack/packager/pssh"
)

var kid = [16]byte{0x6b, 0xac, 0x8e, 0xc3, 0x0e, 0xe3, 0x37, 0x9f, 0x3d, 0x21, 0x29, 0x0b, 0x3a, 0x2b, 0xc9, 0xc3}

func openClip(t *testing.T) *demux.Track {
	t.Helper()
	m, err := demux.Open(filepath.Join("..", "cenc", "testdata", "avc_2slices.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m.Tracks[0]
}

func TestInitSegmentSignalling(t *testing.T) {
	tr := openClip(t)
	wv := pssh.Box(pssh.Widevine, pssh.WidevineData([][16]byte{kid}, "drmpack", []byte("cid"), "cbcs"))
	constIV := bytes.Repeat([]byte{7}, 16)
	b, err := cmaf.InitSegment(tr, &cmaf.Protection{
		Scheme: cenc.CBCS, KID: kid, ConstantIV: constIV, Pattern: cenc.Pattern{Crypt: 1, Skip: 9}, PSSH: [][]byte{wv},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Ftyp == nil || f.Moov == nil || f.Moov.Mvex == nil || f.Moov.Mvex.Trex == nil {
		t.Fatal("init segment lacks ftyp, moov or mvex/trex")
	}
	if f.Moov.Trak.Tkhd.TrackID != cmaf.TrackID || f.Moov.Mvex.Trex.TrackID != cmaf.TrackID {
		t.Fatal("track IDs of tkhd and trex differ from cmaf.TrackID")
	}
	se := f.Moov.Trak.Mdia.Minf.Stbl.Stsd.Children[0].(*mp4.VisualSampleEntryBox)
	if se.Type() != "encv" || se.AvcC == nil || se.Sinf == nil {
		t.Fatalf("sample entry %s without avcC/sinf", se.Type())
	}
	if se.Sinf.Frma.DataFormat != "avc1" || se.Sinf.Schm.SchemeType != "cbcs" || se.Sinf.Schm.SchemeVersion != 0x10000 {
		t.Fatalf("frma %s schm %s %x", se.Sinf.Frma.DataFormat, se.Sinf.Schm.SchemeType, se.Sinf.Schm.SchemeVersion)
	}
	tenc := se.Sinf.Schi.Tenc
	if tenc.Version != 1 || tenc.DefaultCryptByteBlock != 1 || tenc.DefaultSkipByteBlock != 9 || tenc.DefaultIsProtected != 1 ||
		tenc.DefaultPerSampleIVSize != 0 || !bytes.Equal(tenc.DefaultConstantIV, constIV) || !bytes.Equal(tenc.DefaultKID, kid[:]) {
		t.Fatalf("tenc %+v", tenc)
	}
	if len(f.Moov.Psshs) != 1 || !bytes.Equal(f.Moov.Psshs[0].SystemID, pssh.Widevine[:]) {
		t.Fatalf("pssh boxes %v", f.Moov.Psshs)
	}
	// The input's tree must be untouched: it is shared by every output of a job.
	if tr.SampleEntry.Type() != "avc1" {
		t.Fatalf("InitSegment modified the input's sample entry (%s)", tr.SampleEntry.Type())
	}
}

// TestSegmentBoxes writes a cenc segment and reads it back with mp4ff: trun (version 1 with
// signed offsets), senc IVs and subsamples, saiz sizes, saio pointing at the first senc entry,
// and the payload right where trun's data offset says.
func TestSegmentBoxes(t *testing.T) {
	seg := &cmaf.Segment{Sequence: 7, BaseDecode: 90000, Encrypted: true, SubsampleMap: true}
	payload := []byte{}
	for i := 0; i < 3; i++ {
		size := uint32(40 + i)
		seg.Samples = append(seg.Samples, cmaf.Sample{
			Size: size, Dur: 512, CTO: int32(-512 * i), Sync: i == 0,
			IV:         []byte{0, 0, 0, 0, 0, 0, 0, byte(i + 1)},
			Subsamples: []cenc.Subsample{{Clear: 8, Protected: 32}, {Clear: uint16(i), Protected: 0}},
		})
		payload = append(payload, bytes.Repeat([]byte{byte(i + 1)}, int(size))...)
	}
	var buf bytes.Buffer
	if err := cmaf.WriteSegment(&buf, seg, payload); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Segments) != 1 || f.Segments[0].Styp == nil || len(f.Segments[0].Fragments) != 1 {
		t.Fatal("want one segment with styp and one fragment")
	}
	frag := f.Segments[0].Fragments[0]
	traf := frag.Moof.Traf
	if frag.Moof.Mfhd.SequenceNumber != 7 || traf.Tfdt.BaseMediaDecodeTime() != 90000 {
		t.Fatalf("mfhd %d tfdt %d", frag.Moof.Mfhd.SequenceNumber, traf.Tfdt.BaseMediaDecodeTime())
	}
	trun := traf.Trun
	if trun.Version != 1 || trun.SampleCount() != 3 {
		t.Fatalf("trun version %d count %d", trun.Version, trun.SampleCount())
	}
	for i, s := range trun.Samples {
		if s.CompositionTimeOffset != int32(-512*i) || s.Size != uint32(40+i) {
			t.Fatalf("trun sample %d: %+v", i, s)
		}
		if (s.Flags == mp4.SyncSampleFlags) != (i == 0) {
			t.Fatalf("trun sample %d flags %x", i, s.Flags)
		}
	}
	moofStart := int(frag.Moof.StartPos)
	dataStart := moofStart + int(trun.DataOffset)
	if !bytes.Equal(raw[dataStart:dataStart+len(payload)], payload) {
		t.Fatal("trun data_offset does not point at the payload")
	}
	if traf.Senc == nil || traf.Saiz == nil || traf.Saio == nil {
		t.Fatal("senc, saiz or saio missing")
	}
	if err := traf.Senc.ParseReadBox(8, traf.Saiz); err != nil {
		t.Fatal(err)
	}
	for i := range seg.Samples {
		if !bytes.Equal(traf.Senc.IVs[i], seg.Samples[i].IV) || len(traf.Senc.SubSamples[i]) != 2 {
			t.Fatalf("senc entry %d: IV %x subsamples %v", i, traf.Senc.IVs[i], traf.Senc.SubSamples[i])
		}
	}
	// Each entry: 8-byte IV + 2-byte count + 2 × 6-byte subsamples = 22.
	if traf.Saiz.DefaultSampleInfoSize != 22 || traf.Saiz.SampleCount != 3 {
		t.Fatalf("saiz default %d count %d", traf.Saiz.DefaultSampleInfoSize, traf.Saiz.SampleCount)
	}
	at := moofStart + int(traf.Saio.Offset[0])
	if !bytes.Equal(raw[at:at+8], seg.Samples[0].IV) || binary.BigEndian.Uint16(raw[at+8:]) != 2 {
		t.Fatalf("saio offset %d does not point at the first senc entry", traf.Saio.Offset[0])
	}
}

func TestSegmentRejectsWrongPayloadSize(t *testing.T) {
	seg := &cmaf.Segment{Sequence: 1, Samples: []cmaf.Sample{{Size: 10, Dur: 1}}}
	if err := cmaf.WriteSegment(&bytes.Buffer{}, seg, make([]byte, 9)); err == nil {
		t.Fatal("a payload shorter than the samples was accepted")
	}
}

func TestCodecs(t *testing.T) {
	if c, err := cmaf.Codecs(openClip(t)); err != nil || c != "avc1.640015" && c[:7] != "avc1.64" {
		t.Fatalf("codecs %q %v", c, err)
	}
}
