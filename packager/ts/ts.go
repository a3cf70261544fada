// Package ts writes MPEG-2 transport streams (ISO/IEC 13818-1) for HTTP Live Streaming: one
// program with a PAT and a single-packet PMT, PES packets with PTS/DTS, a PCR on one elementary
// stream and per-PID continuity counters, including the stream types and descriptors of Apple's
// SAMPLE-AES signalling.
package ts

import (
	"encoding/binary"
	"fmt"
)

// PacketSize is the size of every transport stream packet.
const PacketSize = 188

// Stream types (ISO/IEC 13818-1 Table 2-34, ATSC A/52 for AC-3, Apple's HLS Sample Encryption for
// the encrypted ones).
const (
	StreamTypeMPEG1Audio = 0x03
	StreamTypeMPEG2Audio = 0x04
	StreamTypeADTS       = 0x0F
	StreamTypeH264       = 0x1B
	StreamTypeHEVC       = 0x24
	StreamTypeAC3        = 0x81
	StreamTypeEAC3       = 0x87
	// SAMPLE-AES encrypted variants.
	StreamTypeH264SampleAES = 0xDB
	StreamTypeAACSampleAES  = 0xCF
	StreamTypeAC3SampleAES  = 0xC1
	StreamTypeEAC3SampleAES = 0xC2
)

// PES stream IDs (ISO/IEC 13818-1 Table 2-22).
const (
	StreamIDVideo         = 0xE0
	StreamIDAudio         = 0xC0
	StreamIDPrivateStream = 0xBD // AC-3 and E-AC-3
)

// Fixed PIDs of the single program we write.
const (
	PIDPAT = 0x0000
	PIDPMT = 0x1000
)

// ClockRate is the rate of PTS, DTS and PCR base values.
const ClockRate = 90000

// Stream is one elementary stream of the program.
type Stream struct {
	PID         uint16
	Type        byte   // stream_type in the PMT
	StreamID    byte   // PES stream_id
	Descriptors []byte // encoded ES_info descriptors
}

// Muxer packetises PES packets of a fixed set of streams. Output is appended to caller-owned
// slices, so a segment can be built in one reusable buffer. Continuity counters run on across
// calls (and so across segments), as a continuous program's would.
type Muxer struct {
	streams []Stream
	pcrPID  uint16
	cc      Continuity
	pat     []byte // PAT section packet payload (pointer field + section)
	pmt     []byte
}

// NewMuxer returns a muxer for one program; pcrPID names the stream that carries the PCR. The PMT
// must fit one packet, as HLS clients expect.
func NewMuxer(streams []Stream, pcrPID uint16) (*Muxer, error) {
	if len(streams) == 0 {
		return nil, fmt.Errorf("ts: no streams")
	}
	m := &Muxer{streams: streams, pcrPID: pcrPID}
	pcrFound := false
	for _, s := range streams {
		if s.PID <= 0x0F || s.PID >= 0x1FFF || s.PID == PIDPMT {
			return nil, fmt.Errorf("ts: PID 0x%X is reserved", s.PID)
		}
		pcrFound = pcrFound || s.PID == pcrPID
	}
	if !pcrFound {
		return nil, fmt.Errorf("ts: PCR PID 0x%X is not one of the streams", pcrPID)
	}
	m.pat = psiPayload(0x00, 1, []byte{0x00, 0x01, 0xE0 | byte(PIDPMT>>8), byte(PIDPMT & 0xFF)})
	body := []byte{0xE0 | byte(pcrPID>>8), byte(pcrPID), 0xF0, 0x00} // no program descriptors
	for _, s := range streams {
		if len(s.Descriptors) > 0x3FF {
			return nil, fmt.Errorf("ts: descriptors of PID 0x%X too long", s.PID)
		}
		body = append(body, s.Type, 0xE0|byte(s.PID>>8), byte(s.PID), 0xF0|byte(len(s.Descriptors)>>8), byte(len(s.Descriptors)))
		body = append(body, s.Descriptors...)
	}
	m.pmt = psiPayload(0x02, 1, body)
	if len(m.pmt) > PacketSize-4 {
		return nil, fmt.Errorf("ts: PMT of %d bytes does not fit one packet", len(m.pmt))
	}
	return m, nil
}

// psiPayload returns pointer_field + a long-form PSI section (table_id, id, version 0,
// current, section 0 of 0, body, CRC_32).
func psiPayload(tableID byte, id uint16, body []byte) []byte {
	sectionLength := 5 + len(body) + 4
	b := []byte{0x00, tableID, 0xB0 | byte(sectionLength>>8), byte(sectionLength), byte(id >> 8), byte(id), 0xC1, 0x00, 0x00}
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, CRC32(b[1:]))
}

// WriteTables appends a PAT and a PMT packet; every HLS segment starts with them.
func (m *Muxer) WriteTables(dst []byte) []byte {
	dst = m.psiPacket(dst, PIDPAT, m.pat)
	return m.psiPacket(dst, PIDPMT, m.pmt)
}

// PES describes one PES packet to write.
type PES struct {
	PID          uint16
	PTS, DTS     int64 // 90 kHz; DTS is written only when it differs from PTS
	PCR          int64 // 90 kHz; written when the PID carries the PCR and PCR >= 0
	RandomAccess bool  // sets random_access_indicator (a keyframe, or any audio frame)
	Payload      []byte
}

