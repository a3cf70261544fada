package transform

import (
	"bytes"
	"fmt"
	"math"

	"github.com/Eyevinn/mp4ff/mp4"

	"drmpack/packager/demux"
	"drmpack/packager/errcode"
)

// chunkSeconds is the interleave of the derived MP4: each chunk holds about this much of one
// track, so a player streaming the file reads audio and video from nearby bytes.
const chunkSeconds = 0.5

// Trim plans the trimmed (or multi-trimmed) file of m, an MP4, M4A or MP3, and returns it with
// the selection it is made of. The plan reads its sample data from m.
func Trim(m *demux.Media, opts Options) (*Plan, *Selection, error) {
	if m.Format == "mp3" {
		return trimMP3(m, opts)
	}
	sel, err := Select(m, opts)
	if err != nil {
		return nil, nil, err
	}
	plan, err := mp4Plan(sel)
	if err != nil {
		return nil, nil, err
	}
	return plan, sel, nil
}

// mp4Plan plans the derived MP4 file of a selection of an MP4 source: the source's ftyp, a moov
// regenerated from the source's (the kept tracks with new sample tables, edit lists and
// durations; every other box as decoded), and one mdat with the kept samples, interleaved in
// half-second chunks. Sample tables that describe individual samples beyond the regenerated ones
// (sdtp, sbgp/sgpd, subs, saiz/saio, cslg) are left out rather than left stale.
func mp4Plan(sel *Selection) (*Plan, error) {
	src := sel.Source
	top, err := readBoxes(src, 0, src.Size)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "%s: %v", src.Path, err)
	}
	var ftyp []byte
	var moov *mp4.MoovBox
	for _, b := range top {
		switch b.typ {
		case "ftyp":
			if ftyp, err = readBox(src, b, 1<<16); err != nil {
				return nil, err
			}
		case "moov":
			raw, err := readBox(src, b, maxMoovSize)
			if err != nil {
				return nil, err
			}
			box, err := mp4.DecodeBox(0, bytes.NewReader(raw))
			if err != nil {
				return nil, errcode.New(errcode.InvalidArgument, "%s: moov: %v", src.Path, err)
			}
			moov, _ = box.(*mp4.MoovBox)
		}
	}
	if moov == nil || moov.Mvhd == nil {
		return nil, errcode.New(errcode.InvalidArgument, "%s: no usable moov box", src.Path)
	}

	layout := interleave(sel.Tracks)
	traks := map[uint32]*mp4.TrakBox{}
	for _, trak := range moov.Traks {
		if trak.Tkhd != nil {
			traks[trak.Tkhd.TrackID] = trak
		}
	}
	movieTS := moov.Mvhd.Timescale
	if movieTS == 0 {
		return nil, errcode.New(errcode.InvalidArgument, "%s: movie timescale 0", src.Path)
	}
	var kept []mp4.Box
	var movieDur uint64
	for i, k := range sel.Tracks {
		trak := traks[k.Track.ID]
		if trak == nil {
			return nil, errcode.New(errcode.InvalidArgument, "%s: track %d has no trak box", src.Path, k.Track.ID)
		}
		dur := retimeTrak(trak, k, movieTS)
		movieDur = max(movieDur, dur)
		trak.Mdia.Minf.Stbl = sampleTables(trak.Mdia.Minf.Stbl.Stsd, k.Samples, layout.tracks[i])
		replaceChild(trak.Mdia.Minf.Children, trak.Mdia.Minf.Stbl)
		kept = append(kept, trak)
	}
	keepTraks(moov, kept, len(kept) < len(moov.Traks))
	moov.Mvhd.Duration = movieDur
	moov.Mvhd.Version = version(movieDur)

	// Chunk offsets are absolute: place them once the header's size is known. The header is
	// the same size whatever the offset values, so one sizing pass decides stco or co64.
	wide := false
	payload := layout.payload.Size()
	for {
		setChunkOffsets(sel.Tracks, kept, layout, 0, wide)
		header := int64(len(ftyp)) + int64(moov.Size()) + int64(len(boxHeader("mdat", payload)))
		if !wide && header+payload > math.MaxUint32 {
			wide = true
			continue
		}
		setChunkOffsets(sel.Tracks, kept, layout, header, wide)
		break
	}
	var head bytes.Buffer
	head.Write(ftyp)
	if err := moov.Encode(&head); err != nil {
		return nil, fmt.Errorf("encode moov: %w", err)
	}
	head.Write(boxHeader("mdat", payload))
	plan := &Plan{}
	plan.literal(head.Bytes())
	plan.append(layout.payload)
	return plan, nil
}

