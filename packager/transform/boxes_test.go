package transform

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/internal/mediatest"
)

// TestChunkOffsetsSwitchTo64Bits moves a real moov's media 5 GiB further: every stco must become a
// co64 with the moved offsets, and the re-sized containers must still decode (mp4ff's parser).
func TestChunkOffsetsSwitchTo64Bits(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(mediatest.Media(t), "h264_aac_moov_end.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := readBoxes(bytes.NewReader(b), 0, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var moovBytes []byte
	for _, x := range top {
		if x.typ == "moov" {
			moovBytes = b[x.off:x.end()]
		}
	}
	const far = 5 << 30
	out, err := rewriteMoov(moovBytes, func(off int64) (int64, error) { return off + far, nil })
	if err != nil {
		t.Fatal(err)
	}
	before := decodeMoov(t, moovBytes)
	after := decodeMoov(t, out)
	for i, trak := range after.Traks {
		stbl, old := trak.Mdia.Minf.Stbl, before.Traks[i].Mdia.Minf.Stbl
		if stbl.Stco != nil || stbl.Co64 == nil || len(stbl.Co64.ChunkOffset) != len(old.Stco.ChunkOffset) {
			t.Fatalf("track %d: stco %v co64 %v", i+1, stbl.Stco != nil, stbl.Co64 != nil)
		}
		for j, off := range old.Stco.ChunkOffset {
			if stbl.Co64.ChunkOffset[j] != uint64(off)+far {
				t.Fatalf("track %d chunk %d at %d, want %d", i+1, j, stbl.Co64.ChunkOffset[j], uint64(off)+far)
			}
		}
	}
	// Offsets that still fit stay in a stco, and the moov is then byte-identical apart from them.
	same, err := rewriteMoov(moovBytes, func(off int64) (int64, error) { return off, nil })
	if err != nil || !bytes.Equal(same, moovBytes) {
		t.Fatalf("identity shift changed the moov (%v)", err)
	}
}

func decodeMoov(t *testing.T, b []byte) *mp4.MoovBox {
	t.Helper()
	box, err := mp4.DecodeBox(0, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(b)) != box.Size() {
		t.Fatalf("moov decodes to %d bytes, has %d", box.Size(), len(b))
	}
	return box.(*mp4.MoovBox)
}

func TestBoxHeaderSizes(t *testing.T) {
	if h := boxHeader("mdat", 100); len(h) != 8 || binary.BigEndian.Uint32(h) != 108 || string(h[4:]) != "mdat" {
		t.Fatalf("small header % x", h)
	}
	n := int64(1) << 33
	h := boxHeader("mdat", n)
	if len(h) != 16 || binary.BigEndian.Uint32(h) != 1 || binary.BigEndian.Uint64(h[8:]) != uint64(n+16) {
		t.Fatalf("large header % x", h)
	}
}
