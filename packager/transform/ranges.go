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

// Request is a trim as a user writes it (command-line flags, the window's file options, a URL's
// query): seconds as text, empty when not given.
type Request struct {
	Start, End string
	Trimming   string // multi-trimming list; wins over Start/End
	MaxRatio   string // percent, empty for DefaultMaxRatio
	AllTracks  bool
}

// Options validates a request and returns its Options, or nil when the request selects no trim
// (nothing given): the whole input is used. Errors are 1102 naming the offending value.
func (q Request) Options() (*Options, error) {
	opts := &Options{AllTracks: q.AllTracks, MaxRatio: DefaultMaxRatio}
	if q.MaxRatio != "" {
		n, err := strconv.Atoi(strings.TrimSpace(q.MaxRatio))
		if err != nil || n < 0 || n > 100 {
			return nil, errcode.New(errcode.InvalidArgument, "max ratio %q: want a percentage from 0 to 100", q.MaxRatio)
		}
		opts.MaxRatio = n
	}
	switch {
	case strings.TrimSpace(q.Trimming) != "":
		rs, err := ParseRanges(q.Trimming)
		if err != nil {
			return nil, err
		}
		opts.Ranges = rs
	case strings.TrimSpace(q.Start) != "" || strings.TrimSpace(q.End) != "":
		r, err := StartEnd(q.Start, q.End)
		if err != nil {
			return nil, err
		}
		opts.Ranges = []Range{r}
	case !opts.AllTracks && q.MaxRatio == "":
		return nil, nil
	}
	return opts, nil
}
