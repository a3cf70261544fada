// Package dash packages one input, or the renditions of one title, into DASH-CENC: an encrypted
// CMAF track per input track, cut into segments at sync samples, and a static MPD that signals
// Widevine and PlayReady.
package dash

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"drmpack/internal/fileio"
	"drmpack/packager/cenc"
	"drmpack/packager/cmaf"
	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/mpd"
	"drmpack/packager/pssh"
)

// ManifestName is the MPD's file name inside the dash folder (part of the output layout contract).
const ManifestName = "stream.mpd"

// Options controls one DASH packaging run.
type Options struct {
	SegmentDuration  time.Duration
	Scheme           cenc.Scheme
	Keys             keys.Set
	CID              string
	PlayReadyLAURL   string
	WidevineProvider string
	// TrackTypes classes video by height for the key lookup (zero: the key services' defaults).
	TrackTypes keys.Thresholds
}

// TrackResult describes one packaged track for reports (never key material).
type TrackResult struct {
	Representation string         `json:"representation"`
	Input          string         `json:"input,omitempty"` // the rendition's file (adaptive titles)
	Kind           string         `json:"kind"`
	Codecs         string         `json:"codecs"`
	TrackType      keys.TrackType `json:"trackType"`
	KID            string         `json:"kid"`
	Segments       int            `json:"segments"`
	Bandwidth      uint64         `json:"bandwidth"`
	Duration       float64        `json:"duration"`
}

// Result is what Package wrote, with paths relative to the output folder.
type Result struct {
	Manifest string        `json:"manifest"`
	Files    []string      `json:"files"`
	Tracks   []TrackResult `json:"tracks"`
	// Shared lists tracks of later renditions that are identical to a packaged one (usually the
	// audio) and are therefore not packaged again: "file track N = representation".
	Shared []string `json:"shared,omitempty"`
}

// Selected returns the tracks DASH packages: audio and video (other tracks have no place in a
// DRM-protected presentation and are reported by the caller as skipped).
func Selected(m *demux.Media) []*demux.Track {
	var out []*demux.Track
	for _, t := range m.Tracks {
		if t.Kind == demux.Video || t.Kind == demux.Audio {
			out = append(out, t)
		}
	}
	return out
}

// TrackType is the key service class of a track, video classed by th.
func TrackType(t *demux.Track, th keys.Thresholds) keys.TrackType {
	if t.Kind == demux.Audio {
		return keys.Audio
	}
	return th.VideoTrackType(t.Height)
}

// Package writes dir/stream.mpd and one folder of segments per track. progress receives the
// fraction of sample bytes written so far. It reads every sample exactly once.
func Package(ctx context.Context, m *demux.Media, dir string, opts Options, progress func(float64)) (*Result, error) {
	return PackageRenditions(ctx, []*demux.Media{m}, dir, opts, progress)
}

// PackageRenditions packages the renditions of one title into one presentation: video
// Representations of every rendition side by side in one AdaptationSet per codec, segments cut
// at the same times in all of them, and audio that several renditions carry identically
// packaged once (see Result.Shared). The renditions must pass CheckRenditions. A single input is
// packaged exactly as Package describes, with an AdaptationSet per track.
func PackageRenditions(ctx context.Context, renditions []*demux.Media, dir string, opts Options, progress func(float64)) (*Result, error) {
	if opts.SegmentDuration <= 0 {
		return nil, errcode.New(errcode.InvalidArgument, "segment duration must be positive")
	}
	if err := CheckRenditions(renditions, opts.SegmentDuration); err != nil {
		return nil, err
	}
	writers, shared, err := newWriters(renditions, dir, opts)
	if err != nil {
		return nil, err
	}
	var read []*demux.Track
	for _, w := range writers {
		read = append(read, w.track)
	}
	demux.WillRead(renditions, read)
	var total int64
	for _, w := range writers {
		total += w.bytes
	}
	if err := planSegments(writers, opts.SegmentDuration, len(renditions) > 1); err != nil {
		return nil, err
	}

	var done atomic.Int64
	report := func(n int64) {
		if progress != nil && total > 0 {
			progress(float64(done.Add(n)) / float64(total))
		}
	}
	// Tracks are independent files, so they are written concurrently: video encryption and audio
	// I/O overlap, and a long video track does not wait for the audio track.
	errs := make([]error, len(writers))
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.write(ctx, report)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	res, err := writeManifest(writers, dir)
	if res != nil {
		res.Shared = shared
	}
	return res, err
}