func readBox(src *demux.Media, b box, limit int64) ([]byte, error) {
	if b.size > limit {
		return nil, errcode.New(errcode.InvalidArgument, "%s: %s box of %d bytes is too large", src.Path, b.typ, b.size)
	}
	buf := make([]byte, b.size)
	if _, err := src.ReadAt(buf, b.off); err != nil {
		return nil, errcode.Wrap(errcode.FileAccess, err, "read "+b.typ)
	}
	return buf, nil
}

// retimeTrak writes a kept track's edit list and durations and returns its duration in the movie
// timescale.
func retimeTrak(trak *mp4.TrakBox, k *Kept, movieTS uint32) uint64 {
	ts := k.Track.Timescale
	var entries []mp4.ElstEntry
	if k.Delay > 0 {
		entries = append(entries, mp4.ElstEntry{SegmentDuration: uint64(rescale(k.Delay, ts, movieTS)), MediaTime: -1, MediaRateInteger: 1})
	}
	entries = append(entries, mp4.ElstEntry{SegmentDuration: uint64(rescale(k.Duration, ts, movieTS)), MediaTime: k.MediaTime, MediaRateInteger: 1})
	elst := &mp4.ElstBox{Entries: entries}
	for _, e := range entries {
		if e.SegmentDuration > math.MaxUint32 || e.MediaTime > math.MaxInt32 {
			elst.Version = 1
		}
	}
	edts := &mp4.EdtsBox{}
	edts.AddChild(elst)
	if trak.Edts != nil {
		replaceChild(trak.Children, edts)
	} else {
		// The edit list belongs right after the track header.
		trak.Children = append(trak.Children[:1], append([]mp4.Box{edts}, trak.Children[1:]...)...)
	}
	trak.Edts = edts

	var mediaDur uint64
	for _, s := range k.Samples {
		mediaDur += uint64(s.Dur)
	}
	trak.Mdia.Mdhd.Duration = mediaDur
	trak.Mdia.Mdhd.Version = version(mediaDur)
	dur := uint64(rescale(k.Delay+k.Duration, ts, movieTS))
	trak.Tkhd.Duration = dur
	trak.Tkhd.Version = version(dur)
	return dur
}

func version(d uint64) byte {
	if d > math.MaxUint32 {
		return 1
	}
	return 0
}

// replaceChild swaps the child of the same type for b.
func replaceChild(children []mp4.Box, b mp4.Box) {
	for i, c := range children {
		if c.Type() == b.Type() {
			children[i] = b
			return
		}
	}
}

// keepTraks leaves only the kept traks in moov. When tracks were dropped, track references
// (tref) could point at them, so they go too.
func keepTraks(moov *mp4.MoovBox, kept []mp4.Box, dropped bool) {
	var children []mp4.Box
	next := 0
	for _, c := range moov.Children {
		if c.Type() != "trak" {
			children = append(children, c)
			continue
		}
		if next < len(kept) {
			children = append(children, kept[next])
			next++
		}
	}
	moov.Children = children
	moov.Traks = moov.Traks[:0]
	for _, b := range kept {
		trak := b.(*mp4.TrakBox)
		if dropped {
			var cs []mp4.Box
			for _, c := range trak.Children {
				if c.Type() != "tref" {
					cs = append(cs, c)
				}
			}
			trak.Children = cs
		}
		moov.Traks = append(moov.Traks, trak)
	}
	moov.Trak = moov.Traks[0]
}

