package mp3

import (
	"encoding/binary"
	"errors"
	"math"
)

// InfoUpdate is what an edited stream's Xing/Info/LAME or VBRI tag must say about the frames that
// follow it.
type InfoUpdate struct {
	// Sizes are the audio frames after the tag frame, in bytes; they give the frame count, the
	// byte count (tag frame included) and the Xing seek table.
	Sizes []uint32
	// Delay and Padding are the LAME tag's encoder delay and padding in samples (12 bits each):
	// a gapless decoder skips Delay+DecoderDelay samples at the start and drops the padding at
	// the end. They are written only when the tag has a LAME extension.
	Delay, Padding int
}

// ErrNoInfoTag is returned by UpdateInfoFrame for a frame without a Xing/Info or VBRI tag.
var ErrNoInfoTag = errors.New("mp3: no Xing/Info or VBRI tag in the frame")

// UpdateInfoFrame rewrites, in place, the tag in frame (a complete first frame holding a
// Xing/Info or VBRI tag) to describe u. Only the fields the tag already has are written; the
// frame keeps its size. The LAME tag's CRC is recomputed; its music CRC (over the audio data) is
// cleared, since the audio it covered changed. A VBRI tag's seek table is emptied, as its
// entries no longer point at the right frames.
func UpdateInfoFrame(frame []byte, u InfoUpdate) error {
	if len(frame) < HeaderSize {
		return ErrNoInfoTag
	}
	h, err := ParseHeader(frame)
	if err != nil {
		return err
	}
	if len(frame) != h.FrameSize {
		return errors.New("mp3: UpdateInfoFrame needs exactly one whole frame")
	}
	t := parseInfoTag(frame, h)
	if t == nil {
		return ErrNoInfoTag
	}
	bytes := uint64(len(frame))
	for _, s := range u.Sizes {
		bytes += uint64(s)
	}
	frames, total := uint32(len(u.Sizes)), uint32(min(bytes, 0xFFFFFFFF))
	if t.Kind == KindVBRI {
		b := frame[vbriOffset:]
		binary.BigEndian.PutUint32(b[10:], total)
		binary.BigEndian.PutUint32(b[14:], frames)
		binary.BigEndian.PutUint16(b[18:], 0) // TOC entries
		return nil
	}
	off := HeaderSize + h.SideInfoSize()
	if parseXing(frame, off) == nil {
		off += 2 // after a CRC, see parseInfoTag
	}
	flags := be32(frame[off+4:])
	p := off + 8
	if flags&xingFlagFrames != 0 {
		binary.BigEndian.PutUint32(frame[p:], frames)
		p += 4
	}
	if flags&xingFlagBytes != 0 {
		binary.BigEndian.PutUint32(frame[p:], total)
		p += 4
	}
	if flags&xingFlagTOC != 0 {
		seekTable(frame[p:p+100], u.Sizes)
		p += 100
	}
	if flags&xingFlagQuality != 0 {
		p += 4
	}
	if t.Encoder == "" || p+lameTagSize > len(frame) {
		return nil
	}
	lame := frame[p : p+lameTagSize]
	d, pad := min(max(u.Delay, 0), 0xFFF), min(max(u.Padding, 0), 0xFFF)
	lame[21], lame[22], lame[23] = byte(d>>4), byte(d<<4)|byte(pad>>8), byte(pad)
	binary.BigEndian.PutUint32(lame[28:], total) // music length: the tag frame and the audio
	lame[32], lame[33] = 0, 0
	binary.BigEndian.PutUint16(lame[34:], crc16(frame[:p+34]))
	return nil
}

// seekTable fills the Xing TOC the way LAME does (VbrTag.c): entry i is the number of audio bytes
// up to and including the frame at i % of the duration, in 256ths of all audio bytes (the tag
// frame not counted); entry 0 is 0.
func seekTable(toc []byte, sizes []uint32) {
	var total uint64
	for _, s := range sizes {
		total += uint64(s)
	}
	var sum uint64
	next := 0
	toc[0] = 0
	for i := 1; i < 100; i++ {
		j := min(int(math.Floor(0.5+0.01*float64(i)*float64(len(sizes)))), len(sizes))
		for ; next < j; next++ {
			sum += uint64(sizes[next])
		}
		toc[i] = byte(min(sum*256/max(total, 1), 255))
	}
}

// crc16 is the CRC of the LAME tag: CRC-16/ARC (polynomial 0x8005, reflected, initial 0).
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
