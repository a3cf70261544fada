// Package ncg writes and reads drmpack's whole-file protected container (docs/ncg-format.md):
// AES-128-GCM chunks with random access and per-chunk authentication. It is drmpack's own
// format, not the vendor's NCG byte format.
package ncg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

// Format constants (docs/ncg-format.md, "Header").
const (
	Magic   = "DRMPKNCG"
	Version = 1
	// cipherGCM names the one cipher suite of version 1: AES-128-GCM chunks, HKDF-SHA256 keys,
	// HMAC-SHA256 header tag.
	cipherGCM = 1
	// DefaultChunkShift makes 64 KiB chunks: the authentication overhead is 0.02 % and a range
	// read touches at most 64 KiB more than it asked for.
	DefaultChunkShift = 16
	minChunkShift     = 12 // 4 KiB
	maxChunkShift     = 24 // 16 MiB
	fixedHeaderLen    = 64
	headerTagLen      = sha256.Size
	chunkTagLen       = 16
	maxStringLen      = 4096
	// MaxHeaderLen bounds what a reader reads before it trusts anything.
	MaxHeaderLen = fixedHeaderLen + 3*(2+maxStringLen) + headerTagLen
)

// Header describes a protected file. Nothing in it is secret.
type Header struct {
	ChunkShift uint8 // chunk size = 1 << ChunkShift
	Size       int64 // plaintext bytes
	KID        keys.KID
	Salt       [16]byte // random per file: the key derivation's salt
	Created    time.Time
	CID        string
	Name       string // original file name
	MediaType  string // e.g. video/mp4
	// Len is the encoded header's length including its tag: where chunk 0 starts.
	Len int64
}

// ChunkSize is the plaintext bytes per chunk (the last one may be shorter).
func (h *Header) ChunkSize() int64 { return 1 << h.ChunkShift }

// Chunks is the number of chunks.
func (h *Header) Chunks() int64 { return (h.Size + h.ChunkSize() - 1) / h.ChunkSize() }

// FileSize is the protected file's exact length.
func (h *Header) FileSize() int64 { return h.Len + h.Size + h.Chunks()*chunkTagLen }

// ChunkOffset is where chunk i (its ciphertext, then its tag) starts in the protected file.
func (h *Header) ChunkOffset(i int64) int64 { return h.Len + i*(h.ChunkSize()+chunkTagLen) }

// chunkLen is the plaintext length of chunk i.
func (h *Header) chunkLen(i int64) int64 { return min(h.ChunkSize(), h.Size-i*h.ChunkSize()) }

// encode writes the header without its tag.
func (h *Header) encode() ([]byte, error) {
	strs := []string{h.CID, h.Name, h.MediaType}
	n := fixedHeaderLen + headerTagLen
	for _, s := range strs {
		if len(s) > maxStringLen || !utf8.ValidString(s) {
			return nil, fmt.Errorf("header text %q is not UTF-8 of at most %d bytes", s, maxStringLen)
		}
		n += 2 + len(s)
	}
	b := make([]byte, fixedHeaderLen, n)
	copy(b, Magic)
	binary.BigEndian.PutUint16(b[8:], Version)
	binary.BigEndian.PutUint16(b[10:], uint16(n))
	b[12] = cipherGCM
	b[13] = h.ChunkShift
	binary.BigEndian.PutUint64(b[16:], uint64(h.Size))
	copy(b[24:40], h.KID[:])
	copy(b[40:56], h.Salt[:])
	binary.BigEndian.PutUint64(b[56:], uint64(h.Created.Unix()))
	for _, s := range strs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	h.Len = int64(n)
	return b, nil
}

// Errors of reading. Each is returned wrapped in an *errcode.Error with the manual's code.
var (
	ErrNotNCG   = errors.New("not a drmpack NCG file")
	ErrWrongKey = errors.New("the key does not open this file")
	ErrDamaged  = errors.New("the file is damaged or was tampered with")
)

