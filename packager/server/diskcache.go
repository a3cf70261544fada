package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// blob is a derived object that is plain bytes (a TS segment, a DIMS image): the kind the disk
// tier can hold.
type blob struct {
	contentType string
	data        []byte
}

// diskSuffix marks the disk tier's files; only they are ever removed from its folder.
const diskSuffix = ".drmpack-cache"

// diskTier keeps blobs the memory cache evicts (or that are too large for it) in a folder,
// least recently used first out, bounded by a total size. It forgets its files when the server
// starts: an entry's key holds the original's size and mtime, so files of an older run would
// only be stale.
type diskTier struct {
	dir   string
	limit int64

	mu  sync.Mutex
	lru // entries without values
}

func newDiskTier(dir string, limit int64) (*diskTier, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*"+diskSuffix))
	for _, f := range old {
		os.Remove(f)
	}
	return &diskTier{dir: dir, limit: limit, lru: newLRU()}, nil
}

func (d *diskTier) file(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(d.dir, hex.EncodeToString(sum[:16])+diskSuffix)
}

// store writes b under key (content type, newline, data) and evicts older files over the limit.
// A failed write only means the entry is not kept.
func (d *diskTier) store(key string, b blob) {
	size := int64(len(b.contentType) + 1 + len(b.data))
	if size > d.limit || strings.Contains(b.contentType, "\n") {
		return
	}
	name := d.file(key)
	tmp, err := os.CreateTemp(d.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, err = tmp.WriteString(b.contentType + "\n")
	if err == nil {
		_, err = tmp.Write(b.data)
	}
	if cerr := tmp.Close(); err != nil || cerr != nil || os.Rename(tmp.Name(), name) != nil {
		os.Remove(tmp.Name())
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.add(&cacheEntry{key: key, size: size})
	for _, e := range d.trim(d.limit) {
		os.Remove(d.file(e.key))
	}
}

// load reads the blob under key, if the tier has it.
func (d *diskTier) load(key string) (blob, bool) {
	d.mu.Lock()
	_, ok := d.touch(key)
	d.mu.Unlock()
	if !ok {
		return blob{}, false
	}
	b, err := os.ReadFile(d.file(key))
	ct, data, found := bytes.Cut(b, []byte("\n"))
	if err != nil || !found {
		return blob{}, false
	}
	return blob{contentType: string(ct), data: data}, true
}
