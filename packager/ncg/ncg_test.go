package ncg

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

var testKey = keys.Key{KID: keys.KID{0x6b, 0xac, 0x8e, 0xc3}, Key: keys.Secret{0x3a, 0x54, 0x45, 0x2b}}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func protect(t testing.TB, plain []byte, shift uint8) []byte {
	t.Helper()
	var out bytes.Buffer
	h, err := Encrypt(context.Background(), &out, bytes.NewReader(plain), int64(len(plain)), testKey,
		Meta{CID: "cid 한글", Name: "movie.mp4", MediaType: "video/mp4", ChunkShift: shift}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.FileSize() != int64(out.Len()) {
		t.Fatalf("header says %d bytes, wrote %d", h.FileSize(), out.Len())
	}
	return out.Bytes()
}

func decrypt(sealed []byte, key keys.Secret) ([]byte, error) {
	r, err := Open(bytes.NewReader(sealed), int64(len(sealed)), key)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	err = r.Decrypt(context.Background(), &out, nil)
	return out.Bytes(), err
}

func code(err error) errcode.Code {
	var e *errcode.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return -100
}

func TestRoundTripSizes(t *testing.T) {
	const shift = 12
	cs := 1 << shift
	for _, n := range []int{0, 1, cs - 1, cs, cs + 1, 3*cs + 5, batchBytes - 1, batchBytes + cs + 1} {
		plain := randomBytes(n, uint64(n))
		sealed := protect(t, plain, shift)
		if bytes.Contains(sealed, plain[:min(n, 64)]) && n >= 16 {
			t.Fatalf("%d bytes: plaintext visible in the output", n)
		}
		got, err := decrypt(sealed, testKey.Key)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: round trip differs", n)
		}
	}
}

func TestHeaderFields(t *testing.T) {
	sealed := protect(t, []byte("hello"), 0)
	h, _, err := ReadHeader(bytes.NewReader(sealed), int64(len(sealed)))
	if err != nil {
		t.Fatal(err)
	}
	if h.CID != "cid 한글" || h.Name != "movie.mp4" || h.MediaType != "video/mp4" || h.KID != testKey.KID || h.Size != 5 || h.ChunkSize() != 64<<10 {
		t.Fatalf("%+v", h)
	}
	if bytes.Contains(sealed, testKey.Key[:]) {
		t.Fatal("the key is in the file")
	}
}

func TestRandomRangeReads(t *testing.T) {
	plain := randomBytes(300_000, 7)
	sealed := protect(t, plain, 12)
	r, err := Open(bytes.NewReader(sealed), int64(len(sealed)), testKey.Key)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		off := rng.Int64N(int64(len(plain)) + 10)
		n := rng.IntN(20_000)
		p := make([]byte, n)
		got, err := r.ReadAt(p, off)
		wantN := max(0, min(n, len(plain)-int(off)))
		if got != wantN || !bytes.Equal(p[:got], plain[min(off, int64(len(plain))):int(off)+wantN]) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes of plaintext", n, off, got, err, wantN)
		}
		if got < n && err != io.EOF {
			t.Fatalf("short read without io.EOF: %v", err)
		}
	}
}

// Any modified byte — header, ciphertext or tag — makes opening or reading fail; the result is
// never wrong plaintext.
func TestEveryByteFlipIsDetected(t *testing.T) {
	plain := randomBytes(2*4096+100, 3)
	sealed := protect(t, plain, 12)
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		got, err := decrypt(bad, testKey.Key)
		if err == nil {
			t.Fatalf("flip at byte %d not detected (plaintext equal: %v)", i, bytes.Equal(got, plain))
		}
		if c := code(err); c != errcode.InvalidBlockSize && c != errcode.InvalidKey && c != errcode.InvalidArgument {
			t.Fatalf("flip at byte %d: code %d (%v)", i, c, err)
		}
	}
}

func TestTruncationAndExtensionAreDetected(t *testing.T) {
	sealed := protect(t, randomBytes(3*4096+1, 4), 12)
	for n := 0; n < len(sealed); n += 97 {
		if _, err := decrypt(sealed[:n], testKey.Key); err == nil {
			t.Fatalf("truncated to %d bytes: not detected", n)
		}
	}
	if _, err := decrypt(append(bytes.Clone(sealed), 0), testKey.Key); code(err) != errcode.InvalidBlockSize {
		t.Fatalf("extended file: %v", err)
	}
}

