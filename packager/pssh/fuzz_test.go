package pssh

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzParseBox feeds arbitrary bytes to ParseBox. It must never panic, must
// return only zero values alongside an error, and whatever it accepts in the
// plain form (32-bit size, zero flags) must re-encode to the same bytes,
// which shows that no part of the input was skipped or misread.
//
// The seed corpus is in testdata/fuzz/FuzzParseBox: the Widevine reference
// box, generated PlayReady boxes, version 1 boxes, the size 0 and largesize
// forms, and a few truncated and overflowing variants.
func FuzzParseBox(f *testing.F) {
	f.Add(mustB64(f, widevineExampleBox))
	f.Add(boxV1(PlayReady, [][16]byte{testKID1, testKID2}, []byte{1, 2, 3}))

	f.Fuzz(func(t *testing.T, b []byte) {
		sys, kids, data, err := ParseBox(b)
		if err != nil {
			if sys != (SystemID{}) || kids != nil || data != nil {
				t.Fatalf("error %v came with non-zero results", err)
			}
			return
		}
		if len(data) > len(b) || 16*len(kids) > len(b) {
			t.Fatalf("results larger than the input: %d kids, %d data bytes, %d input bytes", len(kids), len(data), len(b))
		}
		if size := binary.BigEndian.Uint32(b[0:4]); size < 8 || b[9]|b[10]|b[11] != 0 {
			return // size 0/1 forms and non-zero flags do not re-encode byte for byte
		}
		var again []byte
		switch b[8] {
		case 0:
			if kids != nil {
				t.Fatalf("version 0 box returned %d KIDs", len(kids))
			}
			again = Box(sys, data)
		case 1:
			again = boxV1(sys, kids, data)
		default:
			t.Fatalf("accepted version %d", b[8])
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n got % x\n  in % x", again, b)
		}
	})
}
