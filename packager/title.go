package packager

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"drmpack/packager/errcode"
	"drmpack/packager/hls"
	"drmpack/packager/keys"
)

// AddTitle puts an adaptive title on the queue in the Ready state: the renditions (files of one
// title at different sizes or bit rates) are packaged by one job into one presentation,
// OUT/<title>/dash/stream.mpd and OUT/<title>/hls/index.m3u8. The job's Input is the title.
func (q *Queue) AddTitle(title string, renditions []string, opts Options) *Job {
	return q.add(&Job{Input: title, Renditions: slices.Clone(renditions), Options: opts})
}

// renditionSuffix is rendition markers at the end of a file's base name: each a separator, then
// a height (1080p, 2160p; without the p only the usual heights such as 720, so that a year such as
// 2019 stays), a bit rate (3000k, 4.5M, 800kbps) or a size (1280x720).
var renditionSuffix = regexp.MustCompile(`(?i)([ _.-]+(\d{3,4}p|0?(144|240|288|360|480|540|576|720|1080|1440|2160|4320)|\d+(\.\d+)?(k|m)(bps)?|\d{3,4}x\d{3,4}))+$`)

// RenditionTitle is the title a rendition file belongs to by default: its base name without the
// extension and without a trailing rendition marker ("movie_1080p.mp4", "movie-720.mp4" and
// "movie_3000k.mp4" all give "movie").
func RenditionTitle(file string) string {
	t := Title(file)
	if s := renditionSuffix.ReplaceAllString(t, ""); s != "" {
		return s
	}
	return t
}

// GroupRenditions groups files into titles by RenditionTitle, in the order each title first
// appears, keeping the files' order within a title.
func GroupRenditions(files []string) (titles []string, groups map[string][]string) {
	groups = map[string][]string{}
	for _, f := range files {
		t := RenditionTitle(f)
		if _, ok := groups[t]; !ok {
			titles = append(titles, t)
		}
		groups[t] = append(groups[t], f)
	}
	return titles, groups
}

// checkTitle validates an adaptive title: a name usable as a folder, at least one file, each
// file once, and only outputs that have a multi-rendition form.
func checkTitle(title string, files, drm []string) error {
	if title == "" || title == "." || title == ".." || strings.ContainsAny(title, `/\`) || strings.ContainsRune(title, 0) {
		return errcode.New(errcode.InvalidArgument, "title %q cannot be a folder name", title)
	}
	if len(files) == 0 {
		return errcode.New(errcode.ArgumentCount, "title %s has no renditions", title)
	}
	seen := map[string]bool{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			abs = f
		}
		if seen[abs] {
			return errcode.New(errcode.InvalidArgument, "title %s lists %s twice", title, f)
		}
		seen[abs] = true
	}
	return nil
}

// titleReport is what packaging.json adds for an adaptive title.
type titleReport struct {
	Renditions []string         `json:"renditions,omitempty"`
	MultiKey   bool             `json:"multiKey,omitempty"`
	HLSTitle   *hls.TitleResult `json:"hlsTitle,omitempty"`
}

// oneKey turns the answer to a one-key (HD) request into a set that serves every track with it.
func oneKey(set keys.Set) keys.Set {
	k, err := set.For(keys.HD)
	if err != nil {
		return set // the tracks' lookups report the missing key
	}
	k.TrackType = keys.AnyTrack
	return keys.Set{k}
}
