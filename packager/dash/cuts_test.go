package dash

import (
	"slices"
	"testing"

	"drmpack/packager/demux"
)

// gop builds n samples of duration dur with a sync sample every gopLen samples.
func gop(n, gopLen int, dur uint32) []demux.Sample {
	s := make([]demux.Sample, n)
	for i := range s {
		s[i] = demux.Sample{Dur: dur, Size: 1, Sync: i%gopLen == 0}
	}
	return s
}

func TestSyncCuts(t *testing.T) {
	cases := []struct {
		name   string
		s      []demux.Sample
		target int64
		want   []int
	}{
		// 25 fps, 2-s GOPs, 6-s target: cuts exactly at 6 s and 12 s; the 2-s tail after 18 s
		// joins the last segment (20 s total).
		{"aligned GOPs", gop(500, 50, 512), 6 * 12800, []int{0, 150, 300}},
		{"aligned GOPs, long tail", gop(575, 50, 512), 6 * 12800, []int{0, 150, 300, 450}},
		// 4.4-s GOPs (110 frames), 6-s target: 4.4 s is nearer to 6 than 8.8, then 13.2 s is
		// nearer to 12 than 8.8; 17.6 s would leave a 2.4-s tail.
		{"long GOPs", gop(500, 110, 512), 6 * 12800, []int{0, 110, 330}},
		// GOP longer than the target: one GOP per segment.
		{"GOP above target", gop(300, 100, 512), 2 * 12800, []int{0, 100, 200}},
		// A tail shorter than half a segment is not cut off: 8.04 s of audio at 4 s.
		// (a tie between the frames before and after the grid point goes to the earlier one).
		{"short tail merged", gop(377, 1, 1024), 4 * 48000, []int{0, 187}},
		{"single sync sample", gop(100, 1000, 512), 12800, []int{0}},
	}
	for _, c := range cases {
		got := syncCuts(c.s, decodeTimes(c.s), c.target)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: cuts %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAlignedCutsFollowTheLeader(t *testing.T) {
	video := gop(500, 50, 512) // 25 fps, 12800 Hz
	vdts := decodeTimes(video)
	vcuts := syncCuts(video, vdts, 6*12800)
	times := make([]int64, len(vcuts))
	for i, c := range vcuts {
		times[i] = vdts[c]
	}
	audio := gop(939, 1, 1024) // AAC at 48 kHz
	adts := decodeTimes(audio)
	// With 1024 samples of priming the audio's presentation time is its decode time - 1024.
	got := alignedCuts(adts, 48000, -1024, times, 12800)
	for k, c := range got[1:] {
		cut := float64(adts[c]-1024) / 48000
		want := float64(times[k+1]) / 12800
		if d := cut - want; d > 0.0107 || d < -0.0107 { // within half an AAC frame
			t.Fatalf("audio cut %d at %.4f s, video at %.4f s", k+1, cut, want)
		}
	}
	if len(got) != len(vcuts) {
		t.Fatalf("%d audio segments for %d video segments", len(got), len(vcuts))
	}
}
