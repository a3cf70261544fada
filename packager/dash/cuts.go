package dash

import "drmpack/packager/demux"

// decodeTimes returns every sample's decode time in track timescale units.
func decodeTimes(samples []demux.Sample) []int64 {
	t := make([]int64, len(samples)+1)
	for i, s := range samples {
		t[i+1] = t[i] + int64(s.Dur)
	}
	return t
}

// syncCuts returns the first sample index of every segment of a track that leads the
// segmentation: segments start at sync samples, each cut at the sync sample nearest to the next
// multiple of target on the track's timeline (a grid, so cut errors never accumulate). When a GOP
// is longer than target, segments simply hold one GOP each. dts has len(samples)+1 entries, the
// last being the track's end.
func syncCuts(samples []demux.Sample, dts []int64, target int64) []int {
	cuts := []int{0}
	if target <= 0 {
		return cuts
	}
	n := len(samples)
	for start, grid := 0, target; ; {
		lo, hi := -1, -1 // last sync sample at or before grid, first one after it
		for i := start + 1; i < n; i++ {
			if !samples[i].Sync {
				continue
			}
			if dts[i] <= grid {
				lo = i
				continue
			}
			hi = i
			break
		}
		cut := hi
		if lo >= 0 && (hi < 0 || grid-dts[lo] <= dts[hi]-grid) {
			cut = lo
		}
		// A tail shorter than half a segment joins the last segment instead of standing alone.
		if cut < 0 || dts[n]-dts[cut] < target/2 {
			return cuts
		}
		cuts = append(cuts, cut)
		start = cut
		for grid += target; grid <= dts[cut]; grid += target {
		}
	}
}

// alignedCuts cuts a follower track (audio next to video) at the samples whose times are nearest
// to the leader's cut times, so segment N of every track covers the same stretch of the timeline.
// times are the leader's cut times in leaderScale units, already mapped to the presentation
// timeline; offset maps the follower's decode times onto that timeline.
func alignedCuts(dts []int64, scale uint32, offset int64, times []int64, leaderScale uint32) []int {
	cuts := []int{0}
	n := len(dts) - 1
	i := 0
	for _, lt := range times[1:] {
		target := lt * int64(scale) / int64(leaderScale)
		for i < n && dts[i]+offset < target {
			i++
		}
		cut := i
		if cut > 0 && cut < n && target-(dts[cut-1]+offset) < dts[cut]+offset-target {
			cut--
		}
		if cut > cuts[len(cuts)-1] && cut < n {
			cuts = append(cuts, cut)
		}
	}
	return cuts
}
