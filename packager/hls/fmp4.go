package hls

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"drmpack/packager/cenc"
	"drmpack/packager/cmaf"
	"drmpack/packager/errcode"
	"drmpack/packager/ts"
)

// SegmentFormat is the container of the media segments.
type SegmentFormat string

// Segment formats; the zero SegmentFormat is MPEG-TS, the manual's format.
const (
	TS   SegmentFormat = ""
	FMP4 SegmentFormat = "fmp4" // CMAF fragments behind an EXT-X-MAP, encrypted with cbcs
)

// ParseSegmentFormat validates an --hls-segments value.
func ParseSegmentFormat(s string) (SegmentFormat, error) {
	switch strings.ToLower(s) {
	case "ts":
		return TS, nil
	case "fmp4":
		return FMP4, nil
	}
	return "", fmt.Errorf("unknown HLS segment format %q (want ts or fmp4)", s)
}

// File names of fMP4 output. A CMAF segment holds one track, so with video and audio the audio
// is a rendition of its own: audio.m3u8 naming audio_init.mp4 and audio_N.m4s, grouped with the
// video's playlist by the master playlist.
const (
	InitName          = "init.mp4"
	AudioPlaylistName = "audio.m3u8"
	audioPrefix       = "audio_"
)

// fmp4Track writes one track as a CMAF track: an init segment and one fragment per segment.
type fmp4Track struct {
	plan    *plan
	index   int // in plan.tracks
	e       *esTrack
	cuts    []int
	largest int64   // sample bytes of the largest segment
	bounds  []int64 // 90 kHz presentation time of every segment's start, plus the end
	prefix  string  // of the track's file names
	enc     *cenc.Encryptor
	init    []byte
	// The timeline of the TS output, in the track's timescale: the fragment's tfdt is decodeBase
	// plus the sample's decode time, and composition offsets grow by ctoShift (never negative).
	decodeBase int64
	ctoShift   int32
}

// fmp4Segment is one fragment on its way from the producing to the writing stage.
type fmp4Segment struct {
	seg         cmaf.Segment
	data        []byte
	sampleBytes int64
}

// writeFMP4 writes every track's init segment and fragments (tracks concurrently, each through a
// pipeline) and the playlists.
func (p *plan) writeFMP4(ctx context.Context, dir string, progress func(float64)) (*Result, error) {
	report := p.progress(progress)
	tracks := make([]*fmp4Track, len(p.tracks))
	rends := make([]*segmentList, len(p.tracks))
	for i := range p.tracks {
		f, err := p.newFMP4Track(i)
		if err != nil {
			return nil, err
		}
		tracks[i] = f
		rends[i] = &segmentList{init: f.prefix + InitName, target: p.opts.Duration.Seconds()}
		if err := os.WriteFile(filepath.Join(dir, rends[i].init), f.init, 0o644); err != nil {
			return nil, errcode.Wrap(errcode.CreateNoSpace, err, "write "+rends[i].init)
		}
	}
	if len(rends) > 1 {
		rends[1].playlist = AudioPlaylistName
	}
	errs := make([]error, len(tracks))
	var wg sync.WaitGroup
	for i, f := range tracks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.write(ctx, dir, rends[i], report)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return p.finish(dir, rends)
}

func (p *plan) newFMP4Track(i int) (*fmp4Track, error) {
	e := p.tracks[i]
	t := e.track
	f := &fmp4Track{plan: p, index: i, e: e, cuts: p.cuts[i], bounds: p.starts, largest: p.largestSegment(i)}
	if i > 0 {
		f.prefix = audioPrefix
		f.bounds = trackBounds(p.presentationTimes(e), f.cuts, e)
	}
	var prot *cmaf.Protection
	if p.opts.Method == SampleAES {
		vc, err := cmaf.VideoConfig(t)
		if err != nil {
			return nil, errcode.New(errcode.InvalidArgument, "track %d: %v", t.ID, err)
		}
		if f.enc, err = cenc.NewEncryptor(cenc.CBCS, p.cbcs.Key, p.cbcs.IV, vc); err != nil {
			return nil, errcode.New(errcode.InvalidArgument, "track %d: %v", t.ID, err)
		}
		prot = &cmaf.Protection{Scheme: cenc.CBCS, KID: p.kid, ConstantIV: f.enc.ConstantIV(), Pattern: f.enc.Pattern()}
	}
	init, err := cmaf.InitSegment(t, prot)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "track %d: init segment: %v", t.ID, err)
	}
	f.init = init
	f.decodeBase = (p.base*int64(t.Timescale)+ts.ClockRate/2)/ts.ClockRate + e.dtsShift
	f.ctoShift = int32(e.ptsShift - e.dtsShift)
	return f, nil
}

