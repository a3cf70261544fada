package packager

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/ncg"
)

// ncgResult is what packaging.json says about the NCG output.
type ncgResult struct {
	File      string `json:"file"`
	KID       string `json:"kid"`
	Size      int64  `json:"size"` // of the original
	Chunks    int64  `json:"chunks"`
	ChunkSize int64  `json:"chunkSize"`
	Format    string `json:"format"`
}

// stagedFile is an NCG output on its way: the input it protects and where it is written before
// the job moves it to OUT.
type stagedFile struct{ input, staged string }

// NCGName is the NCG output's file name for an input: its whole name plus .ncg.
func NCGName(input string) string { return filepath.Base(input) + ".ncg" }

// ncgKey picks the whole-file key from a key set: the HD key (the key services' single-key
// type), else the first. When the key service sent its own NCG key text (the URIExtXKey of the
// NCG system), that text, in hex or base64, is the key.
func ncgKey(set keys.Set) (keys.Key, error) {
	k, err := set.For(keys.HD)
	if err != nil {
		if len(set) == 0 {
			return k, errcode.New(errcode.NoPrivateKey, "the key source gave no key for NCG")
		}
		k = set[0]
	}
	if k.NCGKey != "" {
		text := strings.TrimSpace(string(k.NCGKey))
		b, err := hex.DecodeString(text)
		if err != nil || len(b) != 16 {
			b, err = base64.StdEncoding.DecodeString(text)
		}
		if err != nil || len(b) != 16 {
			return k, errcode.New(errcode.ServerError, "the key service's NCG key for KID %s is not 16 bytes in hex or base64", k.KID.UUID())
		}
		copy(k.Key[:], b)
	}
	return k, nil
}

// mediaType names the input's type for the NCG header.
func mediaType(input string) string {
	switch ext := strings.ToLower(filepath.Ext(input)); ext {
	case ".mp4", ".m4v":
		return "video/mp4"
	case ".m4a":
		return "audio/mp4"
	case ".mp3":
		return "audio/mpeg"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
	}
	return "application/octet-stream"
}

// writeNCG protects input (the job's file, or one rendition of an adaptive title) into path.
func (p *jobRun) writeNCG(ctx context.Context, input, path, cid string, set keys.Set, progress func(float64)) (*ncgResult, error) {
	k, err := ncgKey(set)
	if err != nil {
		return nil, err
	}
	in, err := os.Open(input)
	if err != nil {
		return nil, errcode.Wrap(errcode.FileAccess, err, "open input")
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, errcode.Wrap(errcode.SizeUnreadable, err, "stat input")
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, createError(err, "create "+path)
	}
	size := st.Size()
	h, err := ncg.Encrypt(ctx, out, in, size, k, ncg.Meta{CID: cid, Name: filepath.Base(input), MediaType: mediaType(input)},
		func(done int64) { progress(float64(done) / float64(max(size, 1))) })
	if cerr := out.Close(); err == nil && cerr != nil {
		err = errcode.Wrap(errcode.CreateNoSpace, cerr, "write "+path)
	}
	if err != nil {
		return nil, err
	}
	progress(1)
	return &ncgResult{File: filepath.Base(path), KID: k.KID.UUID(), Size: h.Size, Chunks: h.Chunks(), ChunkSize: h.ChunkSize(),
		Format: "drmpack NCG container v1 (docs/ncg-format.md; not the vendor's NCG format)"}, nil
}
