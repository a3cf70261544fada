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
	used  int64
	order *list.List // of *cacheEntry, most recent first
	items map[string]*list.Element
	calls map[string]*call
	stats cacheStats
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
	return &cache{limit: limit, order: list.New(), items: map[string]*list.Element{}, calls: map[string]*call{}}
}

// get returns the object under key, computing it with compute (which also says its size in
// bytes) when absent. hit is true when no computation ran for this caller.
func (c *cache) get(key string, compute func() (any, int64, error)) (val any, hit bool, err error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		c.stats.Hits++
		c.mu.Unlock()
		return el.Value.(*cacheEntry).val, true, nil
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
			c.items[key] = c.order.PushFront(e)
			c.used += size
		} else if !fromDisk {
			evicted = append(evicted, e)
		}
		for c.used > c.limit {
			last := c.order.Back()
			e := last.Value.(*cacheEntry)
			c.order.Remove(last)
			delete(c.items, e.key)
			c.used -= e.size
			c.stats.Evictions++
			evicted = append(evicted, e)
		}
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
