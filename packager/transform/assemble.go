package transform

import (
	"math"

	"drmpack/packager/demux"
)

// assembler builds one track of a Selection window by window.
type assembler struct {
	tt      *trackTimes
	k       *Kept
	preroll func(first int) int // audio frames decoded before the first kept one
	m       int64               // output decode time of the next sample
	started bool
	presMax int64 // output composition end of the samples so far
}

// add appends the track's part of one window. from and to bound the window in the source's
// presentation, before and after its place in the output's, all in the track's ticks; sp is the
// track's natural cut of the window.
func (a *assembler) add(sp span, from, to, before, after int64, last bool) {
	tt := a.tt
	c0, c1 := max(from, tt.start), min(to, tt.end)
	if c0 >= c1 || sp.empty() {
		return
	}
	first := sp.first
	clip := tt.Kind == demux.Other
	if !a.started {
		a.started = true
		a.k.Delay = before + c0 - from
		if a.preroll != nil {
			first = max(0, first-a.preroll(first))
		}
		if clip {
			a.k.MediaTime = int64(tt.Samples[first].CTO)
		} else {
			a.k.MediaTime = c0 - tt.shift - tt.dts[first]
		}
	} else {
		// Output composition time at which source time c0 must be shown to follow the previous
		// window without a gap.
		want := before + c0 - from - a.k.Delay + a.k.MediaTime
		if tt.Kind == demux.Audio {
			// Audio frames have fixed lengths: instead of re-timing, start with the frame that
			// lands nearest to where it belongs.
			target := a.m - want + c0
			first = max(0, tt.lastAtOrBefore(target+int64(tt.Samples[first].Dur)/2, false))
		} else {
			start := c0
			if !clip {
				start = tt.pres(first)
			}
			a.stretch(want + start - c0 - int64(tt.Samples[first].CTO) - a.m)
		}
	}
	for i := first; i < len(tt.Samples); i++ {
		s := tt.Samples[i]
		switch tt.Kind {
		case demux.Video:
			if i >= sp.end {
				return
			}
		case demux.Audio:
			at := a.m + int64(s.CTO) - a.k.MediaTime + a.k.Delay
			if last && at >= after || !last && at+int64(s.Dur)/2 >= after {
				return
			}
		default:
			if i >= sp.end {
				return
			}
			start, end := max(tt.pres(i), c0), min(tt.pres(i)+int64(s.Dur), c1)
			s.Dur = uint32(end - start)
		}
		a.push(s)
	}
}

// stretch lengthens (or shortens) the previous sample by d ticks so that the next one starts
// where it is presented without a gap; a change that would leave it without duration is skipped.
func (a *assembler) stretch(d int64) {
	n := len(a.k.Samples)
	if d == 0 || n == 0 {
		return
	}
	dur := int64(a.k.Samples[n-1].Dur) + d
	if dur < 1 || dur > math.MaxUint32 {
		return
	}
	a.k.Samples[n-1].Dur = uint32(dur)
	a.m += d
}

func (a *assembler) push(s demux.Sample) {
	a.k.Samples = append(a.k.Samples, s)
	a.presMax = max(a.presMax, a.m+int64(s.CTO)+int64(s.Dur))
	a.m += int64(s.Dur)
}

// finish sets the presented duration, ending with the output's total at the latest, and reports
// whether the track has anything to present.
func (a *assembler) finish(total int64) bool {
	if len(a.k.Samples) == 0 {
		return false
	}
	end := min(total, a.presMax-a.k.MediaTime+a.k.Delay)
	a.k.Duration = end - a.k.Delay
	return a.k.Duration > 0
}
