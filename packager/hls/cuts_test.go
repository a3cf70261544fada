package hls

import (
	"slices"
	"testing"
)

// keyframes builds a track of 1-s frames (timescale 1) with keyframes at the given seconds.
func keyframes(length int, keys ...int) ([]int64, func(int) bool) {
	times := make([]int64, length)
	for i := range times {
		times[i] = int64(i)
	}
	return times, func(i int) bool { return slices.Contains(keys, i) }
}

func every(step, length int) []int {
	var k []int
	for i := 0; i < length; i += step {
		k = append(k, i)
	}
	return k
}

// TestKeyframeCutPolicies follows the manual's three examples and its 9-s/12-s note.
func TestKeyframeCutPolicies(t *testing.T) {
	cases := []struct {
		name   string
		length int
		keys   []int
		target int64
		want   []int
	}{
		// Keyframe every 3 s, Duration 20: the largest multiple not above 20 is 18.
		{"interval below duration", 60, every(3, 60), 20, []int{0, 18, 36, 54}},
		// Keyframe every 9 s, Duration 10: 9.
		{"interval near duration", 40, every(9, 40), 10, []int{0, 9, 18, 27, 36}},
		// Keyframe every 12 s, Duration 10: one segment per keyframe.
		{"interval above duration", 40, every(12, 40), 10, []int{0, 12, 24, 36}},
		// Keyframes at 9 and 12 s, Duration 10: the nearer one not above, 9.
		{"irregular", 30, []int{0, 9, 12, 19, 26}, 10, []int{0, 9, 19, 26}},
		// The exact target is not above it.
		{"exact", 20, every(5, 20), 10, []int{0, 10}},
		// A rest that fits the target stays whole.
		{"rest fits", 14, every(2, 14), 10, []int{0, 10}},
	}
	for _, c := range cases {
		times, sync := keyframes(c.length, c.keys...)
		if got := keyframeCuts(times, int64(c.length), sync, c.target); !slices.Equal(got, c.want) {
			t.Errorf("%s: cuts %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAlignedCuts(t *testing.T) {
	// Audio frames every 3 units starting before the video (priming), video cut at 0, 10, 20.
	audio := []int64{-2, 1, 4, 7, 10, 13, 16, 19, 22}
	if got := alignedCuts(audio, []int64{0, 10, 20}); !slices.Equal(got, []int{0, 4, 8}) {
		t.Fatalf("cuts %v", got)
	}
	// A track that ends early leaves later segments empty.
	if got := alignedCuts([]int64{0, 5}, []int64{0, 10, 20}); !slices.Equal(got, []int{0, 2, 2}) {
		t.Fatalf("cuts %v", got)
	}
}