// trackBounds returns the segment boundaries of a track that follows the leader's cuts: where
// each segment's first sample is presented, and where the track ends.
func trackBounds(times []int64, cuts []int, e *esTrack) []int64 {
	bounds := make([]int64, len(cuts)+1)
	end := int64(0)
	for i, s := range e.track.Samples {
		end = max(end, times[i]+to90k(int64(s.Dur), e.track.Timescale))
	}
	for k, c := range cuts {
		bounds[k] = end
		if c < len(times) {
			bounds[k] = times[c]
		}
	}
	bounds[len(cuts)] = end
	return bounds
}

// write writes the track's fragments, N.m4s numbered from the Sequence setting, and records them
// in r. A follower track that ends before the leader has no fragments for the rest.
func (f *fmp4Track) write(ctx context.Context, dir string, r *segmentList, report func(int64)) error {
	n := len(f.cuts)
	for n > 0 && f.cuts[n-1] >= len(f.e.track.Samples) {
		n--
	}
	// One worker: the encryptor is not safe for concurrent use (and cbcs is cheap).
	produce := func(_, k int, s *fmp4Segment) (*fmp4Segment, error) { return f.produce(k, s) }
	return pipeline(ctx, n, 1, produce, func(k int, s *fmp4Segment) error {
		name := fmt.Sprintf("%s%d.m4s", f.prefix, f.plan.opts.Sequence+k)
		size, err := createFile(filepath.Join(dir, name), func(w io.Writer) error { return cmaf.WriteSegment(w, &s.seg, s.data) })
		if err != nil {
			return errcode.Wrap(errcode.CreateNoSpace, err, "write "+name)
		}
		r.add(name, size, float64(f.bounds[k+1]-f.bounds[k])/ts.ClockRate, k == n-1)
		report(s.sampleBytes)
		return nil
	})
}

// produce reads segment k's samples into s and encrypts them.
func (f *fmp4Track) produce(k int, s *fmp4Segment) (*fmp4Segment, error) {
	if s == nil {
		s = &fmp4Segment{data: make([]byte, f.largest)}
	}
	t := f.e.track
	first, end := f.plan.segmentSamples(f.index, k)
	samples := t.Samples[first:end]
	size := sampleBytes(samples)
	if int64(cap(s.data)) < size {
		s.data = make([]byte, size)
	}
	s.data, s.sampleBytes = s.data[:size], size
	if err := f.plan.media.ReadSamples(t, first, end, s.data); err != nil {
		return s, errcode.Wrap(errcode.FileAccess, err, "read samples")
	}
	s.seg = cmaf.Segment{
		Sequence: uint32(k + 1), BaseDecode: uint64(f.decodeBase + f.e.dts[first]),
		Encrypted: f.enc != nil, SubsampleMap: f.enc != nil && f.enc.UsesSubsamples(),
		Samples: s.seg.Samples[:0],
	}
	pos := 0
	for i, x := range samples {
		smp := cmaf.Sample{Size: x.Size, Dur: x.Dur, CTO: x.CTO + f.ctoShift, Sync: x.Sync}
		if f.enc != nil {
			_, subs, err := f.enc.EncryptSample(s.data[pos : pos+int(x.Size)])
			if err != nil {
				return s, errcode.New(errcode.InvalidArgument, "track %d sample %d: %v", t.ID, first+i+1, err)
			}
			smp.Subsamples = append([]cenc.Subsample(nil), subs...)
		}
		pos += int(x.Size)
		s.seg.Samples = append(s.seg.Samples, smp)
	}
	return s, nil
}
