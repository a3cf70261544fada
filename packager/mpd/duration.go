package mpd

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// formatDuration writes d as an xs:duration rounded to the millisecond, e.g.
// PT0S, PT2S, PT20.040S, PT1H2M3.500S.
//
// The arithmetic is integer-only: going through float64 seconds would print
// values like PT20.039999999S. A fractional part is always three digits so
// that every value shows its millisecond precision; whole seconds get none,
// which is how hand-written and most tool-written MPDs look (PT2S).
// d must not be negative.
func formatDuration(d time.Duration) string {
	ms := int64(d.Round(time.Millisecond) / time.Millisecond)
	h := ms / 3_600_000
	ms -= h * 3_600_000
	m := ms / 60_000
	ms -= m * 60_000
	s := ms / 1000
	ms -= s * 1000

	var b strings.Builder
	b.WriteString("PT")
	if h > 0 {
		b.WriteString(strconv.FormatInt(h, 10))
		b.WriteByte('H')
	}
	if m > 0 {
		b.WriteString(strconv.FormatInt(m, 10))
		b.WriteByte('M')
	}
	if s > 0 || ms > 0 || (h == 0 && m == 0) {
		b.WriteString(strconv.FormatInt(s, 10))
		if ms > 0 {
			fmt.Fprintf(&b, ".%03d", ms)
		}
		b.WriteByte('S')
	}
	return b.String()
}

// parseDuration reads an xs:duration such as Encode writes and other
// packagers commonly use (days, hours, minutes, fractional seconds).
// Year and month components are rejected unless zero: their length in
// seconds is not fixed, so no player agrees on what they mean in an MPD.
// Negative durations are rejected too; nothing in an MPD may be negative.
func parseDuration(s string) (time.Duration, error) {
	orig := s
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative duration %q", orig)
	}
	if !strings.HasPrefix(s, "P") {
		return 0, fmt.Errorf("duration %q does not start with P", orig)
	}
	s = s[1:]
	var total time.Duration
	inTime := false
	components := 0
	add := func(n uint64, unit time.Duration) error {
		if n > uint64(math.MaxInt64/unit) || time.Duration(n)*unit > math.MaxInt64-total {
			return fmt.Errorf("duration %q overflows", orig)
		}
		total += time.Duration(n) * unit
		return nil
	}
	lastUnit := -1 // index into the unit order, to reject "PT1S2M" and repeats
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("duration %q has two T", orig)
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return 0, fmt.Errorf("duration %q has no time after T", orig)
			}
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		intPart := s[:i]
		frac := ""
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			frac = s[i+1 : j]
			if frac == "" {
				return 0, fmt.Errorf("duration %q: empty fraction", orig)
			}
			i = j
		}
		if intPart == "" || i >= len(s) {
			return 0, fmt.Errorf("malformed duration %q", orig)
		}
		designator := s[i]
		s = s[i+1:]
		n, err := strconv.ParseUint(intPart, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", orig, err)
		}
		var order int
		var unit time.Duration
		switch {
		case !inTime && designator == 'Y':
			order = 0
		case !inTime && designator == 'M':
			order = 1
		case !inTime && designator == 'D':
			order, unit = 2, 24*time.Hour
		case inTime && designator == 'H':
			order, unit = 3, time.Hour
		case inTime && designator == 'M':
			order, unit = 4, time.Minute
		case inTime && designator == 'S':
			order, unit = 5, time.Second
		default:
			return 0, fmt.Errorf("duration %q: unexpected %q", orig, designator)
		}
		if order <= lastUnit {
			return 0, fmt.Errorf("duration %q: components out of order", orig)
		}
		lastUnit = order
		if frac != "" && designator != 'S' {
			return 0, fmt.Errorf("duration %q: only seconds may have a fraction", orig)
		}
		components++
		if unit == 0 { // years or months
			if n != 0 {
				return 0, fmt.Errorf("duration %q: years and months have no fixed length", orig)
			}
			continue
		}
		if err := add(n, unit); err != nil {
			return 0, err
		}
		if frac != "" {
			// Nanoseconds from the first nine digits; any further digits
			// are below time.Duration's resolution.
			if len(frac) > 9 {
				frac = frac[:9]
			}
			ns, _ := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
			if err := add(ns, time.Nanosecond); err != nil {
				return 0, err
			}
		}
	}
	if components == 0 {
		return 0, errors.New("empty duration " + strconv.Quote(orig))
	}
	return total, nil
}
