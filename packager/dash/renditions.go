package dash

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
)

// alignmentHint tells the user how to make renditions that can be switched between.
const alignmentHint = "renditions of one title must share their keyframes: encode them from one source with the same fixed GOP (e.g. x264 -g 50 -keyint_min 50 -sc_threshold 0)"

// CheckRenditions refuses (1102) renditions that cannot make one presentation: each must have a
// video track, all must last as long as the first within one of its GOPs, and each must have a
// keyframe at every time the first one's video is cut into segments of about target, so that
// players can switch between renditions at every segment boundary. One input always passes.
func CheckRenditions(renditions []*demux.Media, target time.Duration) error {
	if len(renditions) < 2 {
		return nil
	}
	lead := firstVideo(renditions[0])
	if lead == nil {
		return errcode.New(errcode.InvalidArgument, "rendition %s has no video track: adaptive titles switch between video renditions", filepath.Base(renditions[0].Path))
	}
	leadCuts := syncCuts(lead.Samples, decodeTimes(lead.Samples), ticks(target, lead.Timescale))
	gop := longestGOP(lead)
	leadDur := seconds(int64(lead.Duration()), lead.Timescale)
	for _, m := range renditions[1:] {
		v := firstVideo(m)
		if v == nil {
			return errcode.New(errcode.InvalidArgument, "rendition %s has no video track: adaptive titles switch between video renditions", filepath.Base(m.Path))
		}
		if d := seconds(int64(v.Duration()), v.Timescale); d-leadDur > gop || leadDur-d > gop {
			return errcode.New(errcode.InvalidArgument, "rendition %s lasts %.3f s and %s %.3f s: renditions of one title must have the same duration (within a GOP, %.3f s)",
				filepath.Base(m.Path), d, filepath.Base(renditions[0].Path), leadDur, gop)
		}
		if _, err := cutsAt(v, lead, leadCuts); err != nil {
			return errcode.New(errcode.InvalidArgument, "rendition %s %v where %s starts a segment; %s", filepath.Base(m.Path), err, filepath.Base(renditions[0].Path), alignmentHint)
		}
	}
	return nil
}

func firstVideo(m *demux.Media) *demux.Track {
	for _, t := range m.Tracks {
		if t.Kind == demux.Video && len(t.Samples) > 0 {
			return t
		}
	}
	return nil
}

func seconds(v int64, timescale uint32) float64 { return float64(v) / float64(timescale) }

// longestGOP is the longest stretch from a sync sample to the next one (or to the end), in seconds.
func longestGOP(t *demux.Track) float64 {
	var longest, start, pos int64
	for i, s := range t.Samples {
		if s.Sync && i > 0 {
			longest = max(longest, pos-start)
			start = pos
		}
		pos += int64(s.Dur)
	}
	return seconds(max(longest, pos-start), t.Timescale)
}

// presentationTime is sample i's presentation time in the track's timescale (see demux.Track).
func presentationTime(t *demux.Track, dts []int64, i int) int64 {
	return dts[i] + int64(t.Samples[i].CTO) - t.StartOffset + t.Delay
}

// cutsAt returns the sync samples of t presented at the times of lead's cuts (within half a
// frame), or an error naming the first time where t has no keyframe.
func cutsAt(t, lead *demux.Track, leadCuts []int) ([]int, error) {
	leadDTS, dts := decodeTimes(lead.Samples), decodeTimes(t.Samples)
	cuts := []int{0}
	next := 0
	for _, c := range leadCuts[1:] {
		// Times compared across timescales in lead-timescale × t-timescale units.
		want := presentationTime(lead, leadDTS, c) * int64(t.Timescale)
		tolerance := int64(lead.Samples[c].Dur) * int64(t.Timescale) / 2
		found := -1
		for i := next; i < len(t.Samples); i++ {
			if !t.Samples[i].Sync {
				continue
			}
			got := presentationTime(t, dts, i) * int64(lead.Timescale)
			if got-want > tolerance {
				break
			}
			if want-got <= tolerance {
				found = i
				break
			}
		}
		if found <= cuts[len(cuts)-1] {
			return nil, fmt.Errorf("has no keyframe at %.3f s", seconds(presentationTime(lead, leadDTS, c), lead.Timescale))
		}
		cuts = append(cuts, found)
		next = found + 1
	}
	return cuts, nil
}

// newWriters prepares a track writer for every track to package. Audio of a later rendition
// identical to an audio track already taken is shared instead (listed in the second result).
// Representations of an adaptive title are named by what they are (video_720p, audio_eng) and
// grouped into AdaptationSets by content type, codec and language; a single input keeps one
// AdaptationSet per track named by track ID.
func newWriters(renditions []*demux.Media, dir string, opts Options) ([]*trackWriter, []string, error) {
	var writers []*trackWriter
	var shared []string
	adaptive := len(renditions) > 1
	used := map[string]bool{}
	for _, m := range renditions {
		tracks := Selected(m)
		if len(tracks) == 0 {
			return nil, nil, errcode.New(errcode.InvalidArgument, "%s has no audio or video track to package", filepath.Base(m.Path))
		}
	tracks:
		for _, t := range tracks {
			if adaptive && t.Kind == demux.Audio {
				for _, w := range writers {
					same, err := demux.SameStream(w.media, w.track, m, t)
					if err != nil {
						return nil, nil, errcode.Wrap(errcode.FileAccess, err, "compare audio of the renditions")
					}
					if same {
						shared = append(shared, fmt.Sprintf("%s track %d = %s", filepath.Base(m.Path), t.ID, w.repID))
						continue tracks
					}
				}
			}
			w, err := newTrackWriter(m, t, dir, opts)
			if err != nil {
				return nil, nil, err
			}
			w.group = w.repID
			if adaptive {
				w.input = filepath.Base(m.Path)
				w.repID = uniqueName(used, representationName(t))
				codec, _, _ := strings.Cut(w.codecs, ".")
				w.group = t.Kind.String() + "/" + codec
				if t.Kind == demux.Audio {
					w.group += "/" + t.Language
				}
			}
			writers = append(writers, w)
		}
	}
	return writers, shared, nil
}

func representationName(t *demux.Track) string {
	if t.Kind == demux.Video {
		return fmt.Sprintf("video_%dp", t.Height)
	}
	if t.Language != "" && t.Language != "und" {
		return "audio_" + t.Language
	}
	return "audio"
}

// uniqueName returns name, or name_2, name_3, ... when it is taken, and marks it taken.
func uniqueName(used map[string]bool, name string) string {
	n := name
	for i := 2; used[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	used[n] = true
	return n
}
