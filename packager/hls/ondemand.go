package hls

import (
	"fmt"
	"sync"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/ts"
)

// OnDemand is a clear HLS presentation of one input generated on request, as the media server
// manual's MP4HLS and MP3HLS derive it: the playlists are text computed from the sample index,
// and segment N is muxed from that segment's samples only, read from the input when asked for.
// Nothing is written to disk.
//
// Segments are made independently of each other, so every segment's continuity counters start
// at 0 (Package continues them from one segment to the next). Segment 0 is byte-identical to
// Package's; later segments differ from Package's only in those four bits per packet.
type OnDemand struct {
	p       *plan
	entries []segmentEntry
	index   string // index.m3u8: the media playlist, or with Alternates the master playlist
	media   string // playlist.m3u8 with Alternates; "" without
	mu      sync.Mutex
}

// NewOnDemand plans m's segments with opts (Duration, Sequence, IndexVersion, Alternates; opts
// must not ask for encryption). uri names segment k's number seq in the playlists (the server
// puts the source's path and any trimming parameters in it).
func NewOnDemand(m *demux.Media, opts Options, uri func(seq int) string) (*OnDemand, error) {
	if opts.Method != Clear {
		return nil, errcode.New(errcode.InvalidArgument, "on-demand HLS is clear; %s is for packaged output", opts.Method)
	}
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	p, err := newPlan(m, opts)
	if err != nil {
		return nil, err
	}
	o := &OnDemand{p: p, entries: make([]segmentEntry, len(p.cuts[0]))}
	var peak, total int64
	for k := range o.entries {
		d := float64(p.starts[k+1]-p.starts[k]) / ts.ClockRate
		o.entries[k] = segmentEntry{URI: uri(opts.Sequence + k), Duration: float64(int64(d*1000+0.5)) / 1000}
		bytes := p.estimatedSize(k)
		total += bytes
		if d > 0 && (k < len(o.entries)-1 || len(o.entries) == 1 || d >= opts.Duration.Seconds()/2) {
			peak = max(peak, int64(float64(bytes)*8/d))
		}
	}
	media := mediaPlaylist(o.entries, opts.Sequence, opts.IndexVersion, keyTag{}, "")
	if !opts.Alternates {
		o.index = media
		return o, nil
	}
	o.media = media
	v := variant{URI: uri(-1), Bandwidth: peak}
	if d := float64(p.starts[len(p.starts)-1]-p.starts[0]) / ts.ClockRate; d > 0 {
		v.AverageBandwidth = int64(float64(total) * 8 / d)
	}
	for _, e := range p.tracks {
		v.Codecs = append(v.Codecs, e.codecs)
	}
	if p.video != nil {
		t := p.video.track
		v.Width, v.Height = t.Width, t.Height
		v.FrameRate = float64(len(t.Samples)) * float64(t.Timescale) / float64(max(t.Duration(), 1))
	}
	o.index = masterPlaylist(v, opts.IndexVersion, keyTag{})
	return o, nil
}

// estimatedSize is segment k's size as TS without muxing it, from the sample sizes: every PES
// (one per video sample, one per maxAudioPES of audio) adds its header, an access unit
// delimiter (with its start code) or ADTS headers and on average half a packet of stuffing; every 184 bytes of
// payload take a 188-byte packet; PAT and PMT lead. Muxing (Annex B conversion adds parameter
// sets) would mean reading the whole input to write a master playlist; the estimate stays
// within a few percent.
func (p *plan) estimatedSize(k int) int64 {
	const pesOverhead = 19 + ts.PacketSize/2 // header with PTS and DTS, plus stuffing
	var payload int64
	for i, e := range p.tracks {
		first, end := p.cuts[i][k], len(e.track.Samples)
		if k+1 < len(p.cuts[i]) {
			end = p.cuts[i][k+1]
		}
		var dur int64
		for _, s := range e.track.Samples[first:end] {
			payload += int64(s.Size)
			dur += int64(s.Dur)
		}
		n := int64(end - first)
		switch {
		case e.isVideo():
			payload += n * (pesOverhead + 4 + int64(len(e.aud())))
		default:
			if e.codec == aacADTS {
				payload += n * 7 // ADTS header
			}
			payload += (to90k(dur, e.track.Timescale)/maxAudioPES + 1) * pesOverhead
		}
	}
	return 2*ts.PacketSize + (payload+ts.PacketSize-5)/(ts.PacketSize-4)*ts.PacketSize
}

// Segments is the number of segments; their numbers run from Options.Sequence.
func (o *OnDemand) Segments() int { return len(o.entries) }

// Index is the index.m3u8 text: the media playlist, or with Alternates the master playlist
// whose one variant is uri(-1).
func (o *OnDemand) Index() string { return o.index }

// Playlist is the media playlist served under the AlternatesName; ok is false without
// Alternates, where the index itself lists the segments.
func (o *OnDemand) Playlist() (text string, ok bool) { return o.media, o.media != "" }

// Duration is the presentation's length in seconds.
func (o *OnDemand) Duration() float64 {
	return float64(o.p.starts[len(o.p.starts)-1]-o.p.starts[0]) / ts.ClockRate
}

// Segment muxes the segment numbered seq (Options.Sequence for the first), reading only its
// samples from the input. An unknown number is a FileNotFound error.
func (o *OnDemand) Segment(seq int) ([]byte, error) {
	k := seq - o.p.opts.Sequence
	if k < 0 || k >= len(o.entries) {
		return nil, errcode.New(errcode.FileNotFound, "segment %d does not exist (segments %d to %d)", seq, o.p.opts.Sequence, o.p.opts.Sequence+len(o.entries)-1)
	}
	// The tracks keep scratch buffers and the muxer continuity counters: one segment at a time,
	// each from counters at 0.
	o.mu.Lock()
	defer o.mu.Unlock()
	w, err := o.p.newTSWorker()
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	seg, _, err := o.p.segment(w, k, nil)
	return seg, err
}
