// Package hls packages one input into HTTP Live Streaming: MPEG-TS segments cut on keyframes by
// the server manual's MP4 HLS / MP3 HLS rules, a media playlist and (with Alternates) a master
// playlist, clear or encrypted with SAMPLE-AES (FairPlay signalling) or whole-segment AES-128.
package hls

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/sampleaes"
	"drmpack/packager/ts"
)

// Method is how segments are encrypted.
type Method string

// Encryption methods; the zero Method writes clear segments.
const (
	Clear     Method = ""
	SampleAES Method = "sample-aes"
	AES128    Method = "aes-128"
)

// ParseMethod validates an --hls-method value.
func ParseMethod(s string) (Method, error) {
	switch m := Method(strings.ToLower(s)); m {
	case SampleAES, AES128:
		return m, nil
	}
	return "", fmt.Errorf("unknown HLS encryption method %q (want sample-aes or aes-128)", s)
}

// File names of the output (the manual's defaults for <Index> and <AlternatesName>).
const (
	IndexName      = "index.m3u8"
	AlternatesName = "playlist.m3u8"
	// FairPlayKeyFormat is the KEYFORMAT of FairPlay Streaming keys.
	FairPlayKeyFormat = "com.apple.streamingkeydelivery"
)

// DefaultDuration is the manual's <Duration> default.
const DefaultDuration = 10 * time.Second

// Options are the manual's MP4HLS settings plus encryption.
type Options struct {
	Duration     time.Duration // target segment duration; keyframes decide the actual cuts
	Sequence     int           // number of the first segment (and EXT-X-MEDIA-SEQUENCE)
	IndexVersion int           // 3: EXT-X-VERSION:3 and EXTINF with 3 decimals; 1: no tag, integers
	Alternates   bool          // index.m3u8 is a master playlist naming playlist.m3u8
	Method       Method
	Keys         keys.Set // the key for the video track's type (AUDIO without video) is used
	// KeyURI replaces the EXT-X-KEY URI. An skd:// URI keeps FairPlay signalling; any other
	// URI is a clear-key delivery (KEYFORMAT identity). "{kid}" is replaced by the KID in hex.
	// Empty: skd://<base64 KID> for SAMPLE-AES; AES-128 needs a URI.
	KeyURI string
	// TrackTypes classes video by height for the key lookup (zero: the key services' defaults).
	TrackTypes keys.Thresholds
	// Segments is the segment container: MPEG-TS (the zero value) or fMP4 (CMAF, cbcs).
	Segments SegmentFormat
}

// Result describes what Package wrote (never key material).
type Result struct {
	Index            string   `json:"index"`
	Files            []string `json:"files"`
	Segments         int      `json:"segments"`
	Method           string   `json:"method,omitempty"`
	KID              string   `json:"kid,omitempty"`
	KeyURI           string   `json:"keyUri,omitempty"`
	Codecs           []string `json:"codecs"`
	Bandwidth        int64    `json:"bandwidth"`
	AverageBandwidth int64    `json:"averageBandwidth"`
	Duration         float64  `json:"duration"`

	key keyTag // the EXT-X-KEY, repeated as EXT-X-SESSION-KEY in an adaptive master playlist
}

// Presentation times start here on the 90 kHz clock, so that B-frame decode times and audio
// priming before the first picture stay positive (as Apple's segmenter does).
const timeBase = 10 * ts.ClockRate

// PCR runs this far behind the decode time of the packet that carries it.
const pcrLead = ts.ClockRate / 5

// Audio frames are grouped into PES packets of at most this duration (90 kHz), which keeps the
// PCR interval of audio-only programs near the 100 ms the standard asks for.
const maxAudioPES = ts.ClockRate / 10

// Package writes dir/index.m3u8 (and playlist.m3u8 with Alternates) and the numbered .ts
// segments of m's first video and first audio track. progress receives the fraction of sample
// bytes written so far.
func Package(ctx context.Context, m *demux.Media, dir string, opts Options, progress func(float64)) (*Result, error) {
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	p, err := newPlan(m, opts)
	if err != nil {
		return nil, err
	}
	demux.WillRead([]*demux.Media{m}, p.trackList())
	if opts.Segments == FMP4 {
		return p.writeFMP4(ctx, dir, progress)
	}
	return p.write(ctx, dir, progress)
}