// planSegments cuts the first video track at sync samples near the target duration and aligns
// every other track's cuts to those times; without video each track is cut on its own grid.
// Further video tracks of one input are cut on their own grid; those of other renditions
// (aligned) must have a sync sample at each of the leader's cuts.
func planSegments(writers []*trackWriter, target time.Duration, aligned bool) error {
	var leader *trackWriter
	for _, w := range writers {
		if w.track.Kind == demux.Video {
			leader = w
			break
		}
	}
	if leader != nil {
		leader.cuts = syncCuts(leader.track.Samples, leader.dts, ticks(target, leader.track.Timescale))
	}
	for _, w := range writers {
		if w == leader {
			continue
		}
		if leader == nil || (w.track.Kind == demux.Video && !aligned) {
			w.cuts = syncCuts(w.track.Samples, w.dts, ticks(target, w.track.Timescale))
			continue
		}
		times := make([]int64, len(leader.cuts))
		for i, c := range leader.cuts {
			times[i] = leader.dts[c] + leader.decodeShift
		}
		if w.track.Kind == demux.Video {
			cuts, err := cutsAt(w.track, leader.track, leader.cuts)
			if err != nil {
				return errcode.New(errcode.InvalidArgument, "rendition %s %v; %s", w.input, err, alignmentHint)
			}
			w.cuts = cuts
			continue
		}
		w.cuts = alignedCuts(w.dts, w.track.Timescale, w.decodeShift-w.pto, times, leader.track.Timescale)
	}
	return nil
}

func ticks(d time.Duration, timescale uint32) int64 {
	return int64(d) * int64(timescale) / int64(time.Second)
}

// trackWriter packages one track.
type trackWriter struct {
	media  *demux.Media
	track  *demux.Track
	repID  string
	group  string // writers of one group share an AdaptationSet
	input  string // the rendition's file name (adaptive titles)
	dir    string
	codecs string
	key    keys.Key
	tt     keys.TrackType
	enc    *cenc.Encryptor
	init   []byte
	dts    []int64 // decode times, len(samples)+1
	cuts   []int   // first sample of every segment
	bytes  int64   // total sample bytes
	scheme cenc.Scheme
	psshs  [][]byte // Widevine and PlayReady pssh boxes, in the init segment and the MPD
	// Timeline mapping (see demux.Track.StartOffset): decodeShift is added to tfdt when the track
	// starts late; ctoShift moves video composition times so the first frame is presented at 0;
	// pto is the audio media time that maps to presentation 0 (encoder priming).
	decodeShift int64
	ctoShift    int32
	pto         int64
	timeline    []mpd.S
	peakBitrate uint64
	lastSize    int64 // bytes of the segment whose duration is not known yet
	endTime     int64 // presentation end in media time
}

func newTrackWriter(m *demux.Media, t *demux.Track, dir string, opts Options) (*trackWriter, error) {
	w := &trackWriter{media: m, track: t, dir: dir, tt: TrackType(t, opts.TrackTypes), scheme: opts.Scheme}
	w.repID = fmt.Sprintf("%s_%d", t.Kind, t.ID)
	codecs, err := cmaf.Codecs(t)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "track %d (%s): %v", t.ID, t.Format, err)
	}
	w.codecs = codecs
	vc, err := cmaf.VideoConfig(t)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "track %d: %v", t.ID, err)
	}
	key, err := opts.Keys.For(w.tt)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "track %d (%s): %v", t.ID, w.tt, err)
	}
	w.key = key
	w.enc, err = cenc.NewEncryptor(opts.Scheme, key.Key, key.IV, vc)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "track %d: %v", t.ID, err)
	}
	shift := t.Delay - t.StartOffset
	switch {
	case shift >= 0:
		w.decodeShift = shift
	case t.Kind == demux.Video:
		w.ctoShift = int32(shift)
	default:
		w.pto = -shift
	}
	w.dts = decodeTimes(t.Samples)
	for _, s := range t.Samples {
		w.bytes += int64(s.Size)
	}
	if w.psshs, err = w.psshBoxes(opts); err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "%v", err)
	}
	prot := &cmaf.Protection{
		Scheme: opts.Scheme, KID: key.KID, PerSampleIVSize: w.enc.PerSampleIVSize(),
		ConstantIV: w.enc.ConstantIV(), Pattern: w.enc.Pattern(), PSSH: w.psshs,
	}
	w.init, err = cmaf.InitSegment(t, prot)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "track %d: init segment: %v", t.ID, err)
	}
	return w, nil
}

