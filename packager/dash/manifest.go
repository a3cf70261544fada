package dash

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/mpd"
	"drmpack/packager/pssh"
)

// writeManifest writes stream.mpd: one AdaptationSet per writer group (per track for a single
// input; per content type, codec and language for an adaptive title), each with the
// mp4protection descriptor carrying cenc:default_KID, then Widevine and PlayReady. When the
// Representations of a set use different keys (multi-key renditions), each carries its own.
func writeManifest(writers []*trackWriter, dir string) (*Result, error) {
	res := &Result{Manifest: ManifestName}
	var m mpd.MPD
	sets := map[string]int{} // group → index in m.AdaptationSets
	for _, w := range writers {
		t := w.track
		dur := time.Duration(float64(w.endTime-w.pto) / float64(t.Timescale) * float64(time.Second))
		m.Duration = max(m.Duration, dur)
		i, ok := sets[w.group]
		if !ok {
			i = len(m.AdaptationSets)
			sets[w.group] = i
			m.AdaptationSets = append(m.AdaptationSets, mpd.AdaptationSet{
				ID: i + 1, ContentType: t.Kind.String(), MimeType: t.Kind.String() + "/mp4",
				Lang: t.LanguageTag(), SegmentAlignment: true, StartWithSAP: 1,
				ContentProtections: w.contentProtections(),
			})
		}
		as := &m.AdaptationSets[i]
		rep := mpd.Representation{
			ID: w.repID, Codecs: w.codecs, Bandwidth: w.peakBitrate,
			SegmentTemplate: mpd.SegmentTemplate{
				Timescale: t.Timescale, Initialization: "$RepresentationID$/init.mp4",
				Media: "$RepresentationID$/$Number$.m4s", StartNumber: 1,
				PresentationTimeOffset: uint64(w.pto), Timeline: w.timeline,
			},
		}
		switch t.Kind {
		case demux.Video:
			rep.Width, rep.Height = t.Width, t.Height
			rep.FrameRate = frameRate(t)
			rep.Sar = sampleAspectRatio(t)
			as.MaxWidth, as.MaxHeight = max(as.MaxWidth, t.Width), max(as.MaxHeight, t.Height)
			if rateValue(rep.FrameRate) > rateValue(as.MaxFrameRate) {
				as.MaxFrameRate = rep.FrameRate
			}
		case demux.Audio:
			rep.AudioSamplingRate, rep.AudioChannels = t.SampleRate, t.Channels
		}
		as.Representations = append(as.Representations, rep)

		res.Tracks = append(res.Tracks, TrackResult{
			Representation: w.repID, Input: w.input, Kind: t.Kind.String(), Codecs: w.codecs, TrackType: w.tt,
			KID: w.key.KID.UUID(), Segments: len(w.cuts), Bandwidth: w.peakBitrate, Duration: dur.Seconds(),
		})
		res.Files = append(res.Files, filepath.Join(w.repID, "init.mp4"))
		for k := range w.cuts {
			res.Files = append(res.Files, filepath.Join(w.repID, fmt.Sprintf("%d.m4s", k+1)))
		}
	}
	moveProtectionToRepresentations(&m, writers)
	f, err := os.Create(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, errcode.Wrap(errcode.CreateNoSpace, err, "create MPD")
	}
	bw := bufio.NewWriter(f)
	err = m.Encode(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.CreateNoSpace, err, "write MPD")
	}
	res.Files = append(res.Files, ManifestName)
	return res, nil
}

// moveProtectionToRepresentations gives each Representation of a set whose Representations use
// different keys its own ContentProtection descriptors (and the set none), since an
// AdaptationSet has one default_KID.
func moveProtectionToRepresentations(m *mpd.MPD, writers []*trackWriter) {
	byRep := map[string]*trackWriter{}
	for _, w := range writers {
		byRep[w.repID] = w
	}
	for i := range m.AdaptationSets {
		as := &m.AdaptationSets[i]
		kid := byRep[as.Representations[0].ID].key.KID
		mixed := false
		for _, r := range as.Representations {
			mixed = mixed || byRep[r.ID].key.KID != kid
		}
		if !mixed {
			continue
		}
		as.ContentProtections = nil
		for j := range as.Representations {
			as.Representations[j].ContentProtections = byRep[as.Representations[j].ID].contentProtections()
		}
	}
}

func (w *trackWriter) contentProtections() []mpd.ContentProtection {
	cps := []mpd.ContentProtection{{
		SchemeIDURI: "urn:mpeg:dash:mp4protection:2011", Value: string(w.scheme), DefaultKID: w.key.KID.UUID(),
	}}
	for _, b := range w.psshs {
		sys, _, data, err := pssh.ParseBox(b)
		if err != nil {
			continue
		}
		cp := mpd.ContentProtection{SchemeIDURI: sys.URN(), PSSH: b}
		switch sys {
		case pssh.PlayReady:
			cp.Value, cp.PRO = "MSPR 2.0", data
		case pssh.Widevine:
			cp.Value = "Widevine"
		}
		cps = append(cps, cp)
	}
	return cps
}

// frameRate states the video frame rate as the MPD wants it: an integer, or a fraction such as
// 30000/1001, derived from the most common sample duration.
func frameRate(t *demux.Track) string {
	counts := map[uint32]int{}
	for _, s := range t.Samples {
		counts[s.Dur]++
	}
	var dur uint32
	for d, c := range counts {
		if d > 0 && (dur == 0 || c > counts[dur] || (c == counts[dur] && d < dur)) {
			dur = d
		}
	}
	if dur == 0 {
		return ""
	}
	num, den := uint64(t.Timescale), uint64(dur)
	g := gcd(num, den)
	num, den = num/g, den/g
	if den == 1 {
		return fmt.Sprint(num)
	}
	return fmt.Sprintf("%d/%d", num, den)
}

// rateValue is a frame rate string's value ("30000/1001" → 29.97); 0 for "".
func rateValue(r string) float64 {
	var num, den float64 = 0, 1
	if n, d, ok := strings.Cut(r, "/"); ok {
		fmt.Sscan(n, &num)
		fmt.Sscan(d, &den)
	} else {
		fmt.Sscan(r, &num)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func sampleAspectRatio(t *demux.Track) string {
	se, ok := t.SampleEntry.(*mp4.VisualSampleEntryBox)
	if !ok || se.Pasp == nil || se.Pasp.HSpacing == 0 || se.Pasp.VSpacing == 0 {
		return "1:1"
	}
	h, v := uint64(se.Pasp.HSpacing), uint64(se.Pasp.VSpacing)
	g := gcd(h, v)
	return fmt.Sprintf("%d:%d", h/g, v/g)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