// checkOptions validates the manual's settings (shared by Package, NewOnDemand and the adaptive
// master).
func checkOptions(opts Options) error {
	if opts.Duration <= 0 {
		return errcode.New(errcode.InvalidArgument, "HLS segment duration must be positive")
	}
	if opts.IndexVersion != 1 && opts.IndexVersion != 3 {
		return errcode.New(errcode.InvalidArgument, "HLS index version %d (want 1 or 3)", opts.IndexVersion)
	}
	if opts.Sequence < 0 {
		return errcode.New(errcode.InvalidArgument, "HLS sequence %d must not be negative", opts.Sequence)
	}
	if opts.Segments != TS && opts.Segments != FMP4 {
		return errcode.New(errcode.InvalidArgument, "unknown HLS segment format %q", opts.Segments)
	}
	return nil
}

// plan is one packaging run: tracks, cuts, key.
type plan struct {
	media   *demux.Media
	opts    Options
	video   *esTrack // nil for audio-only inputs
	audio   *esTrack
	tracks  []*esTrack  // video first
	streams []ts.Stream // of the program, video first
	cuts    [][]int     // per track: first sample of every segment
	starts  []int64     // presentation time (90 kHz) of every segment's start, plus the end
	key     keyTag
	kid     keys.KID
	cbcs    keys.Key     // the content key of fMP4 SAMPLE-AES (cbcs) segments
	block   cipher.Block // AES-128 whole-segment encryption
	base    int64        // 90 kHz time of presentation 0
	// iframes are the keyframes' PES packets in the segments, for I-frame playlists.
	iframes []iframe
}

// trackList returns the input tracks the plan reads.
func (p *plan) trackList() []*demux.Track {
	var out []*demux.Track
	for _, e := range p.tracks {
		out = append(out, e.track)
	}
	return out
}

func newPlan(m *demux.Media, opts Options) (*plan, error) {
	p := &plan{media: m, opts: opts}
	for _, t := range m.Tracks {
		e := &p.video
		if t.Kind == demux.Audio {
			e = &p.audio
		} else if t.Kind != demux.Video {
			continue
		}
		if *e != nil || len(t.Samples) == 0 {
			continue // one video and one audio stream per program
		}
		// fMP4 tracks are encrypted as CMAF samples; only TS carries Apple's SAMPLE-AES streams.
		es, err := newESTrack(m, t, opts.Method == SampleAES && opts.Segments == TS)
		if err != nil {
			return nil, errcode.New(errcode.InvalidArgument, "%s cannot be packaged for HLS: %v", filepath.Base(m.Path), err)
		}
		*e = es
	}
	for _, e := range []*esTrack{p.video, p.audio} {
		if e != nil {
			p.tracks = append(p.tracks, e)
		}
	}
	if len(p.tracks) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, "%s has no audio or video track to package for HLS", filepath.Base(m.Path))
	}
	if err := p.setupKey(); err != nil {
		return nil, err
	}
	for _, e := range p.tracks {
		p.streams = append(p.streams, e.stream)
	}
	if _, err := p.newTSWorker(); err != nil {
		return nil, err
	}
	p.base = timeBase
	for _, e := range p.tracks {
		// Samples before an edit list's start would fall before the clock's origin.
		p.base = max(p.base, timeBase-to90k(e.dtsShift, e.track.Timescale))
	}
	p.planCuts()
	return p, nil
}

