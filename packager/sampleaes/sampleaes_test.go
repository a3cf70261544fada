package sampleaes

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"math/rand/v2"
	"testing"
)

var (
	testKey = [16]byte{0x3a, 0x54, 0x45, 0x2b, 0xa2, 0xd2, 0xca, 0xd1, 0x6b, 0xd8, 0x79, 0xcd, 0xd4, 0x7a, 0xb0, 0x5b}
	testIV  = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// unescape removes emulation prevention bytes as a decoder does (every 0x03 after two zeros).
func unescape(p []byte) []byte {
	var out []byte
	zeros := 0
	for _, b := range p {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func TestAppendEscaped(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte{0, 0, 0}, []byte{0, 0, 3, 0}},
		{[]byte{0, 0, 1}, []byte{0, 0, 3, 1}},
		{[]byte{0, 0, 3}, []byte{0, 0, 3, 3}},
		{[]byte{0, 0, 4}, []byte{0, 0, 4}},
		{[]byte{0, 0, 0, 0, 0}, []byte{0, 0, 3, 0, 0, 3, 0}},
		{[]byte{5, 0, 0}, []byte{5, 0, 0}}, // trailing zeros need no escape inside a unit we end
		{[]byte{0, 0, 2, 0, 0, 1}, []byte{0, 0, 3, 2, 0, 0, 3, 1}},
	}
	for _, c := range cases {
		if got := AppendEscaped(nil, c.in); !bytes.Equal(got, c.want) {
			t.Errorf("escape %x = %x, want %x", c.in, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 2000 {
		p := make([]byte, r.IntN(64))
		for i := range p {
			p[i] = byte(r.IntN(4)) // mostly zeros and small values
		}
		if n%2 == 1 { // longer units with sparse zero runs, as slice data has
			p = make([]byte, r.IntN(300))
			for i := range p {
				if p[i] = byte(r.IntN(256)); r.IntN(6) == 0 {
					p[i] = 0
				}
			}
		}
		e := AppendEscaped(nil, p)
		if !bytes.Equal(unescape(e), p) || bytes.Contains(e, []byte{0, 0, 0}) || bytes.Contains(e, []byte{0, 0, 1}) || bytes.Contains(e, []byte{0, 0, 2}) {
			t.Fatalf("escape %x = %x does not round-trip or has a start code prefix", p, e)
		}
	}
}

// decryptNAL is the receiver's side of Apple's format written from the spec's description:
// remove emulation prevention, then decrypt the 16-byte blocks at 32, 192, 352, ... (while more
// than 16 bytes remain) as one CBC chain from the IV.
func decryptNAL(t *testing.T, p []byte) []byte {
	t.Helper()
	p = unescape(p)
	b, _ := aes.NewCipher(testKey[:])
	iv := testIV
	dec := cipher.NewCBCDecrypter(b, iv[:])
	for off := 32; len(p)-off > 16; off += 160 {
		dec.CryptBlocks(p[off:off+16], p[off:off+16])
	}
	return p
}

func TestAppendNAL(t *testing.T) {
	e, err := New(testKey, testIV)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{2, 48, 49, 64, 192, 193, 208, 209, 1000, 5000} {
		for _, typ := range []byte{0x65, 0x41, 0x06, 0x67} { // IDR, non-IDR slice, SEI, SPS
			nal := make([]byte, n)
			for i := range nal {
				nal[i] = byte(r.IntN(3)) * byte(r.IntN(256)) // many zeros: emulation prevention happens
			}
			nal[0] = typ
			nal = unescape(AppendEscaped(nil, nal)) // a unit that is valid as stored
			nal = AppendEscaped(nil, nal)
			got := e.AppendNAL([]byte{9}, nal)
			if got[0] != 9 {
				t.Fatal("dst prefix lost")
			}
			got = got[1:]
			slice := typ&0x1F == 1 || typ&0x1F == 5
			if !slice || len(nal) <= 48 {
				if !bytes.Equal(got, nal) {
					t.Fatalf("type %x, %d bytes: a unit that is not protected changed", typ, len(nal))
				}
				continue
			}
			clear := unescape(got)
			if !bytes.Equal(clear[:32], nal[:32]) {
				t.Fatalf("%d bytes: the 32-byte leader is not clear", len(nal))
			}
			if bytes.Equal(clear, nal) {
				t.Fatalf("%d bytes: nothing encrypted", len(nal))
			}
			if bytes.Contains(got, []byte{0, 0, 1}) || bytes.Contains(got, []byte{0, 0, 0}) {
				t.Fatalf("%d bytes: start code prefix inside the encrypted unit", len(nal))
			}
			if !bytes.Equal(decryptNAL(t, got), nal) {
				t.Fatalf("%d bytes: decrypts to something else", len(nal))
			}
		}
	}
}

func TestEncryptAudioFrame(t *testing.T) {
	e, _ := New(testKey, testIV)
	b, _ := aes.NewCipher(testKey[:])
	for _, n := range []int{7, 23, 38, 39, 55, 300, 301} {
		frame := make([]byte, n)
		for i := range frame {
			frame[i] = byte(i)
		}
		orig := append([]byte(nil), frame...)
		e.EncryptAudioFrame(frame, 7)
		whole := max(0, (n-23)/16*16)
		if !bytes.Equal(frame[:min(23, n)], orig[:min(23, n)]) || !bytes.Equal(frame[min(23+whole, n):], orig[min(23+whole, n):]) {
			t.Fatalf("%d bytes: header, leader or partial tail not clear", n)
		}
		if whole == 0 {
			continue
		}
		// IV restarts for every frame: decrypt with the playlist IV.
		iv := testIV
		cipher.NewCBCDecrypter(b, iv[:]).CryptBlocks(frame[23:23+whole], frame[23:23+whole])
		if !bytes.Equal(frame, orig) {
			t.Fatalf("%d bytes: does not decrypt back", n)
		}
	}
}

func BenchmarkAppendNAL(b *testing.B) {
	e, _ := New(testKey, testIV)
	nal := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range nal {
		nal[i] = byte(r.Uint32())
	}
	nal[0] = 0x65
	var dst []byte
	b.SetBytes(int64(len(nal)))
	for b.Loop() {
		dst = e.AppendNAL(dst[:0], nal)
	}
}

// FuzzAppendEscaped: escaping any bytes must round-trip through a decoder's unescaping and leave
// no start code prefix (00 00 00, 00 00 01, 00 00 02) behind.
func FuzzAppendEscaped(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3, 0, 0, 3, 0, 0})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 0, 0, 9, 10, 11, 12, 13, 14, 15, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		e := AppendEscaped([]byte{0xAA}, p)[1:]
		if !bytes.Equal(unescape(e), p) {
			t.Fatalf("escape %x = %x does not round-trip", p, e)
		}
		for _, sc := range [][]byte{{0, 0, 0}, {0, 0, 1}, {0, 0, 2}} {
			if bytes.Contains(e, sc) {
				t.Fatalf("escape %x = %x contains %x", p, e, sc)
			}
		}
	})
}