// psshBoxes returns the Widevine and PlayReady pssh boxes for the track's key: the key
// service's own when it supplied them, otherwise built here.
func (w *trackWriter) psshBoxes(opts Options) ([][]byte, error) {
	var out [][]byte
	for _, sys := range []pssh.SystemID{pssh.Widevine, pssh.PlayReady} {
		if b, ok := w.key.PSSH[sys]; ok {
			out = append(out, b)
			continue
		}
		b, err := pssh.BoxFor(sys, w.key.KID, w.key.Key, pssh.Signalling{
			Scheme: string(opts.Scheme), Provider: opts.WidevineProvider, ContentID: opts.CID, LAURL: opts.PlayReadyLAURL,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (w *trackWriter) path(name string) string { return filepath.Join(w.dir, w.repID, name) }

// write writes the init segment and every media segment of the track. It runs in two stages so
// that reading and encrypting segment k+1 overlaps writing segment k: the encrypting stage keeps
// the encryptor's decode-order state, the writing stage only does file I/O. Two buffers circulate
// between them, so memory stays at two segments per track whatever the file's length.
func (w *trackWriter) write(ctx context.Context, report func(int64)) error {
	if err := os.MkdirAll(filepath.Join(w.dir, w.repID), 0o755); err != nil {
		return errcode.Wrap(errcode.CreateTooDeep, err, "create track folder")
	}
	if err := os.WriteFile(w.path("init.mp4"), w.init, 0o644); err != nil {
		return errcode.Wrap(errcode.CreateNoSpace, err, "write init segment")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan pendingSegment, 1)
	free := make(chan []byte, 2)
	free <- nil
	free <- nil
	var writeErr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		for p := range ready {
			if writeErr == nil {
				if writeErr = w.writeSegment(p.seg, p.data); writeErr != nil {
					cancel()
				} else {
					report(int64(len(p.data)))
				}
			}
			free <- p.data
		}
	}()
	err := w.encryptSegments(ctx, ready, free)
	close(ready)
	<-written
	if writeErr != nil {
		return writeErr
	}
	return err
}

// pendingSegment is an encrypted segment on its way to the writing stage.
type pendingSegment struct {
	seg  *cmaf.Segment
	data []byte
}

// encryptSegments reads and encrypts the track's segments in order and hands them to ready,
// taking payload buffers from free.
func (w *trackWriter) encryptSegments(ctx context.Context, ready chan<- pendingSegment, free <-chan []byte) error {
	samples := w.track.Samples
	for k, first := range w.cuts {
		buf := <-free
		if err := ctx.Err(); err != nil {
			return err
		}
		end := len(samples)
		if k+1 < len(w.cuts) {
			end = w.cuts[k+1]
		}
		var size int64
		for _, s := range samples[first:end] {
			size += int64(s.Size)
		}
		if int64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if err := w.media.ReadSamples(w.track, first, end, buf); err != nil {
			return errcode.Wrap(errcode.FileAccess, err, "read samples")
		}
		seg := &cmaf.Segment{
			Sequence: uint32(k + 1), BaseDecode: uint64(w.dts[first] + w.decodeShift),
			Encrypted: true, SubsampleMap: w.enc.UsesSubsamples(),
			Samples: make([]cmaf.Sample, 0, end-first),
		}
		earliest, latest := int64(1)<<62, int64(-1)<<62
		pos := 0
		for i, s := range samples[first:end] {
			data := buf[pos : pos+int(s.Size)]
			pos += int(s.Size)
			iv, subs, err := w.enc.EncryptSample(data)
			if err != nil {
				return errcode.New(errcode.InvalidArgument, "track %d sample %d: %v", w.track.ID, first+i+1, err)
			}
			cto := s.CTO + w.ctoShift
			seg.Samples = append(seg.Samples, cmaf.Sample{
				Size: s.Size, Dur: s.Dur, CTO: cto, Sync: s.Sync,
				IV: append([]byte(nil), iv...), Subsamples: append([]cenc.Subsample(nil), subs...),
			})
			pts := w.dts[first+i] + w.decodeShift + int64(cto)
			earliest = min(earliest, pts)
			latest = max(latest, pts+int64(s.Dur))
		}
		w.addTimeline(earliest, latest, size, k == len(w.cuts)-1)
		ready <- pendingSegment{seg: seg, data: buf}
	}
	return nil
}

func (w *trackWriter) writeSegment(seg *cmaf.Segment, data []byte) error {
	f, err := os.Create(w.path(fmt.Sprintf("%d.m4s", seg.Sequence)))
	if err != nil {
		return errcode.Wrap(errcode.CreateNoSpace, err, "create segment")
	}
	// Small boxes are buffered; the sample data goes to the file in 1 MiB pieces.
	bw := bufio.NewWriterSize(fileio.PieceWriter{W: f}, 64<<10)
	err = cmaf.WriteSegment(bw, seg, data)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errcode.Wrap(errcode.CreateNoSpace, err, "write segment")
	}
	return nil
}

// addTimeline records a segment in the SegmentTimeline. Video times are presentation times;
// audio times stay media times and the MPD's presentationTimeOffset removes the priming.
func (w *trackWriter) addTimeline(earliest, end int64, size int64, last bool) {
	if n := len(w.timeline); n > 0 {
		prev := &w.timeline[n-1]
		prev.D = uint64(earliest) - prev.T
		w.notePeak(prev.D, w.lastSize)
	}
	w.timeline = append(w.timeline, mpd.S{T: uint64(earliest)})
	w.lastSize = size
	if last {
		cur := &w.timeline[len(w.timeline)-1]
		cur.D = uint64(end - earliest)
		w.endTime = end
		// A short tail segment would inflate the peak; count it only when it is the only one.
		if len(w.timeline) == 1 || int64(cur.D) >= ticks(time.Second, w.track.Timescale) {
			w.notePeak(cur.D, size)
		}
	}
}

func (w *trackWriter) notePeak(dur uint64, size int64) {
	if dur == 0 {
		return
	}
	bps := uint64(size) * 8 * uint64(w.track.Timescale) / dur
	w.peakBitrate = max(w.peakBitrate, bps)
}
