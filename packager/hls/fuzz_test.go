package hls

import (
	"testing"

	"drmpack/packager/sampleaes"
)

// FuzzAppendAccessUnit feeds arbitrary sample bytes (an input's mdat is untrusted) through the
// Annex B conversion and SAMPLE-AES: an error is fine, a panic or an overrun is not.
func FuzzAppendAccessUnit(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0x09, 0xF0, 0, 0, 0, 5, 0x65, 1, 2, 3, 4}, true, uint8(4))
	f.Add([]byte{0, 0, 0, 60, 0x41}, false, uint8(4))
	f.Add([]byte{0, 3, 0x26, 1, 0xAF}, true, uint8(2))
	enc, err := sampleaes.New([16]byte{1}, [16]byte{2})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sample []byte, sync bool, lengthSize uint8) {
		for _, c := range []codec{h264, h265} {
			e := &esTrack{codec: c, lengthSize: int(lengthSize%4) + 1, paramSets: [][]byte{{0x67, 1}, {0x68, 2}}}
			if c == h264 {
				e.enc = enc
			}
			out, err := e.appendAccessUnit(nil, sample, sync)
			if err == nil && len(out) < len(sample) {
				t.Fatalf("%d bytes of Annex B for a %d-byte sample: NAL data lost", len(out), len(sample))
			}
		}
	})
}
