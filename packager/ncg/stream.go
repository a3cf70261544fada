package ncg

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"drmpack/internal/fileio"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

// batchBytes is how much plaintext one pipeline step carries: large enough for long sequential
// reads and writes, small enough that memory stays at a few batches whatever the file's size.
const batchBytes = 4 << 20

// batch is a run of consecutive chunks on its way through the pipeline.
type batch struct {
	first, n int64 // first chunk index, number of chunks
	in, out  []byte
	err      error
}

// pipeline moves chunks [0, chunks) through three overlapping stages: fill reads a batch's input,
// the chunks of a batch are transformed in parallel on every core, drain writes its output.
// Memory is three batches.
func pipeline(ctx context.Context, chunks, perBatch int64, inLen, outLen int,
	fill func(*batch) error, transform func(b *batch, j int64) error, drain func(*batch) error) error {
	free := make(chan *batch, 3)
	for range 3 {
		free <- &batch{in: make([]byte, inLen), out: make([]byte, outLen)}
	}
	filled, done := make(chan *batch, 1), make(chan *batch, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(filled)
		for first := int64(0); first < chunks; first += perBatch {
			var b *batch
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b.first, b.n = first, min(perBatch, chunks-first)
			b.err = ctx.Err()
			if b.err == nil {
				b.err = fill(b)
			}
			select {
			case filled <- b:
			case <-stop:
				return
			}
		}
	}()
	go func() {
		defer close(done)
		workers := int64(runtime.GOMAXPROCS(0))
		for b := range filled {
			if b.err == nil {
				errs := make([]error, workers)
				var wg sync.WaitGroup
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for j := w; j < b.n && errs[w] == nil; j += workers {
							errs[w] = transform(b, j)
						}
					}()
				}
				wg.Wait()
				b.err = errors.Join(errs...)
			}
			select {
			case done <- b:
			case <-stop:
				return
			}
		}
	}()
	for b := range done {
		if b.err != nil {
			return b.err
		}
		if err := drain(b); err != nil {
			return err
		}
		free <- b
	}
	return nil
}

// Meta is what the writer records about the original besides its size.
type Meta struct {
	CID       string
	Name      string // original file name
	MediaType string
	// ChunkShift selects the chunk size (1 << ChunkShift); 0 means DefaultChunkShift.
	ChunkShift uint8
}

// Encrypt writes the protected form of the size bytes that src yields to dst, under the content
// key k (its KID goes into the header). progress, when set, gets the plaintext bytes done so far.
func Encrypt(ctx context.Context, dst io.Writer, src io.Reader, size int64, k keys.Key, meta Meta, progress func(int64)) (*Header, error) {
	h := &Header{ChunkShift: meta.ChunkShift, Size: size, KID: k.KID, Created: time.Now().UTC(),
		CID: meta.CID, Name: meta.Name, MediaType: meta.MediaType}
	if h.ChunkShift == 0 {
		h.ChunkShift = DefaultChunkShift
	}
	if h.ChunkShift < minChunkShift || h.ChunkShift > maxChunkShift {
		return nil, errcode.New(errcode.InvalidBlockSize, "chunk size 2^%d is outside 2^%d..2^%d", h.ChunkShift, minChunkShift, maxChunkShift)
	}
	if size < 0 {
		return nil, errcode.New(errcode.SizeUnreadable, "negative size %d", size)
	}
	if _, err := rand.Read(h.Salt[:]); err != nil {
		return nil, err
	}
	fk, err := deriveKeys(k.Key, h.Salt)
	if err != nil {
		return nil, err
	}
	header, err := h.encode()
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "%v", err)
	}
	tag := fk.headerTag(header)
	if _, err := dst.Write(append(header, tag...)); err != nil {
		return nil, errcode.Wrap(errcode.CreateNoSpace, err, "write NCG header")
	}
	cs := h.ChunkSize()
	perBatch := max(min(batchBytes/cs, h.Chunks()), 1)
	var done int64
	err = pipeline(ctx, h.Chunks(), perBatch, int(perBatch*cs), int(perBatch*(cs+chunkTagLen)),
		func(b *batch) error {
			n := min(b.n*cs, size-b.first*cs)
			if _, err := io.ReadFull(src, b.in[:n]); err != nil {
				return errcode.Wrap(errcode.FileAccess, fmt.Errorf("the input ended early or changed while it was read: %w", err), "read input")
			}
			return nil
		},
		func(b *batch, j int64) error {
			i := b.first + j
			n := h.chunkLen(i)
			fk.chunk.Seal(b.out[j*(cs+chunkTagLen):][:0], chunkNonce(i), b.in[j*cs:j*cs+n], tag)
			return nil
		},
		func(b *batch) error {
			n := min(b.n*cs, size-b.first*cs)
			if _, err := (fileio.PieceWriter{W: dst}).Write(b.out[:n+b.n*chunkTagLen]); err != nil {
				return errcode.Wrap(errcode.CreateNoSpace, err, "write NCG chunks")
			}
			done += n
			if progress != nil {
				progress(done)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return h, nil
}
