package ts

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestCRC32(t *testing.T) {
	// The CRC-32/MPEG-2 check value (catalogue of parametrised CRC algorithms).
	if got := CRC32([]byte("123456789")); got != 0x0376E6E7 {
		t.Fatalf("CRC32 = %08X, want 0376E6E7", got)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTablesByteExact checks the PAT against the widely published PAT of a one-program stream
// whose PMT is on PID 0x1000 (the one ffmpeg's muxer writes, CRC included), and a SAMPLE-AES PMT
// assembled field by field from ISO/IEC 13818-1 2.4.4.8 and Apple's signalling.
func TestTablesByteExact(t *testing.T) {
	aacSetup := []byte{0x11, 0x90} // AAC-LC 48 kHz stereo AudioSpecificConfig
	m, err := NewMuxer([]Stream{
		{PID: 0x100, Type: StreamTypeH264SampleAES, StreamID: StreamIDVideo, Descriptors: PrivateDataIndicator("zavc")},
		{PID: 0x101, Type: StreamTypeAACSampleAES, StreamID: StreamIDAudio,
			Descriptors: append(PrivateDataIndicator("aacd"), Registration("apad", AudioSetup("zaac", 0, aacSetup))...)},
	}, 0x100)
	if err != nil {
		t.Fatal(err)
	}
	out := m.WriteTables(nil)
	if len(out) != 2*PacketSize {
		t.Fatalf("%d bytes of tables", len(out))
	}
	pat := unhex(t, "474000100000b00d0001c100000001f0002ab104b2")
	if !bytes.Equal(out[:len(pat)], pat) || bytes.Count(out[len(pat):PacketSize], []byte{0xFF}) != PacketSize-len(pat) {
		t.Fatalf("PAT packet\n%x\nwant\n%x + 0xFF", out[:PacketSize], pat)
	}
	section := unhex(t, "02"+ // table_id: TS_program_map_section
		"b033"+ // section_syntax_indicator, '0', reserved, section_length 51
		"0001"+ // program_number 1
		"c1"+ // reserved, version 0, current_next_indicator
		"0000"+ // section_number, last_section_number
		"e100"+ // reserved, PCR_PID 0x100
		"f000"+ // reserved, program_info_length 0
		"db"+"e100"+"f006"+"0f04"+hex.EncodeToString([]byte("zavc"))+ // H.264 SAMPLE-AES, zavc
		"cf"+"e101"+"f016"+"0f04"+hex.EncodeToString([]byte("aacd"))+ // AAC SAMPLE-AES, aacd
		"050e"+hex.EncodeToString([]byte("apad"))+ // registration descriptor, 14 bytes
		hex.EncodeToString([]byte("zaac"))+"0000"+"01"+"02"+"1190") // audio_type, priming, version, setup
	pmt := out[PacketSize:]
	wantHeader := unhex(t, "475000"+"10"+"00") // PUSI, PID 0x1000, payload only, CC 0; pointer_field
	if !bytes.Equal(pmt[:5], wantHeader) || !bytes.Equal(pmt[5:5+len(section)], section) {
		t.Fatalf("PMT packet\n%x\nwant section\n%x", pmt[:5+len(section)+4], section)
	}
	if CRC32(pmt[5:5+len(section)+4]) != 0 {
		t.Fatal("PMT CRC_32 does not check")
	}
}

func TestPMTMustFitOnePacket(t *testing.T) {
	big := Registration("apad", AudioSetup("zaac", 0, make([]byte, 200)))
	if _, err := NewMuxer([]Stream{{PID: 0x100, Type: 0xCF, StreamID: 0xC0, Descriptors: big}}, 0x100); err == nil {
		t.Fatal("a PMT larger than one packet was accepted")
	}
	if _, err := NewMuxer([]Stream{{PID: 0x100, Type: 0x1B, StreamID: 0xE0}}, 0x101); err == nil {
		t.Fatal("a PCR PID that is no stream was accepted")
	}
}

// parsed is what a reader reassembles from our packets, written against ISO/IEC 13818-1 2.4.3.
type parsed struct {
	pes    map[uint16][][]byte // complete PES packets per PID
	pcrs   []int64
	ra     []bool // random_access_indicator of each PES start
	starts int
}

func parse(t *testing.T, b []byte) parsed {
	t.Helper()
	p := parsed{pes: map[uint16][][]byte{}}
	cc := map[uint16]int{}
	if len(b)%PacketSize != 0 {
		t.Fatalf("%d bytes is not a whole number of packets", len(b))
	}
	for off := 0; off < len(b); off += PacketSize {
		pk := b[off : off+PacketSize]
		if pk[0] != 0x47 {
			t.Fatalf("packet %d: sync byte %02x", off/PacketSize, pk[0])
		}
		pid := uint16(pk[1]&0x1F)<<8 | uint16(pk[2])
		pusi := pk[1]&0x40 != 0
		afc := pk[3] >> 4 & 3
		c := int(pk[3] & 0x0F)
		if prev, ok := cc[pid]; ok && c != (prev+1)&0x0F {
			t.Fatalf("packet %d PID %#x: continuity counter %d after %d", off/PacketSize, pid, c, prev)
		}
		cc[pid] = c
		payload := pk[4:]
		if afc&2 != 0 {
			n := int(pk[4])
			af := pk[5 : 5+n]
			if n > 0 {
				if pusi {
					p.ra = append(p.ra, af[0]&0x40 != 0)
				}
				if af[0]&0x10 != 0 {
					base := int64(af[1])<<25 | int64(af[2])<<17 | int64(af[3])<<9 | int64(af[4])<<1 | int64(af[5]>>7)
					p.pcrs = append(p.pcrs, base)
				}
			} else if pusi {
				p.ra = append(p.ra, false)
			}
			payload = pk[5+n:]
		} else if pusi && pid != PIDPAT && pid != PIDPMT {
			p.ra = append(p.ra, false)
		}
		if pid == PIDPAT || pid == PIDPMT {
			continue
		}
		if pusi {
			p.pes[pid] = append(p.pes[pid], nil)
			p.starts++
		}
		list := p.pes[pid]
		list[len(list)-1] = append(list[len(list)-1], payload...)
	}
	return p
}

func timestamp(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// TestPESPacketisation writes PES packets of every size around the packet boundaries and reads
// them back: continuity counters, stuffing, PES header fields, PTS/DTS and PCR.
func TestPESPacketisation(t *testing.T) {
	m, err := NewMuxer([]Stream{{PID: 0x100, Type: StreamTypeH264, StreamID: StreamIDVideo}, {PID: 0x101, Type: StreamTypeADTS, StreamID: StreamIDAudio}}, 0x100)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var want [][]byte
	for size := 1; size < 3*PacketSize; size++ {
		payload := bytes.Repeat([]byte{byte(size)}, size)
		pts := int64(size)*3600 + 1<<32 // beyond 32 bits: the 33rd bit must survive
		out = m.WritePES(out, PES{PID: 0x100, PTS: pts, DTS: pts - 3600, PCR: pts - 7200, RandomAccess: size%2 == 0, Payload: payload})
		out = m.WritePES(out, PES{PID: 0x101, PTS: pts, DTS: pts, Payload: payload})
		want = append(want, payload)
	}
	p := parse(t, out)
	for i, pes := range p.pes[0x100] {
		size := i + 1
		pts := int64(size)*3600 + 1<<32
		if !bytes.Equal(pes[:4], []byte{0, 0, 1, StreamIDVideo}) || pes[6] != 0x84 || pes[7] != 0xC0 || pes[8] != 10 {
			t.Fatalf("video PES %d header %x", i, pes[:9])
		}
		if got := int(pes[4])<<8 | int(pes[5]); got != len(pes)-6 {
			t.Fatalf("video PES %d: PES_packet_length %d, %d bytes follow", i, got, len(pes)-6)
		}
		if timestamp(pes[9:]) != pts || timestamp(pes[14:]) != pts-3600 || pes[9]>>4 != 3 || pes[14]>>4 != 1 {
			t.Fatalf("video PES %d: PTS %d DTS %d, want %d %d", i, timestamp(pes[9:]), timestamp(pes[14:]), pts, pts-3600)
		}
		if !bytes.Equal(pes[19:], want[i]) {
			t.Fatalf("video PES %d payload differs", i)
		}
		if p.pcrs[i] != pts-7200 {
			t.Fatalf("PCR %d = %d, want %d", i, p.pcrs[i], pts-7200)
		}
	}
	for i, pes := range p.pes[0x101] {
		if pes[3] != StreamIDAudio || pes[7] != 0x80 || pes[8] != 5 || pes[9]>>4 != 2 || !bytes.Equal(pes[14:], want[i]) {
			t.Fatalf("audio PES %d: header %x or payload differs", i, pes[:14])
		}
	}
	if len(p.pes[0x100]) != len(want) || len(p.pes[0x101]) != len(want) || len(p.pcrs) != len(want) {
		t.Fatalf("%d video, %d audio PES, %d PCRs; want %d each", len(p.pes[0x100]), len(p.pes[0x101]), len(p.pcrs), len(want))
	}
	for i := 0; i < len(want); i++ {
		if p.ra[2*i] != ((i+1)%2 == 0) {
			t.Fatalf("video PES %d: random_access_indicator %v", i, p.ra[2*i])
		}
	}
}

// A video PES longer than 65535 bytes has PES_packet_length 0 (unbounded).
func TestLongVideoPES(t *testing.T) {
	m, _ := NewMuxer([]Stream{{PID: 0x100, Type: StreamTypeH264, StreamID: StreamIDVideo}}, 0x100)
	payload := bytes.Repeat([]byte{7}, 70000)
	p := parse(t, m.WritePES(nil, PES{PID: 0x100, PTS: 1, DTS: 1, PCR: -1, Payload: payload}))
	pes := p.pes[0x100][0]
	if pes[4] != 0 || pes[5] != 0 || !bytes.Equal(pes[14:], payload) || len(p.pcrs) != 0 {
		t.Fatalf("length %x, payload equal %v, PCRs %d", pes[4:6], bytes.Equal(pes[14:], payload), len(p.pcrs))
	}
}

// TestContinuityRenumber: segments muxed by separate Muxers and renumbered in order carry the
// same packets as one Muxer writing them all.
func TestContinuityRenumber(t *testing.T) {
	streams := []Stream{{PID: 0x100, Type: StreamTypeH264, StreamID: StreamIDVideo}, {PID: 0x101, Type: StreamTypeADTS, StreamID: StreamIDAudio}}
	one, err := NewMuxer(streams, 0x100)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []byte
	var cc Continuity
	for seg := range 5 {
		each, err := NewMuxer(streams, 0x100)
		if err != nil {
			t.Fatal(err)
		}
		want = one.WriteTables(want)
		part := each.WriteTables(nil)
		for i := range 3 + seg {
			p := PES{PID: 0x100 + uint16(i%2), PTS: int64(90000 + i*3600), DTS: int64(90000 + i*3600), PCR: -1, Payload: bytes.Repeat([]byte{byte(i)}, 500*i+7)}
			want = one.WritePES(want, p)
			part = each.WritePES(part, p)
		}
		cc.Renumber(part)
		got = append(got, part...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("renumbered segments differ from one muxer's stream")
	}
}
