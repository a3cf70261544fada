package hls

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/ts"
)

// TitleResult describes an adaptive title's HLS output (never key material).
type TitleResult struct {
	Index string   `json:"index"`
	Files []string `json:"files"`
	// Renditions are the video renditions, then the audio ones; each Index is the media
	// playlist's path, e.g. "video_720p/index.m3u8".
	Renditions []*Result `json:"renditions"`
	// Shared lists audio tracks of later renditions identical to a packaged one, which are not
	// packaged again: "file track N = folder".
	Shared []string `json:"shared,omitempty"`
}

// rendition is one media playlist of an adaptive title: the first video track of an input, or an
// audio track.
type rendition struct {
	name  string // folder and playlist prefix: video_720p, audio, audio_eng
	media *demux.Media
	track *demux.Track
}

// PackageRenditions packages the renditions of one title (already checked for alignment, see
// dash.CheckRenditions) into dir/index.m3u8, a master playlist, and a folder per rendition
// holding its media playlist and segments: one video-only variant per input (its first video
// track) and the audio as EXT-X-MEDIA renditions, one per distinct audio stream (identical audio
// in several inputs is packaged once). Every variant names its audio group; with keys per track
// type each playlist carries its own key, and each distinct FairPlay key is announced once in
// the master playlist with EXT-X-SESSION-KEY.
func PackageRenditions(ctx context.Context, renditions []*demux.Media, dir string, opts Options, progress func(float64)) (*TitleResult, error) {
	videos, audios, shared, err := splitRenditions(renditions)
	if err != nil {
		return nil, err
	}
	all := append(slices.Clone(videos), audios...)
	sub := opts
	sub.Alternates = false
	if err := checkOptions(sub); err != nil {
		return nil, err
	}
	// Every rendition's playlist runs on one clock: presentation 0 is at the latest origin any
	// of them needs (B-frame reordering delays video, audio priming does not), so audio and
	// video renditions stay in sync when a player combines them.
	plans := make([]*plan, len(all))
	var base int64
	for i, r := range all {
		if plans[i], err = newPlan(r.media.View([]*demux.Track{r.track}), sub); err != nil {
			return nil, err
		}
		base = max(base, plans[i].base)
	}
	var read []*demux.Track
	for _, p := range plans {
		read = append(read, p.trackList()...)
	}
	demux.WillRead(renditions, read)
	for _, p := range plans {
		if p.base != base {
			p.base = base
			p.planCuts()
		}
	}
	// Audio renditions are cut where the first video rendition is, so that segment n of every
	// playlist covers the same time (as Apple's authoring rules ask of alternate renditions).
	lead := plans[0]
	for _, p := range plans[len(videos):] {
		cuts := alignedCuts(p.presentationTimes(p.tracks[0]), lead.starts[:len(lead.starts)-1])
		for len(cuts) > 1 && cuts[len(cuts)-1] >= len(p.tracks[0].track.Samples) {
			cuts = cuts[:len(cuts)-1] // the audio ended before the video's last segment
		}
		p.setCuts(cuts)
	}

	var total int64
	weights := make([]int64, len(all))
	for i, r := range all {
		for _, s := range r.track.Samples {
			weights[i] += int64(s.Size)
		}
		total += weights[i]
	}
	var mu sync.Mutex
	fractions := make([]float64, len(all))
	report := func(i int, f float64) {
		if progress == nil || total == 0 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fractions[i] = f
		var done float64
		for j, x := range fractions {
			done += x * float64(weights[j])
		}
		progress(done / float64(total))
	}

	// Renditions are independent files: they are segmented concurrently.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]*Result, len(all))
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, r := range all {
		sdir := filepath.Join(dir, r.name)
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			cancel()
			wg.Wait()
			return nil, errcode.Wrap(errcode.CreateTooDeep, err, "create "+sdir)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = plans[i].write(ctx, sdir, func(f float64) { report(i, f) })
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	// I-frame playlists address byte ranges of the segments, which whole-segment AES-128 does
	// not allow (its CBC chain and padding span the segment).
	iframes := make([]iframeVariant, len(videos))
	for i := range videos {
		p, r := plans[i], results[i]
		if p.opts.Method == AES128 || len(p.iframes) == 0 {
			continue
		}
		list, peak, avg := iframePlaylist(p, r.Files[:r.Segments])
		if err := writeFile(filepath.Join(dir, videos[i].name), IFramesName, list); err != nil {
			return nil, err
		}
		r.Files = append(r.Files, IFramesName)
		iframes[i] = iframeVariant{uri: videos[i].name + "/" + IFramesName, peak: peak, avg: avg}
	}
	res := &TitleResult{Index: IndexName, Renditions: results, Shared: shared}
	for i, r := range results {
		for _, f := range r.Files {
			res.Files = append(res.Files, filepath.Join(all[i].name, f))
		}
		r.Index = all[i].name + "/" + r.Index
	}
	master := titleMaster(videos, results[:len(videos)], iframes, audios, results[len(videos):], opts.IndexVersion)
	if err := writeFile(dir, IndexName, master); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, IndexName)
	return res, nil
}