// ReadHeader reads and parses the header of a protected file of the given size, without a key:
// the header's tag is checked by Open. The size check (the file must be exactly as long as its
// header says) catches truncation and appended data before any chunk is read.
func ReadHeader(r io.ReaderAt, size int64) (*Header, []byte, error) {
	head := make([]byte, min(size, MaxHeaderLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, errcode.Wrap(errcode.FileAccess, err, "read NCG header")
	}
	if len(head) < fixedHeaderLen || string(head[:8]) != Magic {
		return nil, nil, errcode.Wrap(errcode.InvalidArgument, ErrNotNCG, "")
	}
	if v := binary.BigEndian.Uint16(head[8:]); v != Version || head[12] != cipherGCM {
		return nil, nil, errcode.New(errcode.InvalidArgument, "NCG version %d cipher %d is not supported (this drmpack reads version %d)", v, head[12], Version)
	}
	h := &Header{ChunkShift: head[13], Len: int64(binary.BigEndian.Uint16(head[10:]))}
	if h.ChunkShift < minChunkShift || h.ChunkShift > maxChunkShift {
		return nil, nil, errcode.New(errcode.InvalidBlockSize, "chunk size 2^%d is outside 2^%d..2^%d", h.ChunkShift, minChunkShift, maxChunkShift)
	}
	if h.Len < fixedHeaderLen+6+headerTagLen || h.Len > int64(len(head)) {
		return nil, nil, damaged("header length %d does not fit the file", h.Len)
	}
	h.Size = int64(binary.BigEndian.Uint64(head[16:]))
	copy(h.KID[:], head[24:40])
	copy(h.Salt[:], head[40:56])
	h.Created = time.Unix(int64(binary.BigEndian.Uint64(head[56:])), 0).UTC()
	rest := head[fixedHeaderLen : h.Len-headerTagLen]
	for _, dst := range []*string{&h.CID, &h.Name, &h.MediaType} {
		if len(rest) < 2 || int(binary.BigEndian.Uint16(rest)) > len(rest)-2 {
			return nil, nil, damaged("header text fields overrun the header")
		}
		n := int(binary.BigEndian.Uint16(rest))
		*dst, rest = string(rest[2:2+n]), rest[2+n:]
	}
	if len(rest) != 0 || h.Size < 0 || h.Size > 1<<60 {
		return nil, nil, damaged("header fields do not add up")
	}
	if want := h.FileSize(); want != size {
		return nil, nil, errcode.New(errcode.InvalidBlockSize, "the file is %d bytes, its header says %d: truncated or extended (%v)", size, want, ErrDamaged)
	}
	return h, head[:h.Len], nil
}

func damaged(format string, args ...any) error {
	return errcode.New(errcode.InvalidBlockSize, "%s (%v)", fmt.Sprintf(format, args...), ErrDamaged)
}

// fileKeys are the keys of one file, derived from the content key and the file's salt.
type fileKeys struct {
	chunk     cipher.AEAD
	headerMAC []byte
}

// deriveKeys derives the chunk key and header MAC key with HKDF-SHA256 (RFC 5869): the content
// key as input keying material, the file's salt as salt, distinct info strings.
func deriveKeys(key keys.Secret, salt [16]byte) (*fileKeys, error) {
	chunkKey, err := hkdf.Key(sha256.New, key[:], salt[:], "drmpack ncg v1 chunk key", 16)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, key[:], salt[:], "drmpack ncg v1 header key", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(chunkKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &fileKeys{chunk: aead, headerMAC: macKey}, nil
}

func (k *fileKeys) headerTag(header []byte) []byte {
	m := hmac.New(sha256.New, k.headerMAC)
	m.Write(header)
	return m.Sum(nil)
}

// chunkNonce is the GCM nonce of chunk i: 4 zero bytes and the index, big-endian. The keys are
// unique per file (random salt), so the index alone makes each nonce unique.
func chunkNonce(i int64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], uint64(i))
	return n[:]
}