// sampleTables builds a stbl for samples laid out in chunks.
func sampleTables(stsd *mp4.StsdBox, samples []demux.Sample, chunks trackChunks) *mp4.StblBox {
	stbl := &mp4.StblBox{}
	stbl.AddChild(stsd)

	stts := &mp4.SttsBox{}
	ctts := &mp4.CttsBox{}
	var counts []uint32
	var offsets []int32
	hasCTO, negative, allSync := false, false, true
	stss := &mp4.StssBox{}
	stsz := &mp4.StszBox{SampleNumber: uint32(len(samples))}
	uniform := samples[0].Size
	for i, s := range samples {
		if n := len(stts.SampleCount); n > 0 && stts.SampleTimeDelta[n-1] == s.Dur {
			stts.SampleCount[n-1]++
		} else {
			stts.SampleCount = append(stts.SampleCount, 1)
			stts.SampleTimeDelta = append(stts.SampleTimeDelta, s.Dur)
		}
		if n := len(counts); n > 0 && offsets[n-1] == s.CTO {
			counts[n-1]++
		} else {
			counts = append(counts, 1)
			offsets = append(offsets, s.CTO)
		}
		hasCTO = hasCTO || s.CTO != 0
		negative = negative || s.CTO < 0
		if s.Sync {
			stss.SampleNumber = append(stss.SampleNumber, uint32(i+1))
		} else {
			allSync = false
		}
		if s.Size != uniform {
			uniform = 0
		}
	}
	if uniform == 0 {
		stsz.SampleSize = make([]uint32, len(samples))
		for i, s := range samples {
			stsz.SampleSize[i] = s.Size
		}
	} else {
		stsz.SampleUniformSize = uniform
	}
	stbl.AddChild(stts)
	if hasCTO {
		ctts.AddSampleCountsAndOffset(counts, offsets) // equal lengths: cannot fail
		if negative {
			ctts.Version = 1
		}
		stbl.AddChild(ctts)
	}
	if !allSync {
		stbl.AddChild(stss)
	}
	stbl.AddChild(stsz)
	stsc := &mp4.StscBox{}
	for i, n := range chunks.counts {
		if len(stsc.Entries) == 0 || stsc.Entries[len(stsc.Entries)-1].SamplesPerChunk != n {
			stsc.AddEntry(uint32(i+1), n, 1) // chunk numbers ascend from 1: cannot fail
		}
	}
	stbl.AddChild(stsc)
	stbl.AddChild(&mp4.StcoBox{ChunkOffset: make([]uint32, len(chunks.offsets))})
	return stbl
}

// setChunkOffsets fills every kept track's chunk offset table with base plus the chunk's place in
// the mdat payload, as stco or (wide) co64.
func setChunkOffsets(tracks []*Kept, traks []mp4.Box, l *mdatLayout, base int64, wide bool) {
	for i := range tracks {
		stbl := traks[i].(*mp4.TrakBox).Mdia.Minf.Stbl
		rel := l.tracks[i].offsets
		var table mp4.Box
		if wide {
			co := &mp4.Co64Box{ChunkOffset: make([]uint64, len(rel))}
			for j, off := range rel {
				co.ChunkOffset[j] = uint64(base + off)
			}
			table, stbl.Co64, stbl.Stco = co, co, nil
		} else {
			co := &mp4.StcoBox{ChunkOffset: make([]uint32, len(rel))}
			for j, off := range rel {
				co.ChunkOffset[j] = uint32(base + off)
			}
			table, stbl.Stco, stbl.Co64 = co, co, nil
		}
		last := len(stbl.Children) - 1 // the chunk offset table, added last
		stbl.Children[last] = table
	}
}

// mdatLayout is the derived mdat: per track its chunks, and the payload as source ranges.
type mdatLayout struct {
	tracks  []trackChunks
	payload *Plan
}

type trackChunks struct {
	offsets []int64 // chunk positions in the mdat payload
	counts  []uint32
}

// interleave lays the kept samples out in chunks of about chunkSeconds, always continuing with
// the track that is furthest behind in decode time.
func interleave(tracks []*Kept) *mdatLayout {
	l := &mdatLayout{tracks: make([]trackChunks, len(tracks)), payload: &Plan{}}
	next := make([]int, len(tracks))
	dts := make([]int64, len(tracks))
	for {
		t := -1
		for i, k := range tracks {
			if next[i] < len(k.Samples) && (t < 0 || ticksToSeconds(dts[i], k.Track.Timescale) < ticksToSeconds(dts[t], tracks[t].Track.Timescale)) {
				t = i
			}
		}
		if t < 0 {
			return l
		}
		k := tracks[t]
		limit := dts[t] + int64(chunkSeconds*float64(k.Track.Timescale))
		tc := &l.tracks[t]
		tc.offsets = append(tc.offsets, l.payload.Size())
		tc.counts = append(tc.counts, 0)
		for next[t] < len(k.Samples) && (tc.counts[len(tc.counts)-1] == 0 || dts[t] < limit) {
			s := k.Samples[next[t]]
			l.payload.copyRange(s.Offset, int64(s.Size))
			dts[t] += int64(s.Dur)
			tc.counts[len(tc.counts)-1]++
			next[t]++
		}
	}
}
