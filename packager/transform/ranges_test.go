package transform_test

import (
	"math"
	"strings"
	"testing"

	"drmpack/packager/errcode"
	"drmpack/packager/transform"
)

var inf = math.Inf(1)

func TestParseRanges(t *testing.T) {
	for in, want := range map[string][]transform.Range{
		"0-30,210-270,525-555":   {{0, 30}, {210, 270}, {525, 555}},
		"17-20,17-20,17-20":      {{17, 20}, {17, 20}, {17, 20}},
		"1000-1200,500-623":      {{1000, 1200}, {500, 623}},
		"600-,400-600":           {{600, inf}, {400, 600}},
		"-30":                    {{0, 30}},
		"-":                      {{0, inf}},
		" 1.5-2.25 , .5-1":       {{1.5, 2.25}, {0.5, 1}},
		"30-10":                  {{30, 10}}, // kept: "start > end" selects nothing later
		"0000012-13":             {{12, 13}},
		"999999999.5-1000000000": {{999999999.5, 1e9}},
	} {
		got, err := transform.ParseRanges(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%q: %v, want %v", in, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: %v, want %v", in, got, want)
			}
		}
	}
}

func TestParseRangesNamesTheBadToken(t *testing.T) {
	for in, token := range map[string]string{
		"":              `""`,
		"10":            `"10"`,
		"0-30,,40-50":   `""`,
		"0-30,abc":      `"abc"`,
		"1-2-3":         `"1-2-3"`,
		"-5-10":         `"-5-10"`,
		"+5-10":         `"+5-10"`,
		"1e3-2e3":       `"1e3-2e3"`,
		"0x10-20":       `"0x10-20"`,
		"inf-":          `"inf-"`,
		"NaN-1":         `"NaN-1"`,
		"1.2.3-4":       `"1.2.3-4"`,
		".-1":           `".-1"`,
		"1-2000000000":  `"1-2000000000"`,
		"5-10;rm -rf /": `"5-10;rm -rf /"`,
	} {
		_, err := transform.ParseRanges(in)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), token) {
			t.Errorf("%q: %v, want 1102 naming %s", in, err, token)
		}
	}
}

func TestStartEnd(t *testing.T) {
	r, err := transform.StartEnd("", "60")
	if err != nil || r != (transform.Range{0, 60}) {
		t.Fatalf("end only: %v %v", r, err)
	}
	r, err = transform.StartEnd("120", "")
	if err != nil || r != (transform.Range{120, inf}) {
		t.Fatalf("start only: %v %v", r, err)
	}
	if _, err := transform.StartEnd("-3", ""); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), `start "-3"`) {
		t.Fatalf("negative start: %v", err)
	}
	if _, err := transform.StartEnd("", "x"); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), `end "x"`) {
		t.Fatalf("bad end: %v", err)
	}
}

// FuzzParseRanges: any input is either rejected with 1102 or parses to finite, non-negative
// ranges that format back to a list parsing to the same ranges.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"0-30,210-270,525-555", "600-,400-600", "-30", "-", "1.5-2", "a-b", "1-2-3", ",", "9999999999-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := transform.ParseRanges(s)
		if err != nil {
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("%q: error %v is not 1102", s, err)
			}
			return
		}
		var parts []string
		for _, r := range rs {
			if r.Start < 0 || math.IsNaN(r.Start) || math.IsInf(r.Start, 0) || math.IsNaN(r.End) || r.End < 0 {
				t.Fatalf("%q: bad range %+v", s, r)
			}
			parts = append(parts, r.String())
		}
		again, err := transform.ParseRanges(strings.Join(parts, ","))
		if err != nil || len(again) != len(rs) {
			t.Fatalf("%q: re-parse of %q: %v %v", s, parts, again, err)
		}
		for i := range rs {
			if again[i] != rs[i] {
				t.Fatalf("%q: %v re-parses as %v", s, rs[i], again[i])
			}
		}
	})
}