// setupKey picks the presentation's key and prepares the EXT-X-KEY and the encrypters.
func (p *plan) setupKey() error {
	if p.opts.Method == Clear {
		return nil
	}
	if p.opts.Method == AES128 && p.opts.Segments == FMP4 {
		return errcode.New(errcode.InvalidArgument, "--hls-method aes-128 encrypts MPEG-TS segments; fMP4 segments are encrypted with sample-aes (cbcs)")
	}
	tt := keys.Audio
	if p.video != nil {
		tt = p.opts.TrackTypes.VideoTrackType(p.video.track.Height)
	}
	key, err := p.opts.Keys.For(tt)
	if err != nil {
		return errcode.New(errcode.InvalidArgument, "HLS: %v", err)
	}
	p.kid = key.KID
	uri := strings.ReplaceAll(p.opts.KeyURI, "{kid}", key.KID.Hex())
	var iv [16]byte
	copy(iv[:], key.IV)
	switch p.opts.Method {
	case SampleAES:
		if uri == "" {
			// The key service's own skd:// URI (its URIExtXKey) when it named one.
			uri = key.FairPlayURI
		}
		if uri == "" {
			uri = key.KID.SKD()
		}
		if p.opts.Segments == FMP4 {
			// The IV travels in each track's tenc (cbcs constant IV), not in the playlist.
			p.key = keyTag{Method: "SAMPLE-AES", URI: uri}
			p.cbcs = key
			break
		}
		if len(key.IV) == 0 {
			if _, err := rand.Read(iv[:]); err != nil {
				return errcode.Wrap(errcode.Unexpected, err, "draw an IV")
			}
		}
		p.key = keyTag{Method: "SAMPLE-AES", URI: uri, IV: iv[:]}
		for _, e := range p.tracks {
			if e.enc, err = sampleaes.New(key.Key, iv); err != nil {
				return errcode.Wrap(errcode.Unexpected, err, "AES key")
			}
		}
	case AES128:
		if uri == "" {
			return errcode.New(errcode.InvalidArgument, "--hls-method aes-128 needs --hls-key-uri: the URL players fetch the key from")
		}
		p.key = keyTag{Method: "AES-128", URI: uri}
		if len(key.IV) > 0 {
			p.key.IV = iv[:]
		}
		if p.block, err = aes.NewCipher(key.Key[:]); err != nil {
			return errcode.Wrap(errcode.Unexpected, err, "AES key")
		}
	default:
		return errcode.New(errcode.InvalidArgument, "unknown HLS method %q", p.opts.Method)
	}
	if strings.HasPrefix(strings.ToLower(uri), "skd://") {
		p.key.KeyFormat = FairPlayKeyFormat
	}
	return nil
}

// planCuts cuts the leading track (video, else audio) by the keyframe rule and the other track
// at the same times.
func (p *plan) planCuts() {
	lead := p.tracks[0]
	times := p.presentationTimes(lead)
	target := int64(p.opts.Duration) * ts.ClockRate / int64(time.Second)
	samples := lead.track.Samples
	end := int64(0)
	for i, s := range samples {
		end = max(end, times[i]+to90k(int64(s.Dur), lead.track.Timescale))
	}
	p.setCuts(keyframeCuts(times, end, func(i int) bool { return samples[i].Sync }, target))
}

// setCuts cuts the leading track before the samples leadCuts names, and the other track at the
// same times.
func (p *plan) setCuts(leadCuts []int) {
	lead := p.tracks[0]
	times := p.presentationTimes(lead)
	samples := lead.track.Samples
	p.starts = make([]int64, len(leadCuts)+1)
	for k, c := range leadCuts {
		end := len(samples)
		if k+1 < len(leadCuts) {
			end = leadCuts[k+1]
		}
		first, last := times[c], times[c]
		for i := c; i < end; i++ {
			first = min(first, times[i])
			last = max(last, times[i]+to90k(int64(samples[i].Dur), lead.track.Timescale))
		}
		p.starts[k] = first
		p.starts[k+1] = last
	}
	p.cuts = [][]int{leadCuts}
	if len(p.tracks) > 1 {
		p.cuts = append(p.cuts, alignedCuts(p.presentationTimes(p.tracks[1]), p.starts[:len(leadCuts)]))
	}
}

// presentationTimes returns the 90 kHz presentation time of every sample of a track.
func (p *plan) presentationTimes(e *esTrack) []int64 {
	times := make([]int64, len(e.track.Samples))
	for i, s := range e.track.Samples {
		times[i] = p.base + to90k(e.dts[i]+int64(s.CTO)+e.ptsShift, e.track.Timescale)
	}
	return times
}

