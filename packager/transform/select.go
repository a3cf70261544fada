package transform

import (
	"math"
	"sort"
	"strings"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
)

// DefaultMaxRatio is the manual's MaxRatio: a multi-trimmed file may be at most 50 % larger than
// its source.
const DefaultMaxRatio = 50

// Options choose what a trim keeps.
type Options struct {
	// Ranges are the intervals to keep, joined in this order. A range whose start is not before
	// its end selects nothing (the manual's "start > end is no range"); when no range selects
	// anything, the whole file is kept.
	Ranges []Range
	// AllTracks trims every track. Off (the manual's default) keeps only audio and video.
	AllTracks bool
	// MaxRatio caps multi-trimming (more than one range), in percent: taken in order, a range
	// that would make the kept media data more than MaxRatio % larger than the source's is
	// dropped. The manual's default is DefaultMaxRatio; its maximum 100.
	MaxRatio int
}

// Selection is what a trim keeps: per track, the samples of the derived file in decode order
// (their offsets still point into the source) and the one edit that places them on the
// timeline. It is both the input of the file writers and, through Media, a trimmed view of the
// source that the packagers read without any copy.
type Selection struct {
	Source *demux.Media
	Tracks []*Kept
	// Cuts are the kept intervals of the source as cut (video starts on a sync sample, so a cut
	// may begin before the requested start), in output order; Dropped are the ranges MaxRatio
	// or the file's end left out.
	Cuts    []Range
	Dropped []Range
	// Duration is the presented length in seconds.
	Duration float64
}

// Kept is one track of a Selection.
type Kept struct {
	Track   *demux.Track
	Samples []demux.Sample
	// Delay is an empty edit before the track starts, MediaTime the media time presented first
	// and Duration how long the track is presented after the delay, all in the track's
	// timescale: the derived file's edit list, and the packagers' timeline offsets.
	Delay, MediaTime, Duration int64
}

// Media returns the selection as a demux.Media over the same source, for the packagers: each
// track holds only the kept samples and its StartOffset/Delay carry the edit.
func (s *Selection) Media() *demux.Media {
	tracks := make([]*demux.Track, len(s.Tracks))
	for i, k := range s.Tracks {
		t := *k.Track
		t.Samples, t.StartOffset, t.Delay = k.Samples, k.MediaTime, k.Delay
		tracks[i] = &t
	}
	return s.Source.View(tracks)
}

// Select computes what opts keep of m.
//
// Video starts on the sync sample at or before each range's start; that time is where every
// other track is cut too, so the tracks stay in sync. Audio keeps whole frames plus the frames a
// decoder needs to prime itself before the first one, which the edit hides. Other tracks (with
// AllTracks) keep the samples overlapping the range, with the first and last durations
// shortened to it. Ranges after the first join where the previous one ends: video at a point
// where every earlier frame is presented before every later one (so no frame is lost or
// repeated), audio at the frame whose position keeps it within half a frame of the video.
// The last range ends exactly at its end through the edit list.
func Select(m *demux.Media, opts Options) (*Selection, error) {
	return selectTracks(m, opts, audioPreroll)
}

// audioPreroll is how many frames before the first kept one an audio decoder needs to output
// that frame exactly: AAC overlaps each frame with the previous one; MPEG audio also draws on up
// to 511 bytes of earlier frames (the bit reservoir).
func audioPreroll(t *demux.Track, _ int) int {
	if isMPEGAudio(t) {
		return 3
	}
	return 1
}

// isMPEGAudio reports MPEG-1/2 audio (MP3) in an MP4 sample entry; the demuxer describes MP3
// files the same way.
func isMPEGAudio(t *demux.Track) bool {
	se, ok := t.SampleEntry.(*mp4.AudioSampleEntryBox)
	if !ok || se.Esds == nil {
		return false
	}
	switch se.Esds.DecConfigDescriptor.ObjectType {
	case 0x69, 0x6B: // ISO/IEC 14496-1 Table 5: MPEG-2 and MPEG-1 audio
		return true
	}
	return false
}

// window is a range resolved against the file, in the reference track's ticks: [from, to).
type window struct {
	from, to int64
	spans    []span // per track, the natural cut (for MaxRatio)
}

// span is a run of sample indices [first, end) of one track.
type span struct{ first, end int }

func (s span) empty() bool { return s.first >= s.end }

