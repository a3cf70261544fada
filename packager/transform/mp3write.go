package transform

import (
	"sort"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/mp3"
)

// lameDelayMax is the largest encoder delay a LAME tag can record (12 bits).
const lameDelayMax = 0xFFF

// trimMP3 selects and plans the trimmed MP3 of m: the ID3v2 tag, the Xing/Info/LAME or VBRI frame
// rewritten for the kept frames, the kept frames, and the trailing tags (APE, ID3v1).
//
// Cuts fall on frame boundaries: each range's start moves back to the start of the frame that
// holds it and its end forward to the end of the frame that holds it. When the source has a LAME
// tag, the first range also keeps the frames a decoder needs to rebuild the bit reservoir and
// filterbank state before its first frame, and the tag's encoder delay makes gapless decoders
// skip them, so the output decodes to exactly the source's samples from that frame on. Without
// a LAME tag there is nowhere to say so and the output starts on the frame itself. Where two
// ranges join, the last frame before the join carries the reservoir bytes of the frames after
// it (see junctionFrame).
func trimMP3(m *demux.Media, opts Options) (*Plan, *Selection, error) {
	s, err := mp3.Scan(m, m.Size)
	if err != nil {
		return nil, nil, errcode.New(errcode.InvalidArgument, "%s: %v", m.Path, err)
	}
	t := newTrackTimes(m.Tracks[0])
	lame := s.Info != nil && s.Info.Encoder != "" && s.Info.Kind != mp3.KindVBRI && t.StartOffset > 0
	snapped := opts
	snapped.Ranges = make([]Range, len(opts.Ranges))
	for i, r := range opts.Ranges {
		snapped.Ranges[i] = t.frameAligned(r)
	}
	preroll := func(*demux.Track, int) int {
		if lame {
			return 1 // the frame whose overlap the first kept frame adds; see reservoirFrame
		}
		return 0
	}
	sel, err := selectTracks(m, snapped, preroll)
	if err != nil {
		return nil, nil, err
	}
	k := sel.Tracks[0]
	joins, err := junctionFrames(m, t.Track, k.Samples)
	if err != nil {
		return nil, nil, err
	}
	var carrier []byte
	if lame {
		first := sort.Search(len(t.Samples), func(i int) bool { return t.Samples[i].Offset >= k.Samples[0].Offset })
		if carrier, err = reservoirFrame(m, t.Track, first); err != nil {
			return nil, nil, err
		}
	}

	p := &Plan{}
	p.copyRange(0, s.ID3v2Size)
	if s.Info != nil {
		frame := make([]byte, s.Info.Size)
		if _, err := m.ReadAt(frame, s.Info.Offset); err != nil {
			return nil, nil, errcode.Wrap(errcode.FileAccess, err, "read the MP3 info frame")
		}
		var u mp3.InfoUpdate
		if carrier != nil {
			u.Sizes = append(u.Sizes, uint32(len(carrier)))
		}
		for i, x := range k.Samples {
			if f, ok := joins[i]; ok {
				x.Size = uint32(len(f))
			}
			u.Sizes = append(u.Sizes, x.Size)
		}
		if lame {
			// A gapless decoder presents decoded samples [Delay+DecoderDelay, frames×spf −
			// Padding + DecoderDelay) (ffmpeg's reading of the tag): place the selection's edit
			// there, after the carrier frame.
			spf := int64(k.Track.Samples[0].Dur)
			skip := k.MediaTime + int64(len(u.Sizes)-len(k.Samples))*spf
			u.Delay = int(skip - mp3.DecoderDelay)
			u.Padding = int(int64(len(u.Sizes))*spf - skip - k.Duration + mp3.DecoderDelay)
			if k.Samples[len(k.Samples)-1].Offset == t.Samples[len(t.Samples)-1].Offset {
				u.Padding = s.EncoderPadding // the source's own end
			}
			if u.Delay < 0 || u.Delay > lameDelayMax {
				return nil, nil, errcode.New(errcode.Unexpected, "MP3 encoder delay %d out of range", u.Delay)
			}
		}
		if err := mp3.UpdateInfoFrame(frame, u); err != nil {
			return nil, nil, errcode.Wrap(errcode.InvalidArgument, err, m.Path)
		}
		p.literal(frame)
	}
	p.literal(carrier)
	for i, x := range k.Samples {
		if f, ok := joins[i]; ok {
			p.literal(f)
			continue
		}
		p.copyRange(x.Offset, int64(x.Size))
	}
	p.copyRange(s.TrailerOffset, m.Size-s.TrailerOffset)
	return p, sel, nil
}

// reservoirFrame builds a frame to put before frame next (the first kept one) that decodes to
// silence but carries, at the end of its main data, the bit-reservoir bytes that next and the
// frames after it may draw from (see reservoirBytes). With it, every kept frame decodes exactly
// as in the source. Its header is next's with the lowest bitrate that holds the bytes and no
// CRC; its side information is all zero (main_data_begin 0, no coded bits in any granule). It
// returns nil when next needs nothing.
func reservoirFrame(m *demux.Media, t *demux.Track, next int) ([]byte, error) {
	head, carried, err := reservoirBytes(m, t, next)
	if err != nil || len(carried) == 0 {
		return nil, err
	}
	frame, _ := carryingFrame(head, make([]byte, sideInfoBytes(head)), nil, carried)
	return frame, nil
}

