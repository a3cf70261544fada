package keystore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"drmpack/packager/keys"
)

func master(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func TestSameContentIDGivesTheSameKeysAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	st, err := Open(path, master(1))
	if err != nil {
		t.Fatal(err)
	}
	req := keys.Request{CID: "movie 한글", TrackTypes: []keys.TrackType{keys.HD, keys.Audio}}
	first, err := st.Keys(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].KID == first[1].KID || first[0].Key == first[1].Key {
		t.Fatalf("want two different keys, got %d", len(first))
	}
	again, err := Open(path, master(1))
	if err != nil {
		t.Fatal(err)
	}
	second, _ := again.Keys(context.Background(), req)
	for i := range first {
		if first[i].KID != second[i].KID || first[i].Key != second[i].Key || second[i].TrackType != req.TrackTypes[i] {
			t.Fatalf("key %d changed between runs", i)
		}
	}
	other, _ := again.Keys(context.Background(), keys.Request{CID: "movie 2", TrackTypes: []keys.TrackType{keys.HD}})
	if other[0].KID == first[0].KID {
		t.Fatal("another content ID got the same KID")
	}
	entries, err := again.Entries("movie 한글")
	if err != nil || len(entries) != 2 || entries[0].TrackType != keys.Audio || entries[1].TrackType != keys.HD {
		t.Fatalf("entries %v %+v", err, entries)
	}
	all, _ := again.Entries("")
	if len(all) != 3 {
		t.Fatalf("%d entries in all, want 3", len(all))
	}
}

func TestKeysAreSealedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	st, _ := Open(path, master(2))
	set, err := st.Keys(context.Background(), keys.Request{CID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, set[0].Key[:]) || bytes.Contains(raw, set[0].KID[:]) {
		t.Fatal("the key store file holds a key or KID in the clear")
	}
	if _, err := Open(path, master(3)); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("another master key: %v, want ErrWrongMasterKey", err)
	}
}

// A record moved under another name (say, to make one title play with another's key) no longer
// opens: the record name is authenticated with the key.
func TestSwappedRecordsAreDetected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	st, _ := Open(path, master(4))
	st.Keys(context.Background(), keys.Request{CID: "a"})
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		return b.Put(recordName("b", keys.HD), b.Get(recordName("a", keys.HD)))
	})
	db.Close()
	if _, err := st.Keys(context.Background(), keys.Request{CID: "b"}); err == nil {
		t.Fatal("a record copied to another content ID opened")
	}
}

// Two stores on one file (a CLI run next to kms serve) create one key per content ID, not two.
func TestConcurrentStoresAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.db")
	a, _ := Open(path, master(5))
	b, _ := Open(path, master(5))
	var wg sync.WaitGroup
	kids := make([]keys.KID, 8)
	for i := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := a
			if i%2 == 1 {
				st = b
			}
			k, err := st.Key("shared", keys.SD, nil)
			if err != nil {
				t.Error(err)
			}
			kids[i] = k.KID
		}()
	}
	wg.Wait()
	for _, k := range kids[1:] {
		if k != kids[0] {
			t.Fatal("concurrent requests created different keys for one content ID")
		}
	}
}

func TestProposedKIDIsAdoptedOnlyForNewKeys(t *testing.T) {
	st, _ := Open(filepath.Join(t.TempDir(), "ks.db"), master(6))
	p := keys.KID{1, 2, 3}
	k, _ := st.Key("c", keys.HD, &p)
	if k.KID != p {
		t.Fatal("a new key did not take the proposed KID")
	}
	q := keys.KID{9}
	if k2, _ := st.Key("c", keys.HD, &q); k2.KID != p || k2.Key != k.Key {
		t.Fatal("an existing key changed to the proposed KID")
	}
}
