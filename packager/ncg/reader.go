package ncg

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"

	"drmpack/internal/fileio"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

// Reader gives random access to the plaintext of a protected file. Every chunk a read touches is
// authenticated before any of its bytes are returned.
type Reader struct {
	Header *Header
	r      io.ReaderAt
	keys   *fileKeys
	tag    []byte
}

// Open checks the header (its length against size, its tag against key) and returns a reader.
// A key that does not open the file is error 2005; a damaged header 2003.
func Open(r io.ReaderAt, size int64, key keys.Secret) (*Reader, error) {
	h, header, err := ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	fk, err := deriveKeys(key, h.Salt)
	if err != nil {
		return nil, err
	}
	tag := header[h.Len-headerTagLen:]
	if !hmac.Equal(tag, fk.headerTag(header[:h.Len-headerTagLen])) {
		// Without the key a wrong key and a modified header look the same; the KID names the key
		// that was expected.
		return nil, errcode.New(errcode.InvalidKey, "%v (it needs the key of KID %s), or its header was modified", ErrWrongKey, h.KID.UUID())
	}
	return &Reader{Header: h, r: r, keys: fk, tag: tag}, nil
}

// Size is the plaintext length.
func (r *Reader) Size() int64 { return r.Header.Size }

// openChunk authenticates and decrypts chunk i from sealed (its ciphertext and tag) into dst.
func (r *Reader) openChunk(dst, sealed []byte, i int64) error {
	if _, err := r.keys.chunk.Open(dst[:0], chunkNonce(i), sealed, r.tag); err != nil {
		return errcode.New(errcode.InvalidBlockSize, "chunk %d (bytes %d-%d of the original) fails authentication: %v",
			i, i*r.Header.ChunkSize(), i*r.Header.ChunkSize()+r.Header.chunkLen(i)-1, ErrDamaged)
	}
	return nil
}

// ReadAt implements io.ReaderAt over the plaintext.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("ncg: negative offset")
	}
	h := r.Header
	if off >= h.Size {
		return 0, io.EOF
	}
	cs := h.ChunkSize()
	sealed := make([]byte, cs+chunkTagLen)
	plain := make([]byte, cs)
	n := 0
	for n < len(p) && off < h.Size {
		i := off / cs
		l := h.chunkLen(i)
		if _, err := r.r.ReadAt(sealed[:l+chunkTagLen], h.ChunkOffset(i)); err != nil {
			return n, errcode.Wrap(errcode.FileAccess, err, fmt.Sprintf("read chunk %d", i))
		}
		if err := r.openChunk(plain, sealed[:l+chunkTagLen], i); err != nil {
			return n, err
		}
		c := copy(p[n:], plain[off-i*cs:l])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Decrypt writes the whole plaintext to w, authenticating every chunk, on every core.
// progress, when set, gets the plaintext bytes done so far.
func (r *Reader) Decrypt(ctx context.Context, w io.Writer, progress func(int64)) error {
	h := r.Header
	cs := h.ChunkSize()
	perBatch := max(min(batchBytes/cs, h.Chunks()), 1)
	var done int64
	sealedLen := func(b *batch) int64 {
		return min(b.n*cs, h.Size-b.first*cs) + b.n*chunkTagLen
	}
	return pipeline(ctx, h.Chunks(), perBatch, int(perBatch*(cs+chunkTagLen)), int(perBatch*cs),
		func(b *batch) error {
			if _, err := r.r.ReadAt(b.in[:sealedLen(b)], h.ChunkOffset(b.first)); err != nil {
				return errcode.Wrap(errcode.FileAccess, err, "read NCG chunks")
			}
			return nil
		},
		func(b *batch, j int64) error {
			i := b.first + j
			start := j * (cs + chunkTagLen)
			return r.openChunk(b.out[j*cs:], b.in[start:start+h.chunkLen(i)+chunkTagLen], i)
		},
		func(b *batch) error {
			n := sealedLen(b) - b.n*chunkTagLen
			if _, err := (fileio.PieceWriter{W: w}).Write(b.out[:n]); err != nil {
				return errcode.Wrap(errcode.CreateNoSpace, err, "write the decrypted file")
			}
			done += n
			if progress != nil {
				progress(done)
			}
			return nil
		})
}
