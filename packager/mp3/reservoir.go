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
	return Reservoir{MainDataBegin: begin, MainDataSize: max(0, h.FrameSize-side-h.sideInfoSize())}, nil
}
