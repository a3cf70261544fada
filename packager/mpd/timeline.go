package mpd

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// maxTimelineSegments bounds what Decode expands from @r. A manifest of a
// few bytes can claim billions of segments; a million is over three weeks of
// two-second segments, far beyond any on-demand asset.
const maxTimelineSegments = 1 << 20

// compactTimeline turns the caller's entries (typically one per segment)
// into the shortest equivalent S list: runs of equal durations become one S
// with @r, and @t is written on the first entry and after a gap only, since
// every other start time follows from the previous one.
func compactTimeline(in []S) ([]xmlS, error) {
	var out []xmlS
	var next uint64 // end of the previous segment = start of the next
	for i, s := range in {
		if s.D == 0 {
			return nil, fmt.Errorf("S %d: duration 0", i)
		}
		if s.R < 0 {
			return nil, fmt.Errorf("S %d: negative @r %d (a static timeline lists every segment)", i, s.R)
		}
		start, explicit := next, false
		switch {
		case i == 0:
			start, explicit = s.T, true
		case s.T == 0 || s.T == next:
			// Contiguous with the previous segment.
		case s.T < next:
			return nil, fmt.Errorf("S %d: t=%d overlaps the previous segment, which ends at %d", i, s.T, next)
		default:
			start, explicit = s.T, true
		}
		count := uint64(s.R) + 1
		hi, span := bits.Mul64(count, s.D)
		if hi != 0 || span > math.MaxUint64-start {
			return nil, fmt.Errorf("S %d: end time overflows 64 bits", i)
		}
		next = start + span

		if last := len(out) - 1; !explicit && last >= 0 && out[last].D == s.D {
			if uint64(out[last].R) > math.MaxInt64-count {
				return nil, fmt.Errorf("S %d: @r overflows", i)
			}
			out[last].R += int64(count)
			continue
		}
		x := xmlS{D: s.D, R: int64(count - 1)}
		if explicit {
			t := start
			x.T = &t
		}
		out = append(out, x)
	}
	return out, nil
}

// expandTimeline lists one S per segment with its start time. periodEnd is
// the end of the Period in timescale units (0 if unknown); it is only needed
// to resolve a negative @r on the last entry ("repeat until the end").
func expandTimeline(in []xmlS, periodEnd uint64) ([]S, error) {
	var out []S
	var next uint64
	for i, x := range in {
		if x.D == 0 {
			return nil, fmt.Errorf("S %d: duration 0", i)
		}
		start := next
		if x.T != nil {
			if i > 0 && *x.T < next {
				return nil, fmt.Errorf("S %d: t=%d overlaps the previous segment, which ends at %d", i, *x.T, next)
			}
			start = *x.T
		}
		var count uint64
		if x.R >= 0 {
			count = uint64(x.R) + 1
		} else {
			// 23009-1: a negative @r repeats up to the next S@t, or to the
			// end of the Period for the last entry.
			end := periodEnd
			if i+1 < len(in) {
				if in[i+1].T == nil {
					return nil, fmt.Errorf("S %d: negative @r needs @t on the next S", i)
				}
				end = *in[i+1].T
			} else if periodEnd == 0 {
				return nil, fmt.Errorf("S %d: negative @r on the last S needs the presentation duration", i)
			}
			if end <= start {
				return nil, fmt.Errorf("S %d: negative @r, but the next start %d is not after %d", i, end, start)
			}
			count = (end - start + x.D - 1) / x.D
			if i+1 < len(in) && (end-start)%x.D != 0 {
				// The segments would overlap the next S; players cut the
				// last one short, but no duration in this model says so.
				return nil, fmt.Errorf("S %d: negative @r, but %d up to the next @t is not a multiple of d=%d", i, end-start, x.D)
			}
		}
		if count > maxTimelineSegments || uint64(len(out))+count > maxTimelineSegments {
			return nil, fmt.Errorf("more than %d segments", maxTimelineSegments)
		}
		hi, span := bits.Mul64(count, x.D)
		if hi != 0 || span > math.MaxUint64-start {
			return nil, fmt.Errorf("S %d: end time overflows 64 bits", i)
		}
		for k := uint64(0); k < count; k++ {
			out = append(out, S{T: start + k*x.D, D: x.D})
		}
		next = start + span
	}
	if len(out) == 0 {
		return nil, errors.New("empty")
	}
	return out, nil
}

// periodEndTicks is PTO + d in timescale units, the end of the single Period
// on the media timeline; 0 when d is unknown.
func periodEndTicks(d time.Duration, timescale uint32, pto uint64) (uint64, error) {
	if d <= 0 {
		return 0, nil
	}
	// d*timescale/1e9 with a 128-bit intermediate: nanoseconds times a
	// 90 kHz timescale already overflows 64 bits after about a day.
	hi, lo := bits.Mul64(uint64(d), uint64(timescale))
	if hi >= uint64(time.Second) {
		return 0, errors.New("presentation duration overflows the timescale")
	}
	ticks, rem := bits.Div64(hi, lo, uint64(time.Second))
	if rem != 0 {
		ticks++ // a partial tick still belongs to the Period
	}
	if ticks > math.MaxUint64-pto {
		return 0, errors.New("presentation duration overflows the timescale")
	}
	return pto + ticks, nil
}