func selectTracks(m *demux.Media, opts Options, preroll func(t *demux.Track, first int) int) (*Selection, error) {
	var times []*trackTimes
	for _, t := range m.Tracks {
		if opts.AllTracks || t.Kind == demux.Video || t.Kind == demux.Audio {
			times = append(times, newTrackTimes(t))
		}
	}
	if len(times) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, "%s has no audio or video track to trim (--all-tracks keeps the others)", m.Path)
	}
	ref := times[0]
	for _, tt := range times {
		if tt.Kind == demux.Video {
			ref = tt
			break
		}
	}
	leader := ref
	if leader.Kind != demux.Video {
		leader = nil
	}
	var movieEnd int64
	for _, tt := range times {
		movieEnd = max(movieEnd, rescale(tt.end, tt.Timescale, ref.Timescale))
	}

	sel := &Selection{Source: m}
	ranges := make([]Range, 0, len(opts.Ranges))
	for _, r := range opts.Ranges {
		if !r.open() {
			ranges = append(ranges, r)
		}
	}
	if len(ranges) == 0 {
		ranges = []Range{{End: math.Inf(1)}}
	}
	var windows []window
	var srcBytes, keptBytes int64
	for _, tt := range times {
		srcBytes += tt.bytes(span{0, len(tt.Samples)})
	}
	limit := float64(srcBytes) * float64(100+opts.MaxRatio) / 100
	for _, r := range ranges {
		w := window{from: secondsToTicks(r.Start, ref.Timescale), to: min(secondsToTicks(r.End, ref.Timescale), movieEnd)}
		if w.from >= w.to {
			sel.Dropped = append(sel.Dropped, r)
			continue
		}
		if leader != nil {
			if g := leader.lastAtOrBefore(w.from, true); g >= 0 {
				w.from = min(w.from, max(leader.pres(g), leader.start))
			}
		}
		var cost int64
		for _, tt := range times {
			sp := tt.cut(rescale(w.from, ref.Timescale, tt.Timescale), rescale(w.to, ref.Timescale, tt.Timescale))
			w.spans = append(w.spans, sp)
			cost += tt.bytes(sp)
		}
		if len(ranges) > 1 && float64(keptBytes+cost) > limit {
			sel.Dropped = append(sel.Dropped, r)
			continue
		}
		keptBytes += cost
		windows = append(windows, w)
	}
	if len(windows) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, "nothing to keep: %s lies beyond the end of %s (%.3f s) or exceeds MaxRatio %d%%",
			rangeList(ranges), m.Path, float64(movieEnd)/float64(ref.Timescale), opts.MaxRatio)
	}

	// Presented end of each window in the output, in reference ticks. Every window but the last
	// runs to where its video cut ends (a clean join); the last ends at the requested end.
	ends := make([]int64, len(windows))
	var pos int64
	for i, w := range windows {
		to := w.to
		if i+1 < len(windows) && leader != nil && !w.spans[0].empty() {
			to = max(to, leader.presEnd(w.spans[0]))
		}
		pos += to - w.from
		ends[i] = pos
		sel.Cuts = append(sel.Cuts, Range{Start: ticksToSeconds(w.from, ref.Timescale), End: ticksToSeconds(to, ref.Timescale)})
	}
	sel.Duration = ticksToSeconds(pos, ref.Timescale)

	for ti, tt := range times {
		k := &Kept{Track: tt.Track}
		a := assembler{tt: tt, k: k}
		if tt.Kind == demux.Audio {
			a.preroll = func(first int) int { return preroll(tt.Track, first) }
		}
		for wi, w := range windows {
			from := rescale(w.from, ref.Timescale, tt.Timescale)
			to := rescale(w.to, ref.Timescale, tt.Timescale)
			before := int64(0)
			if wi > 0 {
				before = rescale(ends[wi-1], ref.Timescale, tt.Timescale)
			}
			a.add(w.spans[ti], from, to, before, rescale(ends[wi], ref.Timescale, tt.Timescale), wi+1 == len(windows))
		}
		if a.finish(rescale(pos, ref.Timescale, tt.Timescale)) {
			sel.Tracks = append(sel.Tracks, k)
		}
	}
	if len(sel.Tracks) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, "nothing to keep in %s for %s", m.Path, rangeList(ranges))
	}
	return sel, nil
}

func rangeList(rs []Range) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// secondsToTicks converts a time to ticks, an open end to a time past any file.
func secondsToTicks(sec float64, timescale uint32) int64 {
	if math.IsInf(sec, 1) {
		return math.MaxInt64 / 4
	}
	return int64(math.Round(sec * float64(timescale)))
}