// Chunks of another file under the same key do not open: keys differ per file (salt).
func TestChunksCannotBeSpliced(t *testing.T) {
	plain := randomBytes(2*4096, 5)
	a, b := protect(t, plain, 12), protect(t, plain, 12)
	h, _, _ := ReadHeader(bytes.NewReader(a), int64(len(a)))
	spliced := bytes.Clone(a)
	copy(spliced[h.Len:], b[h.Len:])
	if _, err := decrypt(spliced, testKey.Key); code(err) != errcode.InvalidBlockSize {
		t.Fatalf("spliced chunks: %v", err)
	}
	// And chunks cannot be reordered within a file.
	cs := int(h.ChunkSize()) + chunkTagLen
	swapped := bytes.Clone(a)
	copy(swapped[h.Len:], a[int(h.Len)+cs:int(h.Len)+2*cs])
	copy(swapped[int(h.Len)+cs:], a[h.Len:int(h.Len)+cs])
	if _, err := decrypt(swapped, testKey.Key); code(err) != errcode.InvalidBlockSize {
		t.Fatalf("swapped chunks: %v", err)
	}
}

func TestWrongKeyAndNotNCG(t *testing.T) {
	sealed := protect(t, []byte("secret movie"), 0)
	_, err := decrypt(sealed, keys.Secret{1})
	if code(err) != errcode.InvalidKey || !strings.Contains(err.Error(), testKey.KID.UUID()) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := decrypt([]byte("ftypisom............................................................"), testKey.Key); code(err) != errcode.InvalidArgument {
		t.Fatalf("an MP4: %v", err)
	}
}

// The chunk ciphertext is AES-128-CTR: a reader that trusts its storage can decrypt any byte
// with the formula of docs/ncg-format.md, without the rest of the chunk.
func TestDocumentedCTRFormula(t *testing.T) {
	plain := randomBytes(3*4096, 6)
	sealed := protect(t, plain, 12)
	h, _, _ := ReadHeader(bytes.NewReader(sealed), int64(len(sealed)))
	chunkKey := mustHKDF(t, testKey.Key, h.Salt)
	block, _ := aes.NewCipher(chunkKey)
	const off = 4096 + 1000 // byte 1000 of chunk 1
	i, within := int64(off/4096), int64(off%4096)
	var iv [16]byte
	copy(iv[:12], chunkNonce(i))
	ctr := uint32(2 + within/16)
	iv[12], iv[13], iv[14], iv[15] = byte(ctr>>24), byte(ctr>>16), byte(ctr>>8), byte(ctr)
	stream := cipher.NewCTR(block, iv[:])
	ct := sealed[h.ChunkOffset(i)+within-within%16 : h.ChunkOffset(i)+within-within%16+32]
	pt := make([]byte, 32)
	stream.XORKeyStream(pt, ct)
	if !bytes.Equal(pt, plain[off-off%16:off-off%16+32]) {
		t.Fatal("the documented CTR formula does not decrypt the chunk")
	}
}

func FuzzReadHeader(f *testing.F) {
	f.Add(protect(f, []byte("x"), 0))
	f.Add(protect(f, randomBytes(5000, 1), 12))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, _, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if h.FileSize() != int64(len(b)) {
			t.Fatalf("accepted a header whose size %d is not the file's %d", h.FileSize(), len(b))
		}
		// Opening with the test key must fail cleanly or read back consistently.
		if r, err := Open(bytes.NewReader(b), int64(len(b)), testKey.Key); err == nil {
			r.Decrypt(context.Background(), io.Discard, nil)
		}
	})
}

func BenchmarkEncrypt(b *testing.B) {
	plain := randomBytes(64<<20, 9)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		Encrypt(context.Background(), io.Discard, bytes.NewReader(plain), int64(len(plain)), testKey, Meta{}, nil)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	plain := randomBytes(64<<20, 9)
	sealed := protect(b, plain, 0)
	r, _ := Open(bytes.NewReader(sealed), int64(len(sealed)), testKey.Key)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		r.Decrypt(context.Background(), io.Discard, nil)
	}
}

// BenchmarkAESCTR is the raw cipher on one core, the ceiling Encrypt is compared with.
func BenchmarkAESCTR(b *testing.B) {
	buf := randomBytes(64<<20, 9)
	block, _ := aes.NewCipher(testKey.Key[:])
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(buf, buf)
	}
}

func mustHKDF(t testing.TB, key keys.Secret, salt [16]byte) []byte {
	t.Helper()
	// Derived as docs/ncg-format.md says, with the standard library's HKDF.
	k, err := hkdf.Key(sha256.New, key[:], salt[:], "drmpack ncg v1 chunk key", 16)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
