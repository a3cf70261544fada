// Package keystore is the embedded local key store: random content keys per content ID and track
// type, remembered in a transactional bbolt database and sealed at rest with a master key.
package keystore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"drmpack/packager/keys"
)

// MasterKeySize is the length of the key that seals the store (AES-256-GCM).
const MasterKeySize = 32

var (
	bucketKeys = []byte("keys") // "CID\x00TRACKTYPE" → sealed record
	bucketMeta = []byte("meta")
	metaCheck  = []byte("check") // a sealed constant: proves the master key opens this store
	checkText  = []byte("drmpack keystore v1")
)

// ErrWrongMasterKey means the store was sealed with another master key (for example the keychain
// entry was replaced); its keys cannot be read.
var ErrWrongMasterKey = errors.New("the master key does not open this key store")

// Store is a key store file. Each operation opens the database, runs one transaction and closes
// it again, so a CLI run and a long-running `kms serve` can share the file (bbolt locks it for the
// length of a transaction, not of a process).
type Store struct {
	path string
	aead cipher.AEAD
	mu   sync.Mutex
}

// Entry is one stored key: the content ID and track type it belongs to.
type Entry struct {
	CID       string
	TrackType keys.TrackType
	Key       keys.Key
	Created   time.Time
}

// Open prepares the store at path (created when missing) sealed with masterKey.
func Open(path string, masterKey []byte) (*Store, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("key store master key must be %d bytes", MasterKeySize)
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	s := &Store{path: path, aead: aead}
	err = s.update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketKeys); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		sealed := meta.Get(metaCheck)
		if sealed == nil {
			return meta.Put(metaCheck, s.seal(metaCheck, checkText))
		}
		if _, err := s.open(metaCheck, sealed); err != nil {
			return ErrWrongMasterKey
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) update(fn func(*bolt.Tx) error) error { return s.run(false, fn) }
func (s *Store) view(fn func(*bolt.Tx) error) error   { return s.run(true, fn) }

func (s *Store) run(readOnly bool, fn func(*bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("open key store %s: %w", s.path, err)
	}
	if readOnly {
		err = db.View(fn)
	} else {
		err = db.Update(fn)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// seal encrypts plain with a fresh nonce, bound to the record's name so records cannot be swapped.
func (s *Store) seal(name, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plain, name)
}

func (s *Store) open(name, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("record too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], name)
}

func recordName(cid string, t keys.TrackType) []byte {
	return []byte(cid + "\x00" + string(t))
}

// A record's plaintext: KID (16) | key (16) | created, Unix seconds (8).
const recordSize = 16 + 16 + 8

func (s *Store) decodeRecord(name, sealed []byte) (keys.Key, time.Time, error) {
	plain, err := s.open(name, sealed)
	if err != nil || len(plain) != recordSize {
		return keys.Key{}, time.Time{}, fmt.Errorf("key store record for %q is damaged or sealed with another key", strings.ReplaceAll(string(name), "\x00", "/"))
	}
	var k keys.Key
	copy(k.KID[:], plain[:16])
	copy(k.Key[:], plain[16:32])
	created := time.Unix(int64(binary.BigEndian.Uint64(plain[32:])), 0).UTC()
	clear(plain)
	return k, created, nil
}

// Key returns the key of cid and track type t, creating it when the store has none. A new key
// gets the proposed KID when one is given (a CPIX client's own KID), otherwise a random one.
func (s *Store) Key(cid string, t keys.TrackType, proposed *keys.KID) (keys.Key, error) {
	if cid == "" {
		return keys.Key{}, errors.New("empty content ID")
	}
	if t == keys.AnyTrack {
		t = keys.HD
	}
	var out keys.Key
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		name := recordName(cid, t)
		if sealed := b.Get(name); sealed != nil {
			k, _, err := s.decodeRecord(name, sealed)
			out = k
			return err
		}
		plain := make([]byte, recordSize)
		if _, err := rand.Read(plain[:32]); err != nil {
			return err
		}
		if proposed != nil {
			copy(plain[:16], proposed[:])
		}
		binary.BigEndian.PutUint64(plain[32:], uint64(time.Now().Unix()))
		copy(out.KID[:], plain[:16])
		copy(out.Key[:], plain[16:32])
		sealed := s.seal(name, plain)
		clear(plain)
		return b.Put(name, sealed)
	})
	out.TrackType = t
	return out, err
}

// Keys implements keys.Source: one key per requested track type, created on first use and the
// same ever after for that content ID.
func (s *Store) Keys(ctx context.Context, req keys.Request) (keys.Set, error) {
	types := req.TrackTypes
	if len(types) == 0 {
		types = []keys.TrackType{keys.HD}
	}
	var set keys.Set
	for _, t := range types {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, err := s.Key(req.CID, t, nil)
		if err != nil {
			return nil, err
		}
		set = append(set, k)
	}
	return set, nil
}

// Entries returns the stored keys of cid, or of every content ID when cid is empty, sorted by
// content ID and track type.
func (s *Store) Entries(cid string) ([]Entry, error) {
	var out []Entry
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketKeys).Cursor()
		prefix := []byte(nil)
		if cid != "" {
			prefix = []byte(cid + "\x00")
		}
		for name, sealed := c.Seek(prefix); name != nil && strings.HasPrefix(string(name), string(prefix)); name, sealed = c.Next() {
			k, created, err := s.decodeRecord(name, sealed)
			if err != nil {
				return err
			}
			c, t, _ := strings.Cut(string(name), "\x00")
			k.TrackType = keys.TrackType(t)
			out = append(out, Entry{CID: c, TrackType: k.TrackType, Key: k, Created: created})
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].CID != out[j].CID {
			return out[i].CID < out[j].CID
		}
		return trackOrder(out[i].TrackType) < trackOrder(out[j].TrackType)
	})
	return out, err
}

func trackOrder(t keys.TrackType) int {
	for i, o := range []keys.TrackType{keys.Audio, keys.SD, keys.HD, keys.UHD1, keys.UHD2} {
		if t == o {
			return i
		}
	}
	return 99
}