// to90k converts track timescale units to the 90 kHz clock, rounding to nearest.
func to90k(v int64, timescale uint32) int64 {
	n := v*ts.ClockRate + int64(timescale)/2
	q := n / int64(timescale)
	if n%int64(timescale) < 0 {
		q--
	}
	return q
}

// tsWorker is what one segment-making goroutine owns: copies of the tracks with their own
// scratch space and encrypters, a muxer, and a buffer for sample data.
type tsWorker struct {
	tracks  []*esTrack
	mux     *ts.Muxer
	samples []byte
	// iframes are the keyframes of the segment last made, offsets within it.
	iframes []iframe
}

func (p *plan) newTSWorker() (*tsWorker, error) {
	w := &tsWorker{}
	for _, e := range p.tracks {
		w.tracks = append(w.tracks, e.clone())
	}
	mux, err := ts.NewMuxer(p.streams, p.streams[0].PID)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "%v", err)
	}
	w.mux = mux
	return w, nil
}

// write produces the MPEG-TS segments and the playlists. Segments are muxed and encrypted on
// one goroutine per CPU (up to 4) while earlier ones are written; each worker's muxer numbers
// packets from its own counters, and the writing stage renumbers them in segment order.
func (p *plan) write(ctx context.Context, dir string, progress func(float64)) (*Result, error) {
	type tsSegment struct {
		data        []byte
		sampleBytes int64
		iframes     []iframe
	}
	all := make([]int, len(p.tracks))
	for i := range all {
		all[i] = i
	}
	largest := p.largestSegment(all...)
	workers := make([]*tsWorker, min(runtime.GOMAXPROCS(0), 4))
	for i := range workers {
		var err error
		if workers[i], err = p.newTSWorker(); err != nil {
			return nil, err
		}
		workers[i].samples = make([]byte, largest)
	}
	lead := &segmentList{target: p.opts.Duration.Seconds()}
	report := p.progress(progress)
	n := len(p.cuts[0])
	var cc ts.Continuity
	err := pipeline(ctx, n, len(workers), func(w, k int, seg tsSegment) (tsSegment, error) {
		if seg.data == nil {
			// Room for the packet headers, PES headers and Annex B/ADTS framing too.
			seg.data = make([]byte, 0, largest+largest/16+1<<16)
		}
		var err error
		seg.data, seg.sampleBytes, err = p.segment(workers[w], k, seg.data[:0])
		seg.iframes = append(seg.iframes[:0], workers[w].iframes...)
		return seg, err
	}, func(k int, seg tsSegment) error {
		cc.Renumber(seg.data)
		p.iframes = append(p.iframes, seg.iframes...)
		if p.block != nil {
			seg.data = p.encryptSegment(seg.data, p.opts.Sequence+k)
		}
		name := fmt.Sprintf("%d.ts", p.opts.Sequence+k)
		if _, err := createFile(filepath.Join(dir, name), func(w io.Writer) error { _, err := w.Write(seg.data); return err }); err != nil {
			return errcode.Wrap(errcode.CreateNoSpace, err, "write "+name)
		}
		lead.add(name, int64(len(seg.data)), float64(p.starts[k+1]-p.starts[k])/ts.ClockRate, k == n-1)
		report(seg.sampleBytes)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.finish(dir, []*segmentList{lead})
}

// progress returns a concurrency-safe reporter of sample bytes written, as fractions of all.
func (p *plan) progress(progress func(float64)) func(int64) {
	var total int64
	for _, e := range p.tracks {
		for _, s := range e.track.Samples {
			total += int64(s.Size)
		}
	}
	var mu sync.Mutex
	var done int64
	return func(n int64) {
		if progress == nil || total == 0 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done += n
		progress(float64(done) / float64(total))
	}
}

// segmentList collects the entries and bit rates of one media playlist as its segments are written.
type segmentList struct {
	playlist string  // file name of the media playlist
	init     string  // fMP4 init segment (EXT-X-MAP); "" for MPEG-TS
	target   float64 // the Duration setting, seconds
	entries  []segmentEntry
	bytes    int64 // of all segments
	peak     int64 // bit rate of the largest segment
}

// add records a written segment of d seconds.
func (r *segmentList) add(name string, size int64, d float64, last bool) {
	r.entries = append(r.entries, segmentEntry{URI: name, Duration: float64(int64(d*1000+0.5)) / 1000})
	r.bytes += size
	// A short last segment would inflate the peak; it counts only when it is the only one.
	if d > 0 && (!last || len(r.entries) == 1 || d >= r.target/2) {
		r.peak = max(r.peak, int64(float64(size)*8/d))
	}
}

// finish writes the playlists of the renditions (the leading track's first) and describes the
// output. A second segmentList (fMP4's separate audio) needs a master playlist, as Alternates does.
func (p *plan) finish(dir string, rends []*segmentList) (*Result, error) {
	res := &Result{Method: string(p.opts.Method), Segments: len(rends[0].entries), Index: IndexName, key: p.key}
	if p.opts.Method != Clear {
		res.KID, res.KeyURI = p.kid.UUID(), p.key.URI
	}
	duration := float64(p.starts[len(p.starts)-1]-p.starts[0]) / ts.ClockRate
	res.Duration = duration
	var bytesTotal int64
	for _, r := range rends {
		for _, e := range r.entries {
			res.Files = append(res.Files, e.URI)
		}
		if r.init != "" {
			res.Files = append(res.Files, r.init)
		}
		res.Bandwidth += r.peak
		bytesTotal += r.bytes
	}
	if duration > 0 {
		res.AverageBandwidth = int64(float64(bytesTotal) * 8 / duration)
	}
	for _, e := range p.tracks {
		res.Codecs = append(res.Codecs, e.codecs)
	}
	master := p.opts.Alternates || len(rends) > 1
	rends[0].playlist = IndexName
	if master {
		rends[0].playlist = AlternatesName
	}
	for _, r := range rends {
		if err := writeFile(dir, r.playlist, mediaPlaylist(r.entries, p.opts.Sequence, p.opts.IndexVersion, p.key, r.init)); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, r.playlist)
	}
	if !master {
		return res, nil
	}
	v := variant{URI: AlternatesName, Bandwidth: res.Bandwidth, AverageBandwidth: res.AverageBandwidth, Codecs: res.Codecs}
	if p.video != nil {
		t := p.video.track
		v.Width, v.Height = t.Width, t.Height
		v.FrameRate = frameRate(t)
	}
	if len(rends) > 1 {
		v.Audio = rends[1].playlist
	}
	if err := writeFile(dir, IndexName, masterPlaylist(v, p.opts.IndexVersion, p.key)); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, IndexName)
	return res, nil
}

