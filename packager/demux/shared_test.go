package demux

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingReader is an input that counts the bytes read from it and calls onRead before each read.
type countingReader struct {
	data   []byte
	read   atomic.Int64
	onRead func()
}

func (r *countingReader) ReadAt(p []byte, off int64) (int, error) {
	if r.onRead != nil {
		r.onRead()
	}
	r.read.Add(int64(len(p)))
	return copy(p, r.data[off:]), nil
}

// interleavedMedia is an input of two tracks of n samples of random sizes, interleaved in
// chunks of 3 samples, over random bytes.
func interleavedMedia(n int) (*Media, *countingReader, int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	video, audio := &Track{ID: 1, Kind: Video}, &Track{ID: 2, Kind: Audio}
	var off, total int64
	for i := 0; i < n; i += 3 {
		for _, t := range []*Track{video, audio} {
			for k := i; k < min(n, i+3); k++ {
				size := uint32(100 + rng.IntN(2000))
				t.Samples = append(t.Samples, Sample{Offset: off, Size: size})
				off += int64(size)
			}
		}
	}
	total = off
	data := make([]byte, total)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	r := &countingReader{data: data}
	return &Media{Path: "test.mp4", Size: total, r: r, Tracks: []*Track{video, audio}}, r, total
}

// readTrack reads samples of t through m in segments of seg samples with workers goroutines
// (segments taken out of order when workers > 1) and checks every byte against the input.
func readTrack(t *testing.T, m *Media, tr *Track, seg, workers int, input []byte) error {
	var next atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				first := k * seg
				if first >= len(tr.Samples) {
					return
				}
				end := min(len(tr.Samples), first+seg)
				buf := make([]byte, sampleBytes(tr.Samples[first:end]))
				if err := m.ReadSamples(tr, first, end, buf); err != nil {
					errs <- err
					return
				}
				pos := 0
				for _, s := range tr.Samples[first:end] {
					if !bytes.Equal(buf[pos:pos+int(s.Size)], input[s.Offset:s.Offset+int64(s.Size)]) {
						errs <- errors.New("sample data differs from the input")
						return
					}
					pos += int(s.Size)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestSharingReadsEachByteOnce: two consumers that cut segments differently, one sequential per
// track, one with parallel workers taking both tracks, get the right bytes while the input is
// read exactly once, and the data kept for the slower one stays near the limit.
func TestSharingReadsEachByteOnce(t *testing.T) {
	m, r, total := interleavedMedia(3000)
	const limit = 64 << 10
	s := NewSharing(context.Background(), limit)
	var peak atomic.Int64
	r.onRead = func() {
		s.mu.Lock()
		for _, st := range s.tracks {
			peak.Store(max(peak.Load(), st.bytes))
		}
		s.mu.Unlock()
	}
	perTrack, doneA := s.Views([]*Media{m})
	parallel, doneB := s.Views([]*Media{m})
	WillRead(perTrack, m.Tracks)
	WillRead(parallel, m.Tracks)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, tr := range m.Tracks {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = readTrack(t, perTrack[0], tr, 7, 1, r.data) }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, tr := range m.Tracks {
			if errs[2] = readTrack(t, parallel[0], tr, 25, 3, r.data); errs[2] != nil {
				return
			}
		}
	}()
	wg.Wait()
	doneA()
	doneB()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := r.read.Load(); got != total {
		t.Fatalf("read %d bytes of a %d-byte input, want each once", got, total)
	}
	// The consumer ahead waits beyond the limit; one more read of a segment may come on top.
	if p := peak.Load(); p > limit+3*25*2100 {
		t.Fatalf("kept up to %d bytes per track with a %d limit", p, limit)
	}
	for _, st := range s.tracks {
		if st.bytes != 0 || len(st.kept) != 0 {
			t.Fatalf("%d bytes still kept after both consumers finished", st.bytes)
		}
	}
}

// TestSharingWithoutSharingReadsTwice is the same measure on two unshared readers: it sees both
// reads, so the test above can fail.
func TestSharingWithoutSharingReadsTwice(t *testing.T) {
	m, r, total := interleavedMedia(300)
	for range 2 {
		for _, tr := range m.Tracks {
			if err := readTrack(t, m, tr, 7, 1, r.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := r.read.Load(); got != 2*total {
		t.Fatalf("read %d bytes, want %d", got, 2*total)
	}
}

// TestSharingSurvivesAConsumerThatStopsReading: a consumer that declares a track and never reads
// it does not hold the other back for good: after maxWait the track is read unshared.
func TestSharingSurvivesAConsumerThatStopsReading(t *testing.T) {
	m, r, _ := interleavedMedia(600)
	s := NewSharing(context.Background(), 8<<10)
	reader, done := s.Views([]*Media{m})
	idle, idleDone := s.Views([]*Media{m})
	defer idleDone()
	WillRead(reader, m.Tracks)
	WillRead(idle, m.Tracks)
	start := time.Now()
	if err := readTrack(t, reader[0], m.Tracks[0], 10, 1, r.data); err != nil {
		t.Fatal(err)
	}
	done()
	if d := time.Since(start); d > 4*maxWait {
		t.Fatalf("took %v", d)
	}
	if !s.tracks[m.Tracks[0]].abandoned {
		t.Fatal("the track is still shared")
	}
}

// TestSharingCancelWakesWaiters: cancelling the context ends a wait with the context's error.
func TestSharingCancelWakesWaiters(t *testing.T) {
	m, r, _ := interleavedMedia(600)
	ctx, cancel := context.WithCancel(context.Background())
	s := NewSharing(ctx, 8<<10)
	reader, _ := s.Views([]*Media{m})
	idle, _ := s.Views([]*Media{m})
	WillRead(reader, m.Tracks)
	WillRead(idle, m.Tracks)
	time.AfterFunc(50*time.Millisecond, cancel)
	err := readTrack(t, reader[0], m.Tracks[0], 10, 1, r.data)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestSharingWaitsForEveryConsumerToDeclare: reads made before the other consumer has declared
// its tracks are kept for it, not lost.
func TestSharingWaitsForEveryConsumerToDeclare(t *testing.T) {
	m, r, total := interleavedMedia(300)
	s := NewSharing(context.Background(), 1<<30)
	early, doneEarly := s.Views([]*Media{m})
	late, doneLate := s.Views([]*Media{m})
	WillRead(early, m.Tracks)
	go func() {
		time.Sleep(50 * time.Millisecond)
		WillRead(late, m.Tracks)
	}()
	for _, v := range [][]*Media{early, late} {
		for _, tr := range m.Tracks {
			if err := readTrack(t, v[0], tr, 9, 1, r.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	doneEarly()
	doneLate()
	if got := r.read.Load(); got != total {
		t.Fatalf("read %d bytes of %d", got, total)
	}
}