// firstError is the first real failure, not a cancellation it caused in another rendition.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// splitRenditions picks each input's first video track and every distinct first audio track.
func splitRenditions(renditions []*demux.Media) (videos, audios []rendition, shared []string, err error) {
	used := map[string]bool{}
	name := func(n string) string {
		u := n
		for i := 2; used[u]; i++ {
			u = fmt.Sprintf("%s_%d", n, i)
		}
		used[u] = true
		return u
	}
	for _, m := range renditions {
		var v, a *demux.Track
		for _, t := range m.Tracks {
			if t.Kind == demux.Video && v == nil && len(t.Samples) > 0 {
				v = t
			}
			if t.Kind == demux.Audio && a == nil && len(t.Samples) > 0 {
				a = t
			}
		}
		if v == nil {
			return nil, nil, nil, errcode.New(errcode.InvalidArgument, "rendition %s has no video track: adaptive titles switch between video renditions", filepath.Base(m.Path))
		}
		videos = append(videos, rendition{name: name(fmt.Sprintf("video_%dp", v.Height)), media: m, track: v})
		if a == nil {
			continue
		}
		dup := ""
		for _, o := range audios {
			same, err := demux.SameStream(o.media, o.track, m, a)
			if err != nil {
				return nil, nil, nil, errcode.Wrap(errcode.FileAccess, err, "compare audio of the renditions")
			}
			if same {
				dup = o.name
				break
			}
		}
		if dup != "" {
			shared = append(shared, fmt.Sprintf("%s track %d = %s", filepath.Base(m.Path), a.ID, dup))
			continue
		}
		n := "audio"
		if a.Language != "" && a.Language != "und" {
			n += "_" + a.Language
		}
		audios = append(audios, rendition{name: name(n), media: m, track: a})
	}
	return videos, audios, shared, nil
}

