package transform

import (
	"math"
	"strconv"
	"strings"

	"drmpack/packager/errcode"
)

// Range is one requested interval of the source's presentation, in seconds. End is +Inf when the
// range runs to the end of the file.
type Range struct {
	Start, End float64
}

// maxSeconds bounds a time value (about 31 years) so that converting it to any timescale's ticks
// cannot overflow.
const maxSeconds = 1e9

// open reports whether the range selects nothing: the manual treats a start after the end as "no
// range given", and an empty interval has nothing to keep either.
func (r Range) open() bool { return r.Start >= r.End }

// String formats r the way ParseRanges reads it ("30-60", "600-", "0-30").
func (r Range) String() string {
	end := ""
	if !math.IsInf(r.End, 1) {
		end = formatSeconds(r.End)
	}
	return formatSeconds(r.Start) + "-" + end
}

func formatSeconds(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

// ParseRanges reads the manual's multi-trimming list: comma-separated START-END pairs in seconds,
// "0-30,210-270,525-555". A missing START means the file's start and a missing END its end
// ("600-", "-30", "-"). Ranges keep their order and may repeat or go backwards in the file. A
// malformed token is an invalid argument (1102) naming the token.
func ParseRanges(list string) ([]Range, error) {
	var out []Range
	for _, tok := range strings.Split(list, ",") {
		tok = strings.TrimSpace(tok)
		a, b, ok := strings.Cut(tok, "-")
		if !ok {
			return nil, errcode.New(errcode.InvalidArgument, "trimming %q: %q is not START-END in seconds", list, tok)
		}
		r := Range{End: math.Inf(1)}
		var err error
		if a != "" {
			if r.Start, err = parseSeconds(a); err != nil {
				return nil, errcode.New(errcode.InvalidArgument, "trimming %q: %q: %v", list, tok, err)
			}
		}
		if b != "" {
			if r.End, err = parseSeconds(b); err != nil {
				return nil, errcode.New(errcode.InvalidArgument, "trimming %q: %q: %v", list, tok, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// StartEnd is the range of the manual's start/end parameters; an empty string leaves that side
// open. The error names the offending parameter.
func StartEnd(start, end string) (Range, error) {
	r := Range{End: math.Inf(1)}
	var err error
	if start != "" {
		if r.Start, err = parseSeconds(start); err != nil {
			return r, errcode.New(errcode.InvalidArgument, "start %q: %v", start, err)
		}
	}
	if end != "" {
		if r.End, err = parseSeconds(end); err != nil {
			return r, errcode.New(errcode.InvalidArgument, "end %q: %v", end, err)
		}
	}
	return r, nil
}

// parseSeconds accepts plain decimal seconds ("12", "12.5", ".5"): no sign, exponent, hex, Inf or
// NaN, which strconv.ParseFloat would let through.
func parseSeconds(s string) (float64, error) {
	digits := 0
	dot := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return 0, errNotSeconds
		}
	}
	if digits == 0 {
		return 0, errNotSeconds
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v > maxSeconds {
		return 0, errTooLarge
	}
	return v, nil
}

type rangeError string

func (e rangeError) Error() string { return string(e) }

const (
	errNotSeconds = rangeError("want a time in seconds such as 30 or 12.5")
	errTooLarge   = rangeError("time too large")
)
