package hls

import "context"

// pipeline makes n segments in order with produce on the calling goroutine and hands each to
// consume on a second goroutine, so that reading, muxing and encrypting segment k+1 overlaps
// writing segment k. Two segment values circulate between the stages (produce gets back one that
// consume is done with, the zero value at first, to reuse its buffers), so memory stays at two
// segments whatever the input's length. The first error of either stage stops both.
func pipeline[T any](ctx context.Context, n int, produce func(k int, reuse T) (T, error), consume func(k int, seg T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type made struct {
		k   int
		seg T
	}
	ready := make(chan made, 1)
	free := make(chan T, 2)
	var zero T
	free <- zero
	free <- zero
	consumed := make(chan error, 1)
	go func() {
		var err error
		for m := range ready {
			if err == nil {
				if err = consume(m.k, m.seg); err != nil {
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
		if seg, err = produce(k, seg); err != nil {
			break
		}
		ready <- made{k, seg}
	}
	close(ready)
	if cerr := <-consumed; cerr != nil {
		return cerr
	}
	return err
}