// WritePES appends the packets of one PES packet.
func (m *Muxer) WritePES(dst []byte, p PES) []byte {
	var s *Stream
	for i := range m.streams {
		if m.streams[i].PID == p.PID {
			s = &m.streams[i]
		}
	}
	if s == nil {
		panic(fmt.Sprintf("ts: PES for unknown PID 0x%X", p.PID))
	}
	var hdr [19]byte
	h := pesHeader(hdr[:0], s.StreamID, p, len(p.Payload))
	af := adaptation{randomAccess: p.RandomAccess, pcr: -1}
	if p.PID == m.pcrPID && p.PCR >= 0 {
		af.pcr = p.PCR
	}
	payload := p.Payload
	first := true
	for first || len(payload) > 0 {
		var a *adaptation
		if first {
			a = &af
		}
		var n int
		dst, n = m.pesPacket(dst, p.PID, first, a, h, payload)
		if first {
			n -= len(h)
			h = nil
		}
		payload = payload[n:]
		first = false
	}
	return dst
}

// pesHeader encodes a PES header: marker bits, data_alignment_indicator, PTS (and DTS).
func pesHeader(b []byte, streamID byte, p PES, payloadLen int) []byte {
	withDTS := p.DTS != p.PTS
	optional := 5
	if withDTS {
		optional = 10
	}
	length := 3 + optional + payloadLen
	if length > 0xFFFF {
		length = 0 // allowed for video elementary streams: unbounded
	}
	b = append(b, 0x00, 0x00, 0x01, streamID, byte(length>>8), byte(length), 0x84)
	if withDTS {
		b = append(b, 0xC0, 10)
		b = appendTimestamp(b, 0x3, p.PTS)
		return appendTimestamp(b, 0x1, p.DTS)
	}
	b = append(b, 0x80, 5)
	return appendTimestamp(b, 0x2, p.PTS)
}

// appendTimestamp encodes a 33-bit PTS/DTS with its 4-bit prefix and marker bits.
func appendTimestamp(b []byte, prefix byte, t int64) []byte {
	v := uint64(t) & (1<<33 - 1)
	return append(b,
		prefix<<4|byte(v>>29)&0x0E|1,
		byte(v>>22),
		byte(v>>14)|1,
		byte(v>>7),
		byte(v<<1)|1)
}

type adaptation struct {
	randomAccess bool
	pcr          int64 // -1: none
}

// pesPacket writes one packet carrying the PES header h (first packet only) and as much of
// payload as fits, stuffing the last one through its adaptation field. It returns how many bytes
// of h+payload it consumed.
func (m *Muxer) pesPacket(dst []byte, pid uint16, start bool, a *adaptation, h, payload []byte) ([]byte, int) {
	afLen := 0 // bytes of adaptation field including its length byte
	var flags byte
	if a != nil && (a.randomAccess || a.pcr >= 0) {
		afLen = 2
		if a.randomAccess {
			flags |= 0x40
		}
		if a.pcr >= 0 {
			flags |= 0x10
			afLen += 6
		}
	}
	room := PacketSize - 4 - afLen
	data := len(h) + len(payload)
	stuffing := 0
	if data < room {
		stuffing = room - data
		if afLen == 0 {
			afLen = 1 // the length byte alone stuffs one byte
			stuffing--
			if stuffing > 0 {
				afLen = 2 // length + flags, then 0xFF bytes
				stuffing--
			}
		}
		afLen += stuffing
		room = data
	}
	dst = m.header(dst, pid, start, afLen > 0)
	if afLen > 0 {
		dst = append(dst, byte(afLen-1))
		if afLen > 1 {
			dst = append(dst, flags)
			if flags&0x10 != 0 {
				base := uint64(a.pcr) & (1<<33 - 1)
				dst = append(dst, byte(base>>25), byte(base>>17), byte(base>>9), byte(base>>1), byte(base<<7)|0x7E, 0x00)
			}
			for range stuffing {
				dst = append(dst, 0xFF)
			}
		}
	}
	n := min(room, len(h))
	dst = append(dst, h[:n]...)
	dst = append(dst, payload[:room-n]...)
	return dst, room
}

// psiPacket writes a PSI packet: header, the section, 0xFF filling the rest.
func (m *Muxer) psiPacket(dst []byte, pid uint16, payload []byte) []byte {
	dst = m.header(dst, pid, true, false)
	dst = append(dst, payload...)
	for range PacketSize - 4 - len(payload) {
		dst = append(dst, 0xFF)
	}
	return dst
}

// header writes the 4-byte packet header; every packet we write has a payload, so the continuity
// counter always advances.
func (m *Muxer) header(dst []byte, pid uint16, start, withAF bool) []byte {
	cc := m.cc.next(pid)
	b1 := byte(pid>>8) & 0x1F
	if start {
		b1 |= 0x40
	}
	control := byte(0x10)
	if withAF {
		control = 0x30
	}
	return append(dst, 0x47, b1, byte(pid), control|cc)
}

// Continuity holds the continuity counter of every PID. Its zero value starts them all at 0.
type Continuity struct {
	cc [0x2000]byte // by PID (13 bits); an array, as a map lookup per packet shows in profiles
}

// next returns pid's counter for a packet with payload and advances it.
func (c *Continuity) next(pid uint16) byte {
	cc := c.cc[pid&0x1FFF]
	c.cc[pid&0x1FFF] = (cc + 1) & 0x0F
	return cc
}

// Renumber rewrites the continuity counters of whole packets muxed by another Muxer so that
// they continue c's: segments muxed concurrently, each by a Muxer of its own, become one
// continuous stream when renumbered in order. Every packet a Muxer writes carries payload, so
// each one advances its PID's counter.
func (c *Continuity) Renumber(packets []byte) {
	for i := 0; i+PacketSize <= len(packets); i += PacketSize {
		pid := uint16(packets[i+1]&0x1F)<<8 | uint16(packets[i+2])
		packets[i+3] = packets[i+3]&0xF0 | c.next(pid)
	}
}
