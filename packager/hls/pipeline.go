package hls

import (
	"context"
	"sync"
)

// pipeline makes segments 0 to n-1 with produce on workers goroutines (worker w makes segment k
// with produce(w, k, ...); with one worker they are made in order) and hands each to consume in
// order on another goroutine, so that reading, muxing and encrypting overlap writing. Segment
// values circulate between the stages (produce gets back one that consume is done with, the zero
// value at first, to reuse its buffers): workers+1 of them, so memory stays at that many
// segments whatever the input's length. The first error of either stage stops both; an error
// of segment k is reported before any of a later segment.
func pipeline[T any](ctx context.Context, n, workers int, produce func(w, k int, reuse T) (T, error), consume func(k int, seg T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type made struct {
		seg T
		err error
	}
	type job struct {
		k    int
		seg  T
		done chan made
	}
	free := make(chan T, workers+1)
	var zero T
	for range workers + 1 {
		free <- zero
	}
	jobs := make(chan job)
	order := make(chan job, workers+1) // the jobs in segment order, for the consuming stage
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				seg, err := produce(w, j.k, j.seg)
				j.done <- made{seg, err}
			}
		}()
	}
	consumed := make(chan error, 1)
	go func() {
		var err error
		for j := range order {
			m := <-j.done
			if err == nil {
				if err = m.err; err == nil {
					err = consume(j.k, m.seg)
				}
				if err != nil {
					cancel()
				}
			}
			free <- m.seg
		}
		consumed <- err
	}()
	var err error
	for k := range n {
		seg := <-free
		if err = ctx.Err(); err != nil {
			break
		}
		j := job{k: k, seg: seg, done: make(chan made, 1)}
		order <- j
		jobs <- j
	}
	close(jobs)
	close(order)
	wg.Wait()
	if cerr := <-consumed; cerr != nil {
		return cerr
	}
	return err
}
