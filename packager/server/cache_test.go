package server

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDiskTierEvictsLeastRecentlyUsed(t *testing.T) {
	d, err := newDiskTier(t.TempDir(), 100)
	if err != nil {
		t.Fatal(err)
	}
	b := func(c byte) blob { return blob{"t", bytes.Repeat([]byte{c}, 38)} } // 40 bytes on disk
	d.store("a", b('a'))
	d.store("b", b('b'))
	if _, ok := d.load("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	d.store("c", b('c')) // 120 > 100: b goes
	if _, ok := d.load("b"); ok {
		t.Fatal("b kept over the limit")
	}
	if _, err := os.Stat(d.file("b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("b's file left behind")
	}
	for _, k := range []string{"a", "c"} {
		got, ok := d.load(k)
		if !ok || got.contentType != "t" || !bytes.Equal(got.data, b(k[0]).data) {
			t.Fatalf("%s: %v %q", k, ok, got.data)
		}
	}
	d.store("big", blob{"t", make([]byte, 200)})
	if _, ok := d.load("big"); ok || d.used != 80 {
		t.Fatalf("a blob larger than the tier was stored (used %d)", d.used)
	}
	if files, _ := filepath.Glob(filepath.Join(d.dir, "*")); len(files) != 2 {
		t.Fatalf("files: %v", files)
	}
}

// TestCacheSingleflightAndLimit: one computation for concurrent callers; the memory bound holds
// and failures are not kept.
func TestCacheSingleflightAndLimit(t *testing.T) {
	c := newCache(100)
	release := make(chan struct{})
	computed := 0
	results := make(chan any, 5)
	for range 5 {
		go func() {
			v, _, _ := c.get("k", func() (any, int64, error) {
				computed++
				<-release
				return "v", 60, nil
			})
			results <- v
		}()
	}
	for { // until all five are inside get
		st, _ := c.snapshot()
		if st.Shared+st.Misses == 5 {
			break
		}
		runtime.Gosched()
	}
	close(release)
	for range 5 {
		if v := <-results; v != "v" {
			t.Fatalf("got %v", v)
		}
	}
	if computed != 1 {
		t.Fatalf("%d computations", computed)
	}
	c.get("k2", func() (any, int64, error) { return "w", 60, nil }) // 120 > 100: k goes
	if _, used := c.snapshot(); used != 60 {
		t.Fatalf("used %d", used)
	}
	if _, hit, _ := c.get("k", func() (any, int64, error) { return "v", 60, nil }); hit {
		t.Fatal("evicted entry still hit")
	}
	_, _, err := c.get("bad", func() (any, int64, error) { return nil, 0, errors.New("no") })
	if _, _, err2 := c.get("bad", func() (any, int64, error) { return "ok", 1, nil }); err == nil || err2 != nil {
		t.Fatal("a failure was cached")
	}
	_, _, err = c.get("panic", func() (any, int64, error) { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic: %v", err)
	}
}
