package demux

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Sharing lets several consumers of the same inputs (a job's DASH and HLS writers) read each
// sample's bytes from the file once: what one consumer reads is kept until every consumer of that
// track has read it too, and the others copy it from there. Consumers read at their own pace and
// cut segments differently.
//
// Each consumer declares the tracks it will read (WillRead) once it has planned its work; reads
// wait until every consumer has, so that nothing read early goes unkept. A read at sample i waits
// while more than the limit is kept, for others, of the samples before i that it has read: the
// consumer ahead waits for the others, so memory stays bounded whatever the input's length.
// Consumers read a track in order, with at most a few reads in flight (parallel workers), one
// track at a time per goroutine; then the waiting read furthest behind waits for reads further
// behind still, which do not wait: no deadlock. As a safety net against a consumer that skips
// samples it declared, a wait that has not ended after maxWait gives up and the track is then
// read unshared. Data is dropped once every consumer's reads cover it.
type Sharing struct {
	ctx        context.Context
	limit      int64 // bytes kept per track before the consumer ahead waits
	mu         sync.Mutex
	cond       *sync.Cond
	tracks     map[*Track]*sharedTrack
	consumers  int
	undeclared int // consumers that have neither declared their tracks nor stopped
	declared   map[int]bool
	pool       bufferPool
}

// maxWait bounds a wait for other consumers; normal waits end within milliseconds, as soon as
// the consumer behind copies a run.
const maxWait = 2 * time.Second

// sharedTrack is one track's kept data and what each of its consumers has read.
type sharedTrack struct {
	read  map[int]*coverage // per consumer of the track
	kept  []*keptRun        // sorted, not overlapping
	bytes int64
	// abandoned: no longer shared (see abandon)
	abandoned bool
	pool      *bufferPool
}

// keptRun is the data of samples [first, end) of a track, in blocks of blockSize bytes, or while
// loading is set, samples a consumer is reading from the input (the others wait for them rather
// than read them too).
type keptRun struct {
	first, end int
	blocks     [][]byte
	size       int64
	loading    bool
}

// blockSize is the unit kept data is stored in: runs differ in size (a DASH segment, an HLS
// segment five times longer), blocks do not, so every dropped block serves the next run.
const blockSize = 1 << 20

// keep stores a copy of data in blocks from pool.
func (r *keptRun) keep(data []byte, pool *bufferPool) {
	r.size = int64(len(data))
	for len(data) > 0 {
		b := pool.get()
		n := copy(b, data)
		r.blocks = append(r.blocks, b[:n])
		data = data[n:]
	}
}

// copyOut fills dst with the run's bytes from off and returns len(dst).
func (r *keptRun) copyOut(dst []byte, off int) int {
	n := 0
	for _, b := range r.blocks {
		if off >= len(b) {
			off -= len(b)
			continue
		}
		n += copy(dst[n:], b[off:])
		off = 0
		if n == len(dst) {
			break
		}
	}
	return n
}

// coverage is the sample ranges a consumer has read, merged, sorted.
type coverage struct{ ranges [][2]int }

// NewSharing starts sharing reads; limit is the data kept per track before the consumer ahead
// waits for the others. Cancelling ctx wakes waiting consumers with its error.
func NewSharing(ctx context.Context, limit int64) *Sharing {
	s := &Sharing{ctx: ctx, limit: limit, tracks: map[*Track]*sharedTrack{}, declared: map[int]bool{}}
	s.cond = sync.NewCond(&s.mu)
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	return s
}

// Views returns views of medias through which one consumer reads, and done, to call when it has
// stopped reading (finished or failed) so that nobody waits for it. Create every consumer's views
// before any of them reads.
func (s *Sharing) Views(medias []*Media) (views []*Media, done func()) {
	s.mu.Lock()
	id := s.consumers
	s.consumers++
	s.undeclared++
	s.mu.Unlock()
	for _, m := range medias {
		v := m.View(m.Tracks)
		v.share, v.consumer = s, id
		views = append(views, v)
	}
	return views, func() { s.stop(id) }
}

// WillRead tells the Sharing behind views (returned by Views; for other media it does nothing)
// which of their tracks that consumer reads. Until it has, its reads are not shared.
func WillRead(views []*Media, tracks []*Track) {
	if len(views) == 0 || views[0].share == nil {
		return
	}
	s, id := views[0].share, views[0].consumer
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.declared[id] {
		return
	}
	s.declared[id] = true
	s.undeclared--
	for _, t := range tracks {
		st := s.tracks[t]
		if st == nil {
			st = &sharedTrack{read: map[int]*coverage{}, pool: &s.pool}
			s.tracks[t] = st
		}
		st.read[id] = &coverage{}
	}
	s.cond.Broadcast()
}

// stop removes a consumer: nothing is kept for it any more.
func (s *Sharing) stop(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.declared[id] {
		s.declared[id] = true
		s.undeclared--
	}
	for _, st := range s.tracks {
		if _, ok := st.read[id]; ok {
			delete(st.read, id)
			st.drop()
		}
	}
	s.cond.Broadcast()
}

// wait waits on the condition until ready reports true, ctx ends or maxWait passes without ready;
// it reports whether ready became true.
func (s *Sharing) wait(ready func() bool) bool {
	if ready() {
		return true
	}
	expired := false
	timer := time.AfterFunc(maxWait, func() {
		s.mu.Lock()
		expired = true
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	for !ready() && !expired && s.ctx.Err() == nil {
		s.cond.Wait()
	}
	return ready()
}

// read fills buf with samples [first, end) of t for consumer id: kept runs are copied, the rest
// is read from m's input and kept when another consumer of t has not read it yet.
func (s *Sharing) read(m *Media, id int, t *Track, first, end int, buf []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.tracks[t]
	shared := func() bool { return st != nil && st.read[id] != nil && !st.abandoned }
	if shared() {
		s.wait(func() bool { return s.undeclared == 0 })
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if !shared() {
		s.mu.Unlock()
		err := m.readSamples(t.Samples[first:end], buf)
		s.mu.Lock()
		return err
	}
	pos := 0
	for i := first; i < end; {
		r := st.runAt(i)
		if r != nil && r.loading {
			// Another consumer is reading these samples right now: wait for its copy.
			s.cond.Wait()
			if err := s.ctx.Err(); err != nil {
				return err
			}
			continue
		}
		if r != nil {
			j := min(end, r.end)
			off := sampleBytes(t.Samples[r.first:i])
			pos += r.copyOut(buf[pos:pos+sampleBytes(t.Samples[i:j])], off)
			i = j
			continue
		}
		// A consumer ahead of another waits for it before taking in more: while the data kept
		// before sample i exceeds the limit. The wait lets others change the kept runs, so look
		// again afterwards.
		if st.keptFor(id, i) > s.limit {
			if !s.wait(func() bool { return st.keptFor(id, i) <= s.limit }) && s.ctx.Err() == nil {
				st.abandon()
				s.cond.Broadcast()
			}
			if err := s.ctx.Err(); err != nil {
				return err
			}
			if !st.abandoned {
				continue
			}
		}
		j := st.nextStart(i, end)
		data := buf[pos : pos+sampleBytes(t.Samples[i:j])]
		run := &keptRun{first: i, end: j, loading: true}
		if !st.abandoned {
			st.insert(run)
		}
		s.mu.Unlock()
		err := m.readSamples(t.Samples[i:j], data)
		s.mu.Lock()
		run.loading = false
		if err == nil && !st.abandoned && st.neededByOthers(id, i, j) {
			run.keep(data, st.pool)
			st.bytes += run.size
		} else {
			st.remove(run)
		}
		s.cond.Broadcast()
		if err != nil {
			return err
		}
		pos += len(data)
		i = j
	}
	if cov := st.read[id]; cov != nil {
		cov.add(first, end)
	}
	if st.drop() {
		s.cond.Broadcast()
	}
	return nil
}

// abandon stops sharing the track: a consumer it waited for made no progress for maxWait (one
// that skips samples it declared). Its consumers read on their own from now on.
func (st *sharedTrack) abandon() {
	st.abandoned = true
	for _, r := range st.kept {
		st.pool.put(r.blocks)
	}
	st.kept, st.bytes = nil, 0
}

// runAt returns the kept (or loading) run holding sample i, or nil.
func (st *sharedTrack) runAt(i int) *keptRun {
	for _, r := range st.kept {
		if r.first <= i && i < r.end {
			return r
		}
	}
	return nil
}

// nextStart returns where the run of unkept samples from i ends: end, or the next kept run.
func (st *sharedTrack) nextStart(i, end int) int {
	for _, r := range st.kept {
		if r.first > i {
			return min(end, r.first)
		}
	}
	return end
}

func (st *sharedTrack) insert(run *keptRun) {
	at, _ := slices.BinarySearchFunc(st.kept, run.first, func(r *keptRun, x int) int { return r.first - x })
	st.kept = slices.Insert(st.kept, at, run)
}

func (st *sharedTrack) remove(run *keptRun) {
	st.kept = slices.DeleteFunc(st.kept, func(r *keptRun) bool { return r == run })
}

// neededByOthers reports whether a consumer other than id has not read samples [i, j) yet.
func (st *sharedTrack) neededByOthers(id, i, j int) bool {
	for c, cov := range st.read {
		if c != id && !cov.covers(i, j) {
			return true
		}
	}
	return false
}

// keptFor returns the bytes kept of samples before i that consumer id has read: how far id is
// ahead of the others. (Kept samples id has not read yet are its own reads in flight or still to
// come; waiting for them would only slow it down.)
func (st *sharedTrack) keptFor(id, i int) int64 {
	var n int64
	cov := st.read[id]
	for _, r := range st.kept {
		if r.end > i {
			break
		}
		if !r.loading && cov.covers(r.first, r.end) {
			n += r.size
		}
	}
	return n
}

// drop releases the runs every consumer has read and reports whether any were.
func (st *sharedTrack) drop() bool {
	n := len(st.kept)
	st.kept = slices.DeleteFunc(st.kept, func(r *keptRun) bool {
		if r.loading {
			return false
		}
		for _, cov := range st.read {
			if !cov.covers(r.first, r.end) {
				return false
			}
		}
		st.bytes -= r.size
		st.pool.put(r.blocks)
		return true
	})
	return len(st.kept) < n
}

func (c *coverage) add(first, end int) {
	if first >= end {
		return
	}
	at, _ := slices.BinarySearchFunc(c.ranges, first, func(r [2]int, x int) int { return r[0] - x })
	c.ranges = slices.Insert(c.ranges, at, [2]int{first, end})
	merged := c.ranges[:0]
	for _, r := range c.ranges {
		if n := len(merged); n > 0 && r[0] <= merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	c.ranges = merged
}

func (c *coverage) covers(first, end int) bool {
	for _, r := range c.ranges {
		if r[0] <= first && end <= r[1] {
			return true
		}
		if r[0] > first {
			break
		}
	}
	return false
}

func sampleBytes(samples []Sample) int {
	n := 0
	for _, s := range samples {
		n += int(s.Size)
	}
	return n
}

// bufferPool keeps the blocks of dropped runs for the next kept ones: allocating fresh memory
// for every run costs page faults and garbage collection, which showed as seconds of system time
// and twice the memory per GB. It holds at most what was kept at once.
type bufferPool struct{ free [][]byte }

func (p *bufferPool) get() []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b[:blockSize]
	}
	return make([]byte, blockSize)
}

func (p *bufferPool) put(blocks [][]byte) { p.free = append(p.free, blocks...) }