func writeFile(dir, name, content string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		return errcode.Wrap(errcode.CreateNoSpace, err, "write "+name)
	}
	return nil
}

// segmentSamples returns the samples [first, end) of track i in segment k.
func (p *plan) segmentSamples(i, k int) (first, end int) {
	cuts := p.cuts[i]
	first, end = cuts[k], len(p.tracks[i].track.Samples)
	if k+1 < len(cuts) {
		end = cuts[k+1]
	}
	return first, end
}

// largestSegment returns the most sample bytes the given tracks have together in one segment,
// so that buffers are made once at that size instead of growing segment after segment (which
// shows as garbage collection and page faults in profiles).
func (p *plan) largestSegment(tracks ...int) int64 {
	var largest int64
	for k := range p.cuts[0] {
		var n int64
		for _, i := range tracks {
			first, end := p.segmentSamples(i, k)
			n += sampleBytes(p.tracks[i].track.Samples[first:end])
		}
		largest = max(largest, n)
	}
	return largest
}

func sampleBytes(samples []demux.Sample) int64 {
	var n int64
	for _, s := range samples {
		n += int64(s.Size)
	}
	return n
}

// segment appends segment k's packets to dst: PAT and PMT, then the PES packets of both tracks
// interleaved in decode order. It returns dst and the sample bytes consumed.
func (p *plan) segment(w *tsWorker, k int, dst []byte) ([]byte, int64, error) {
	type span struct {
		e          *esTrack
		first, end int
		data       []byte
		offsets    []int
	}
	spans := make([]span, len(w.tracks))
	var size int64
	for i, e := range w.tracks {
		first, end := p.segmentSamples(i, k)
		spans[i] = span{e: e, first: first, end: end}
		size += sampleBytes(e.track.Samples[first:end])
	}
	if int64(cap(w.samples)) < size {
		w.samples = make([]byte, size)
	}
	buf := w.samples[:size]
	pos := 0
	for i := range spans {
		s := &spans[i]
		samples := s.e.track.Samples[s.first:s.end]
		n := 0
		for _, x := range samples {
			n += int(x.Size)
		}
		s.data = buf[pos : pos+n]
		pos += n
		if err := p.media.ReadSamples(s.e.track, s.first, s.end, s.data); err != nil {
			return nil, 0, errcode.Wrap(errcode.FileAccess, err, "read samples")
		}
	}
	w.iframes = w.iframes[:0]
	dst = w.mux.WriteTables(dst)
	var payload []byte
	next := make([]int, len(spans))   // next sample per span
	offset := make([]int, len(spans)) // its byte offset in span data
	for i := range spans {
		next[i] = spans[i].first
	}
	for {
		// The track whose next sample decodes first goes next.
		pick := -1
		var pickDTS int64
		for i := range spans {
			if next[i] >= spans[i].end {
				continue
			}
			if d := p.decodeTime(spans[i].e, next[i]); pick < 0 || d < pickDTS {
				pick, pickDTS = i, d
			}
		}
		if pick < 0 {
			break
		}
		s := &spans[pick]
		e := s.e
		i := next[pick]
		pts := p.base + to90k(e.dts[i]+int64(e.track.Samples[i].CTO)+e.ptsShift, e.track.Timescale)
		payload = payload[:0]
		var err error
		for {
			sm := e.track.Samples[i]
			payload, err = e.appendFrame(payload, s.data[offset[pick]:offset[pick]+int(sm.Size)], sm.Sync)
			if err != nil {
				return nil, 0, errcode.New(errcode.InvalidArgument, "track %d sample %d: %v", e.track.ID, i+1, err)
			}
			offset[pick] += int(sm.Size)
			i++
			// Video: one access unit per PES. Audio: consecutive frames up to maxAudioPES that
			// decode before the other track's next sample.
			if e.isVideo() || i >= s.end || p.decodeTime(e, i)-pickDTS >= maxAudioPES {
				break
			}
			if other := 1 - pick; len(spans) > 1 && next[other] < spans[other].end && p.decodeTime(spans[other].e, next[other]) < p.decodeTime(e, i) {
				break
			}
		}
		next[pick] = i
		start := len(dst)
		dst = w.mux.WritePES(dst, ts.PES{
			PID: e.stream.PID, PTS: pts, DTS: pickDTS, PCR: max(pickDTS-pcrLead, 0),
			RandomAccess: e.track.Samples[next[pick]-1].Sync || !e.isVideo(), Payload: payload,
		})
		if e.isVideo() && e.track.Samples[next[pick]-1].Sync {
			w.iframes = append(w.iframes, iframe{segment: k, offset: start, size: len(dst) - start, pts: pts})
		}
	}
	return dst, size, nil
}

// decodeTime is sample i's 90 kHz decode time.
func (p *plan) decodeTime(e *esTrack, i int) int64 {
	return p.base + to90k(e.dts[i]+e.dtsShift, e.track.Timescale)
}

// encryptSegment applies AES-128 (RFC 8216 4.3.2.4): the whole segment in CBC mode with PKCS#7
// padding, the IV either explicit or the segment's media sequence number.
func (p *plan) encryptSegment(seg []byte, seq int) []byte {
	var iv [16]byte
	if p.key.IV != nil {
		copy(iv[:], p.key.IV)
	} else {
		binary.BigEndian.PutUint64(iv[8:], uint64(seq))
	}
	pad := 16 - len(seg)%16
	for range pad {
		seg = append(seg, byte(pad))
	}
	cipher.NewCBCEncrypter(p.block, iv[:]).CryptBlocks(seg, seg)
	return seg
}