// junctionFrames returns the rewritten frames (see junctionFrame) of the kept samples that end a
// range, by index in kept: the samples whose successor in kept is not their successor in t.
func junctionFrames(m *demux.Media, t *demux.Track, kept []demux.Sample) (map[int][]byte, error) {
	index := func(x demux.Sample) int {
		return sort.Search(len(t.Samples), func(i int) bool { return t.Samples[i].Offset >= x.Offset })
	}
	joins := map[int][]byte{}
	for i := 1; i < len(kept); i++ {
		prev, next := index(kept[i-1]), index(kept[i])
		if next == prev+1 {
			continue
		}
		f, err := junctionFrame(m, t, prev, next)
		if err != nil {
			return nil, err
		}
		if f != nil {
			joins[i-1] = f
		}
	}
	return joins, nil
}

// junctionFrame rewrites frame prev, the last of a kept range, for the join to frame next, the
// first of the range after it: at the end of its main data it carries the reservoir bytes that
// next and the frames after it draw from in the source, so that they decode as in the source
// instead of from the other range's bytes. prev's own main data stays where it is; its bitrate
// is changed to make room (decoders take a bitrate per frame). It returns nil when next needs
// nothing or prev cannot carry anything.
func junctionFrame(m *demux.Media, t *demux.Track, prev, next int) ([]byte, error) {
	_, carried, err := reservoirBytes(m, t, next)
	if err != nil || len(carried) == 0 {
		return nil, err
	}
	frame := make([]byte, t.Samples[prev].Size)
	if _, err := m.ReadAt(frame, t.Samples[prev].Offset); err != nil {
		return nil, errcode.Wrap(errcode.FileAccess, err, "read MP3 frame")
	}
	r, err := mp3.ParseReservoir(frame)
	if err != nil {
		return nil, nil
	}
	own, err := mp3.OwnMainData(frame)
	if err != nil {
		return nil, nil
	}
	// The CRC, if any, is dropped: it covers the header, whose bitrate changes.
	side := mp3.HeaderSize + crcBytes(frame)
	head := frame[:mp3.HeaderSize:mp3.HeaderSize]
	info := frame[side : side+sideInfoBytes(head)]
	payload := frame[side+len(info):]
	// prev's own main data begins MainDataBegin bytes before its payload and ends here in it.
	end := max(0, min(len(payload), own-r.MainDataBegin))
	out, _ := carryingFrame(head, info, payload[:end], carried)
	return out, nil
}

// reservoirBytes returns frame next's header and the main-data bytes of the frames before it that
// next and the frames after it may draw from: up to 511 bytes (255 for MPEG-2), nil when next is
// not a Layer III frame or the first one.
func reservoirBytes(m *demux.Media, t *demux.Track, next int) ([]byte, []byte, error) {
	head := make([]byte, mp3.HeaderSize)
	if _, err := m.ReadAt(head, t.Samples[next].Offset); err != nil {
		return nil, nil, errcode.Wrap(errcode.FileAccess, err, "read MP3 frame")
	}
	h, err := mp3.ParseHeader(head)
	if err != nil || h.Layer != 3 {
		return head, nil, nil
	}
	reach := 511
	if h.Version != mp3.MPEG1 {
		reach = 255
	}
	var carried []byte
	for j := next - 1; j >= 0 && len(carried) < reach; j-- {
		frame := make([]byte, t.Samples[j].Size)
		if _, err := m.ReadAt(frame, t.Samples[j].Offset); err != nil {
			return nil, nil, errcode.Wrap(errcode.FileAccess, err, "read MP3 frame")
		}
		r, err := mp3.ParseReservoir(frame)
		if err != nil {
			break
		}
		carried = append(frame[len(frame)-r.MainDataSize:], carried...)
	}
	return head, carried[max(0, len(carried)-reach):], nil
}

// sideInfoBytes is the side information size of frames with header head.
func sideInfoBytes(head []byte) int {
	h, err := mp3.ParseHeader(head)
	if err != nil {
		return 0
	}
	return h.SideInfoSize()
}

// crcBytes is the size of the CRC after header head: 2 when its protection bit asks for one.
func crcBytes(head []byte) int {
	if head[1]&0x01 == 0 {
		return 2
	}
	return 0
}

// carryingFrame builds a frame from head (bitrate, padding and CRC changed), side information
// info and main data own, followed by carried at the end of the frame: with the lowest bitrate
// whose frame holds both, or the highest, keeping carried's last bytes, when none does. It
// reports whether all of carried fit.
func carryingFrame(head, info, own, carried []byte) ([]byte, bool) {
	h := append([]byte(nil), head[:mp3.HeaderSize]...)
	h[1] |= 0x01  // protection_absent: no CRC
	h[2] &^= 0x02 // no padding
	var size int
	for index := byte(1); index < 15; index++ {
		h[2] = h[2]&0x0F | index<<4
		hh, err := mp3.ParseHeader(h)
		if err != nil {
			continue
		}
		size = hh.FrameSize
		if size-len(h)-len(info)-len(own) >= len(carried) {
			break
		}
	}
	room := size - len(h) - len(info) - len(own)
	if room < 0 {
		return nil, false
	}
	fit := room >= len(carried)
	carried = carried[max(0, len(carried)-room):]
	frame := make([]byte, size)
	n := copy(frame, h)
	n += copy(frame[n:], info)
	copy(frame[n:], own)
	copy(frame[size-len(carried):], carried)
	return frame, fit
}

// frameAligned widens r to the frame boundaries around it.
func (tt *trackTimes) frameAligned(r Range) Range {
	if r.open() {
		return r
	}
	ts := tt.Timescale
	if i := tt.lastAtOrBefore(secondsToTicks(r.Start, ts), false); i >= 0 {
		r.Start = ticksToSeconds(max(tt.pres(i), 0), ts)
	}
	if end := secondsToTicks(r.End, ts); end < tt.end {
		if i := tt.lastAtOrBefore(end-1, false); i >= 0 {
			r.End = ticksToSeconds(tt.pres(i)+int64(tt.Samples[i].Dur), ts)
		}
	}
	return r
}