func ticksToSeconds(t int64, timescale uint32) float64 { return float64(t) / float64(timescale) }

// rescale converts ticks between timescales, rounding to nearest; a time past any file stays so.
func rescale(t int64, from, to uint32) int64 {
	if from == to || t >= math.MaxInt64/4 {
		return t
	}
	return int64(math.Round(float64(t) * float64(to) / float64(from)))
}

// trackTimes adds decode times and presentation bounds to a track.
type trackTimes struct {
	*demux.Track
	dts    []int64 // decode time of every sample, and the end
	shift  int64   // presentation time = dts + CTO + shift
	minCTO int64
	start  int64 // presentation interval of the track
	end    int64
}

func newTrackTimes(t *demux.Track) *trackTimes {
	tt := &trackTimes{Track: t, dts: make([]int64, len(t.Samples)+1), shift: t.Delay - t.StartOffset, start: t.Delay}
	tt.minCTO = math.MaxInt64
	for i, s := range t.Samples {
		tt.dts[i+1] = tt.dts[i] + int64(s.Dur)
		tt.minCTO = min(tt.minCTO, int64(s.CTO))
		tt.end = max(tt.end, tt.dts[i]+int64(s.CTO)+int64(s.Dur)+tt.shift)
	}
	return tt
}

func (tt *trackTimes) pres(i int) int64 { return tt.dts[i] + int64(tt.Samples[i].CTO) + tt.shift }

// after returns the first sample from which on every sample is presented after x.
func (tt *trackTimes) after(x int64) int {
	n := len(tt.Samples)
	return sort.Search(n, func(i int) bool { return tt.dts[i]+tt.minCTO+tt.shift > x })
}

// lastAtOrBefore returns the last sample (a sync sample when sync is set) presented at or before
// x, or -1.
func (tt *trackTimes) lastAtOrBefore(x int64, sync bool) int {
	for i := tt.after(x) - 1; i >= 0; i-- {
		if (!sync || tt.Samples[i].Sync) && tt.pres(i) <= x {
			return i
		}
	}
	return -1
}

// firstSync returns the first sync sample, or len(Samples).
func (tt *trackTimes) firstSync() int {
	for i, s := range tt.Samples {
		if s.Sync {
			return i
		}
	}
	return len(tt.Samples)
}

// reorderWindow bounds how far ahead a later-decoded frame can be presented earlier: H.264 and
// HEVC reorder at most 16 frames.
const reorderWindow = 32

// cut returns the samples that present [from, to) of the track: for video from the sync sample
// at or before from to the first clean cut after the last frame presented before to; for other
// tracks the samples overlapping the interval.
func (tt *trackTimes) cut(from, to int64) span {
	from, to = max(from, tt.start), min(to, tt.end)
	if from >= to {
		return span{}
	}
	last := tt.lastAtOrBefore(to-1, false)
	if tt.Kind != demux.Video {
		first := max(tt.lastAtOrBefore(from, false), 0)
		return span{first, last + 1}
	}
	first := tt.lastAtOrBefore(from, true)
	if first < 0 {
		first = tt.firstSync()
	}
	// With B-frames the last frame presented before to can be decoded after frames presented
	// later; extend to the first point where everything decoded before is presented before
	// everything decoded after, so the next range can follow without losing or repeating a frame.
	maxPres := int64(math.MinInt64)
	for i := first; i <= last; i++ {
		maxPres = max(maxPres, tt.pres(i))
	}
	end := last + 1
	for ; end < len(tt.Samples); end++ {
		clean := true
		for j := end; j < min(end+reorderWindow, len(tt.Samples)); j++ {
			if tt.pres(j) <= maxPres {
				clean = false
				break
			}
		}
		if clean {
			break
		}
		maxPres = max(maxPres, tt.pres(end))
	}
	return span{first, end}
}

// presEnd is when the last of a span's samples stops being presented.
func (tt *trackTimes) presEnd(s span) int64 {
	var end int64 = math.MinInt64
	for i := s.first; i < s.end; i++ {
		end = max(end, tt.pres(i)+int64(tt.Samples[i].Dur))
	}
	return end
}

func (tt *trackTimes) bytes(s span) int64 {
	var n int64
	for _, x := range tt.Samples[s.first:s.end] {
		n += int64(x.Size)
	}
	return n
}
