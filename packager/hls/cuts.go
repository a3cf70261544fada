package hls

// keyframeCuts returns the first sample of every segment under the server manual's MP4 HLS
// rule: a segment starts at a keyframe and ends at the last keyframe whose distance from its
// start is not above target. With keyframes every k seconds that gives the largest multiple of k
// not above the target (3 s and 20 s give 18 s; 9 s and 10 s give 9 s), with irregular keyframes
// the nearest keyframe not above the target, and when keyframes are further apart than the
// target, one segment per keyframe. A rest that fits the target stays one segment. times are
// presentation times of the samples in decode order, end is where the track's presentation
// ends; sync marks keyframes (every audio frame is one).
func keyframeCuts(times []int64, end int64, sync func(int) bool, target int64) []int {
	cuts := []int{0}
	n := len(times)
	for start := 0; end-times[start] > target; {
		cut := -1
		for i := start + 1; i < n; i++ {
			if !sync(i) {
				continue
			}
			if times[i]-times[start] <= target || cut < 0 {
				cut = i
			}
			if times[i]-times[start] >= target {
				break
			}
		}
		if cut < 0 {
			break
		}
		cuts = append(cuts, cut)
		start = cut
	}
	return cuts
}

// alignedCuts cuts a second track at the leader's cut times: segment k holds the samples whose
// presentation time is at or after cut time k and before cut time k+1, so every segment carries
// the same stretch of the timeline for both tracks (the first segment also takes any earlier
// samples, such as audio priming). Segments may be empty when a track ends early.
func alignedCuts(times []int64, cutTimes []int64) []int {
	cuts := make([]int, len(cutTimes))
	i := 0
	for k := 1; k < len(cutTimes); k++ {
		for i < len(times) && times[i] < cutTimes[k] {
			i++
		}
		cuts[k] = i
	}
	return cuts
}
