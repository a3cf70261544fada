package mpd

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func u64(v uint64) *uint64 { return &v }

func TestCompactTimeline(t *testing.T) {
	tests := []struct {
		name string
		in   []S
		want []xmlS
	}{
		{"single", []S{{D: 10}}, []xmlS{{T: u64(0), D: 10}}},
		{"one per segment, absolute T", perSegment(0, 10, 10, 10, 12, 10, 10), []xmlS{
			{T: u64(0), D: 10, R: 2}, {D: 12}, {D: 10, R: 1},
		}},
		{"one per segment, T omitted", []S{{T: 500, D: 10}, {D: 10}, {D: 10}}, []xmlS{{T: u64(500), D: 10, R: 2}}},
		{"already compact input is merged further", []S{{D: 10, R: 1}, {D: 10, R: 2}, {D: 11}}, []xmlS{
			{T: u64(0), D: 10, R: 4}, {D: 11},
		}},
		{"gap writes t and breaks the run", []S{{D: 10}, {D: 10}, {T: 25, D: 10}, {D: 10}}, []xmlS{
			{T: u64(0), D: 10, R: 1}, {T: u64(25), D: 10, R: 1},
		}},
		{"explicit T equal to the running time is not a gap", []S{{D: 10}, {T: 10, D: 10}}, []xmlS{{T: u64(0), D: 10, R: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compactTimeline(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s want %s", showS(got), showS(tc.want))
			}
			// Expanding gives back one entry per segment with the same times.
			exp, err := expandTimeline(got, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := expandInput(tc.in); !reflect.DeepEqual(exp, want) {
				t.Errorf("expand: got %v want %v", exp, want)
			}
		})
	}
}

// expandInput is the straightforward reading of compactTimeline's input.
func expandInput(in []S) []S {
	var out []S
	var next uint64
	for i, s := range in {
		if i == 0 || s.T != 0 {
			next = s.T
		}
		for k := 0; k <= s.R; k++ {
			out = append(out, S{T: next, D: s.D})
			next += s.D
		}
	}
	return out
}

func showS(ss []xmlS) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("{")
		if s.T != nil {
			fmt.Fprintf(&b, "t=%d ", *s.T)
		}
		fmt.Fprintf(&b, "d=%d r=%d}", s.D, s.R)
	}
	return b.String()
}

func TestCompactTimelineErrors(t *testing.T) {
	for name, in := range map[string][]S{
		"zero duration": {{D: 10}, {D: 0}},
		"negative r":    {{D: 10, R: -1}},
		"overlap":       {{D: 10}, {T: 5, D: 10}},
		"overflow":      {{T: math.MaxUint64 - 5, D: 10}},
		"r overflow":    {{D: 1, R: math.MaxInt}, {D: 1}},
	} {
		if _, err := compactTimeline(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestExpandTimeline(t *testing.T) {
	tests := []struct {
		name string
		in   []xmlS
		end  uint64
		want []S
	}{
		{"first t defaults to 0", []xmlS{{D: 5, R: 1}}, 0, []S{{T: 0, D: 5}, {T: 5, D: 5}}},
		{"r=-1 up to next t", []xmlS{{T: u64(100), D: 10, R: -1}, {T: u64(130), D: 7}}, 0,
			[]S{{T: 100, D: 10}, {T: 110, D: 10}, {T: 120, D: 10}, {T: 130, D: 7}}},
		{"r=-1 up to period end, last one cut", []xmlS{{D: 4, R: -1}}, 9, []S{{T: 0, D: 4}, {T: 4, D: 4}, {T: 8, D: 4}}},
		{"r=-1 up to period end", []xmlS{{D: 4, R: -1}}, 10, []S{{T: 0, D: 4}, {T: 4, D: 4}, {T: 8, D: 4}}},
	}
	for _, tc := range tests {
		got, err := expandTimeline(tc.in, tc.end)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
	for name, in := range map[string][]xmlS{
		"empty":              nil,
		"zero d":             {{D: 0}},
		"overlap":            {{D: 10}, {T: u64(5), D: 10}},
		"r=-1 no next t":     {{D: 10, R: -1}, {D: 10}},
		"r=-1 no end":        {{D: 10, R: -1}},
		"r=-1 next t behind": {{T: u64(50), D: 10, R: -1}, {T: u64(50), D: 10}},
		"r=-1 uneven":        {{T: u64(100), D: 10, R: -1}, {T: u64(125), D: 10}},
		"too many":           {{D: 1, R: maxTimelineSegments}},
		"too many in total":  {{D: 1, R: maxTimelineSegments / 2}, {D: 1, R: maxTimelineSegments / 2}},
		"overflow":           {{T: u64(math.MaxUint64 - 1), D: 10}},
	} {
		if _, err := expandTimeline(in, 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPeriodEndTicks(t *testing.T) {
	tests := []struct {
		d    time.Duration
		ts   uint32
		pto  uint64
		want uint64
	}{
		{0, 90000, 5, 0},
		{10 * time.Second, 1000, 0, 10000},
		{20040 * time.Millisecond, 12800, 0, 256512},
		{20040 * time.Millisecond, 48000, 100, 962020},
		{time.Millisecond, 90, 0, 1}, // 0.09 ticks rounds up
		{1000 * time.Hour, math.MaxUint32, 0, 1000 * 3600 * math.MaxUint32},
	}
	for _, tc := range tests {
		got, err := periodEndTicks(tc.d, tc.ts, tc.pto)
		if err != nil || got != tc.want {
			t.Errorf("periodEndTicks(%v, %d, %d) = %d, %v; want %d", tc.d, tc.ts, tc.pto, got, err, tc.want)
		}
	}
	if _, err := periodEndTicks(time.Second, 1000, math.MaxUint64); err == nil {
		t.Error("no overflow error")
	}
}
