package mpd

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{20040 * time.Millisecond, "PT20.040S"},
		{time.Hour + 2*time.Minute + 3500*time.Millisecond, "PT1H2M3.500S"},
		{2 * time.Second, "PT2S"},
		{time.Hour, "PT1H"},
		{90 * time.Minute, "PT1H30M"},
		{time.Hour + 5*time.Second, "PT1H5S"},
		{59*time.Minute + 59999*time.Millisecond, "PT59M59.999S"},
		{1 * time.Millisecond, "PT0.001S"},
		// Rounded to the nearest millisecond, carrying into larger units.
		{20039500 * time.Microsecond, "PT20.040S"},
		{20040499 * time.Microsecond, "PT20.040S"},
		{59*time.Minute + 59999600*time.Microsecond, "PT1H"},
		{400 * time.Microsecond, "PT0S"},
		{49 * time.Hour, "PT49H"},
		// Rounding up would overflow; time.Duration.Round saturates.
		{time.Duration(math.MaxInt64), "PT2562047H47M16.854S"},
	}
	for _, tc := range tests {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// Every millisecond value must survive format and parse exactly; this is
// where float formatting would show noise.
func TestFormatParseDurationExact(t *testing.T) {
	for ms := int64(0); ms < 200_000; ms += 7 {
		d := time.Duration(ms) * time.Millisecond
		s := formatDuration(d)
		got, err := parseDuration(s)
		if err != nil || got != d {
			t.Fatalf("%v -> %q -> %v, %v", d, s, got, err)
		}
		if strings.Contains(s, ".") && len(s[strings.Index(s, ".")+1:]) != 4 { // 3 digits + "S"
			t.Fatalf("%q: fraction is not three digits", s)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		s    string
		want time.Duration
	}{
		{"PT0S", 0},
		{"PT20.040S", 20040 * time.Millisecond},
		{"PT20.04S", 20040 * time.Millisecond},
		{"PT1H2M3.500S", time.Hour + 2*time.Minute + 3500*time.Millisecond},
		{"PT3723.5S", time.Hour + 2*time.Minute + 3500*time.Millisecond},
		{"P1DT1S", 24*time.Hour + time.Second},
		{"P1D", 24 * time.Hour},
		{"P0Y0M0DT0H3M30.000S", 3*time.Minute + 30*time.Second},
		{"PT0.000000001S", 1},
		{"PT0.1234567891S", 123456789},
		{"PT2562047H47M16.854775807S", math.MaxInt64},
	}
	for _, tc := range tests {
		got, err := parseDuration(tc.s)
		if err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.s, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "P", "PT", "T1S", "1S", "-PT1S", "PT1.S", "PT.5S", "PT1.5M", "P1M", "P1Y", "PT1S2M",
		"PT1H1H", "P1DT", "PT1X", "PT1", "P1H", "PTT1S", "PT2562047H47M16.854775808S", "PT99999999999999999999S",
	} {
		if d, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) = %v, want error", bad, d)
		}
	}
}