// titleMaster renders the master playlist: session keys, the audio groups (one per audio codec,
// as a variant's CODECS must name its audio), every video variant once per audio group with
// the group's peak and average added to its own, and the I-frame playlists.
func titleMaster(videos []rendition, vres []*Result, iframes []iframeVariant, audios []rendition, ares []*Result, indexVersion int) string {
	version := 4 // EXT-X-MEDIA with CHANNELS, AVERAGE-BANDWIDTH and FRAME-RATE are understood from 4 on
	var sessionKeys []string
	for _, r := range append(slices.Clone(vres), ares...) {
		version = max(version, r.key.version(indexVersion))
		// A key used by several renditions (each with its own IV) is announced once; the IV
		// belongs to the media playlists (RFC 8216 4.3.4.5 asks METHOD, KEYFORMAT and
		// KEYFORMATVERSIONS to match, not the IV).
		session := keyTag{Method: r.key.Method, URI: r.key.URI, KeyFormat: r.key.KeyFormat}
		if r.key.KeyFormat != "" && !slices.Contains(sessionKeys, session.attributes()) {
			sessionKeys = append(sessionKeys, session.attributes())
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", version)
	for _, k := range sessionKeys {
		fmt.Fprintf(&b, "#EXT-X-SESSION-KEY:%s\n", k)
	}
	type group struct {
		id        string
		codec     string
		peak, avg int64
	}
	var groups []*group
	for i, a := range audios {
		codec := ares[i].Codecs[0]
		var g *group
		for _, x := range groups {
			if x.codec == codec {
				g = x
			}
		}
		if g == nil {
			g = &group{id: "audio-" + strings.ReplaceAll(codec, ".", "_"), codec: codec}
			groups = append(groups, g)
		}
		first := g.peak == 0 // the group's first rendition is its default
		g.peak, g.avg = max(g.peak, ares[i].Bandwidth), max(g.avg, ares[i].AverageBandwidth)
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=%q,NAME=%q", g.id, a.name)
		if l := a.track.LanguageTag(); l != "" {
			fmt.Fprintf(&b, ",LANGUAGE=%q", l)
		}
		fmt.Fprintf(&b, ",DEFAULT=%s,AUTOSELECT=YES,CHANNELS=\"%d\",URI=%q\n", yesNo(first), a.track.Channels, ares[i].Index)
	}
	for i, v := range videos {
		vv := variant{URI: vres[i].Index, Bandwidth: vres[i].Bandwidth, AverageBandwidth: vres[i].AverageBandwidth,
			Codecs: vres[i].Codecs, Width: v.track.Width, Height: v.track.Height, FrameRate: frameRate(v.track)}
		if len(groups) == 0 {
			fmt.Fprintf(&b, "#EXT-X-STREAM-INF:%s\n%s\n", vv.attributes(), vv.URI)
		}
		for _, g := range groups {
			gv := vv
			gv.Bandwidth, gv.AverageBandwidth = vv.Bandwidth+g.peak, vv.AverageBandwidth+g.avg
			gv.Codecs = append(slices.Clone(vv.Codecs), g.codec)
			fmt.Fprintf(&b, "#EXT-X-STREAM-INF:%s,AUDIO=%q\n%s\n", gv.attributes(), g.id, gv.URI)
		}
	}
	for i, f := range iframes {
		if f.uri == "" {
			continue
		}
		iv := variant{Bandwidth: f.peak, AverageBandwidth: f.avg, Codecs: vres[i].Codecs, Width: videos[i].track.Width, Height: videos[i].track.Height}
		fmt.Fprintf(&b, "#EXT-X-I-FRAME-STREAM-INF:%s,URI=%q\n", iv.attributes(), f.uri)
	}
	return b.String()
}

// iframeVariant is a video rendition's I-frame playlist; uri is empty when it has none.
type iframeVariant struct {
	uri       string
	peak, avg int64
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// frameRate is a video track's mean frame rate.
func frameRate(t *demux.Track) float64 {
	return float64(len(t.Samples)) * float64(t.Timescale) / float64(max(t.Duration(), 1))
}

// IFramesName is the I-frame playlist of a video rendition, next to its media playlist.
const IFramesName = "iframes.m3u8"

// iframe is one keyframe's PES packets inside a segment.
type iframe struct {
	segment      int   // index of the segment
	offset, size int   // byte range in the segment
	pts          int64 // 90 kHz
}

// iframePlaylist renders an EXT-X-I-FRAMES-ONLY playlist (RFC 8216 4.3.3.6) over a rendition's
// segments: each keyframe as a byte range, lasting until the next keyframe, with the first
// segment's PAT and PMT as the media initialization section (EXT-X-MAP), so that every range can
// be decoded on its own. It returns the playlist and its peak and average bit rates.
func iframePlaylist(p *plan, segments []string) (playlist string, peak, avg int64) {
	key := p.key
	version := max(key.version(p.opts.IndexVersion), 5) // EXT-X-MAP in an I-frame playlist
	var entries strings.Builder
	target := 1
	var bytes int64
	end := p.starts[len(p.starts)-1]
	for i, f := range p.iframes {
		next := end
		if i+1 < len(p.iframes) {
			next = p.iframes[i+1].pts
		}
		d := float64(next-f.pts) / ts.ClockRate
		target = max(target, int(math.Round(d)))
		if d > 0 {
			peak = max(peak, int64(float64(f.size)*8/d))
		}
		bytes += int64(f.size)
		fmt.Fprintf(&entries, "#EXTINF:%.3f,\n#EXT-X-BYTERANGE:%d@%d\n%s\n", d, f.size, f.offset, segments[f.segment])
	}
	if total := float64(end-p.iframes[0].pts) / ts.ClockRate; total > 0 {
		avg = int64(float64(bytes) * 8 / total)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n",
		version, target, p.opts.Sequence)
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q,BYTERANGE=\"%d@0\"\n", segments[0], 2*ts.PacketSize)
	if key.Method != "" {
		fmt.Fprintf(&b, "#EXT-X-KEY:%s\n", key.attributes())
	}
	b.WriteString(entries.String())
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String(), peak, avg
}
