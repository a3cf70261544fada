package demux

import (
	"bytes"
	"fmt"
	"slices"
)

// sameChunk is how many sample bytes SameStream compares at a time.
const sameChunk = 1 << 20

// SameStream reports whether track a of ma and track b of mb carry the same stream: the same
// codec configuration, timing and sample data, byte for byte. Renditions of one title usually
// share their audio; the packager then writes it once. The sample tables are compared first, so
// different streams are told apart without reading media data. The comparison reads the inputs
// directly, outside any Sharing: it is not one of a consumer's planned reads.
func SameStream(ma *Media, a *Track, mb *Media, b *Track) (bool, error) {
	if a.Kind != b.Kind || a.Format != b.Format || a.Timescale != b.Timescale || a.Language != b.Language ||
		a.SampleRate != b.SampleRate || a.Channels != b.Channels || a.Width != b.Width || a.Height != b.Height ||
		a.StartOffset != b.StartOffset || a.Delay != b.Delay || len(a.Samples) != len(b.Samples) {
		return false, nil
	}
	for i, s := range a.Samples {
		o := b.Samples[i]
		if s.Size != o.Size || s.Dur != o.Dur || s.CTO != o.CTO || s.Sync != o.Sync {
			return false, nil
		}
	}
	if a.SampleEntry != nil || b.SampleEntry != nil {
		if a.SampleEntry == nil || b.SampleEntry == nil {
			return false, nil
		}
		var ea, eb bytes.Buffer
		if err := a.SampleEntry.Encode(&ea); err != nil {
			return false, fmt.Errorf("encode sample entry: %w", err)
		}
		if err := b.SampleEntry.Encode(&eb); err != nil {
			return false, fmt.Errorf("encode sample entry: %w", err)
		}
		if !bytes.Equal(ea.Bytes(), eb.Bytes()) {
			return false, nil
		}
	}
	var bufA, bufB []byte
	for first := 0; first < len(a.Samples); {
		end, size := first, 0
		for end < len(a.Samples) && (end == first || size+int(a.Samples[end].Size) <= sameChunk) {
			size += int(a.Samples[end].Size)
			end++
		}
		bufA, bufB = slices.Grow(bufA[:0], size)[:size], slices.Grow(bufB[:0], size)[:size]
		if err := ma.readSamples(a.Samples[first:end], bufA); err != nil {
			return false, err
		}
		if err := mb.readSamples(b.Samples[first:end], bufB); err != nil {
			return false, err
		}
		if !bytes.Equal(bufA, bufB) {
			return false, nil
		}
		first = end
	}
	return true, nil
}
