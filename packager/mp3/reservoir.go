package mp3

import "errors"

// Reservoir describes a Layer III frame's use of the bit reservoir (ISO/IEC 11172-3 2.4.1.7,
// 13818-3): its main data starts MainDataBegin bytes before the end of its side information, in
// the main data of earlier frames, and the frame contributes MainDataSize bytes of main data
// (everything after its side information) for itself and later frames.
type Reservoir struct {
	MainDataBegin int
	MainDataSize  int
}

// ErrNotLayer3 is returned by ParseReservoir for frames of other layers, which have no reservoir.
var ErrNotLayer3 = errors.New("mp3: not a Layer III frame")

// ParseReservoir reads the reservoir fields of the frame that b starts with; b must hold the
// header, the CRC if any and the first side information byte or two.
func ParseReservoir(b []byte) (Reservoir, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Reservoir{}, err
	}
	if h.Layer != 3 {
		return Reservoir{}, ErrNotLayer3
	}
	side := HeaderSize
	if h.Protected {
		side += 2
	}
	if len(b) < side+2 {
		return Reservoir{}, errors.New("mp3: side information cut off")
	}
	begin := int(b[side]) // MPEG-2/2.5: 8 bits
	if h.Version == MPEG1 {
		begin = begin<<1 | int(b[side+1]>>7) // 9 bits
	}
	return Reservoir{MainDataBegin: begin, MainDataSize: max(0, h.FrameSize-side-h.SideInfoSize())}, nil
}

// OwnMainData returns how many bytes of main data the Layer III frame that b starts with uses
// itself: the sum of its granules' part2_3_length bits, rounded up. b must hold the header, the
// CRC if any and the whole side information. The rest of the main data it reaches (from
// MainDataBegin bytes back to the frame's end) is free for the frames after it.
func OwnMainData(b []byte) (int, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return 0, err
	}
	if h.Layer != 3 {
		return 0, ErrNotLayer3
	}
	side := HeaderSize
	if h.Protected {
		side += 2
	}
	if len(b) < side+h.SideInfoSize() {
		return 0, errors.New("mp3: side information cut off")
	}
	channels := 2
	if h.ChannelMode == ChannelMono {
		channels = 1
	}
	// Bits before the first granule, and per granule and channel (ISO/IEC 11172-3 2.4.1.7,
	// 13818-3 2.4.1.7); part2_3_length is the first 12 bits of each granule's entry.
	granules, lead, entry := 1, 8+2, 63 // MPEG-2/2.5: main_data_begin 8, private bits 1 or 2
	if channels == 1 {
		lead = 8 + 1
	}
	if h.Version == MPEG1 {
		granules, lead, entry = 2, 9+3+4*channels, 59 // main_data_begin 9, private 5 or 3, scfsi
		if channels == 1 {
			lead = 9 + 5 + 4
		}
	}
	info := b[side : side+h.SideInfoSize()]
	bits := 0
	for i := range granules * channels {
		pos := lead + i*entry
		v := 0
		for k := range 12 {
			bit := pos + k
			v = v<<1 | int(info[bit/8]>>(7-bit%8)&1)
		}
		bits += v
	}
	return (bits + 7) / 8, nil
}
