package server

import (
	"container/list"
	"sync"
)

// cache is a least-recently-used map of derived objects bounded by their total size, which
// computes each missing object once however many requests ask for it at the same time
// (singleflight). Failures are not cached. With a disk tier, blobs leaving memory (or too large
// for it) are kept on disk and read back instead of being computed again.
type cache struct {
	disk  *diskTier // nil: memory only
	mu    sync.Mutex
	limit int64
	lru
	calls map[string]*call
	stats cacheStats
}

// lru orders entries by use and keeps their total size.
type lru struct {
	used  int64
	order *list.List // of *cacheEntry, most recent first
	items map[string]*list.Element
}

func newLRU() lru { return lru{order: list.New(), items: map[string]*list.Element{}} }

// touch returns key's entry and makes it the most recent.
func (l *lru) touch(key string) (*cacheEntry, bool) {
	el, ok := l.items[key]
	if !ok {
		return nil, false
	}
	l.order.MoveToFront(el)
	return el.Value.(*cacheEntry), true
}

// add puts e first, replacing an entry with its key.
func (l *lru) add(e *cacheEntry) {
	if el, ok := l.items[e.key]; ok {
		l.used -= el.Value.(*cacheEntry).size
		l.order.Remove(el)
	}
	l.items[e.key] = l.order.PushFront(e)
	l.used += e.size
}

// trim removes the least recent entries until the total is within limit, and returns them.
func (l *lru) trim(limit int64) []*cacheEntry {
	var out []*cacheEntry
	for l.used > limit {
		last := l.order.Back()
		e := last.Value.(*cacheEntry)
		l.order.Remove(last)
		delete(l.items, e.key)
		l.used -= e.size
		out = append(out, e)
	}
	return out
}

type cacheEntry struct {
	key  string
	val  any
	size int64
}

// call is a computation in progress; waiters block on done.
type call struct {
	done chan struct{}
	val  any
	err  error
}

// cacheStats count lookups: Misses are the computations, DiskHits the misses the disk answered.
type cacheStats struct{ Hits, Misses, Shared, Evictions, DiskHits int64 }

func newCache(limit int64) *cache {
	return &cache{limit: limit, lru: newLRU(), calls: map[string]*call{}}
}

// get returns the object under key, computing it with compute (which also says its size in
// bytes) when absent. hit is true when no computation ran for this caller.
func (c *cache) get(key string, compute func() (any, int64, error)) (val any, hit bool, err error) {
	c.mu.Lock()
	if e, ok := c.touch(key); ok {
		c.stats.Hits++
		c.mu.Unlock()
		return e.val, true, nil
	}
	if cl, ok := c.calls[key]; ok {
		c.stats.Shared++
		c.mu.Unlock()
		<-cl.done
		return cl.val, true, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.calls[key] = cl
	c.stats.Misses++
	c.mu.Unlock()

	var size int64
	fromDisk := false
	if c.disk != nil {
		var b blob
		if b, fromDisk = c.disk.load(key); fromDisk {
			cl.val, size = b, int64(len(b.data))
		}
	}
	if !fromDisk {
		func() {
			// A panic in a computation must not leave its waiters blocked forever.
			defer func() {
				if p := recover(); p != nil {
					cl.err = panicError{p}
				}
			}()
			cl.val, size, cl.err = compute()
		}()
	}

	var evicted []*cacheEntry
	c.mu.Lock()
	delete(c.calls, key)
	if fromDisk {
		c.stats.DiskHits++
	}
	if cl.err == nil {
		e := &cacheEntry{key: key, val: cl.val, size: size}
		if size <= c.limit {
			c.add(e)
		} else if !fromDisk {
			evicted = append(evicted, e)
		}
		out := c.trim(c.limit)
		c.stats.Evictions += int64(len(out))
		evicted = append(evicted, out...)
	}
	c.mu.Unlock()
	close(cl.done)
	if c.disk != nil {
		for _, e := range evicted {
			if b, ok := e.val.(blob); ok {
				c.disk.store(e.key, b)
			}
		}
	}
	return cl.val, fromDisk, cl.err
}

func (c *cache) snapshot() (cacheStats, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats, c.used
}
