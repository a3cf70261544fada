package mpd

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
	"unicode/utf16"
)

// Test data shared by the golden, round-trip and schema tests.

const (
	videoKID = "6d1a4c3e-8b2f-4e5a-9c7d-0f1e2d3c4b5a"
	audioKID = "0b7e2f49-3c1d-4a86-b5e0-9d2c7f1a6e38"
)

func mustUUID(t testing.TB, s string) [16]byte {
	t.Helper()
	id, err := parseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// makePSSH builds a pssh box; version 1 (with KIDs) when kids are given.
func makePSSH(systemID [16]byte, kids [][16]byte, data []byte) []byte {
	var version byte
	body := []byte{0, 0, 0, 0}
	body = append(body, systemID[:]...)
	if len(kids) > 0 {
		version = 1
		body = binary.BigEndian.AppendUint32(body, uint32(len(kids)))
		for _, k := range kids {
			body = append(body, k[:]...)
		}
	}
	body[0] = version
	body = binary.BigEndian.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	box := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	box = append(box, "pssh"...)
	return append(box, body...)
}

// widevineData is a minimal WidevinePsshData protobuf: key_ids (field 2).
func widevineData(kid [16]byte) []byte {
	return append([]byte{0x12, 0x10}, kid[:]...)
}

// makePRO builds a PlayReady Object holding one PlayReady Header record
// (type 1, UTF-16LE XML) for kid.
func makePRO(kid [16]byte) []byte {
	// PlayReady writes KIDs as little-endian GUIDs.
	le := kid
	le[0], le[1], le[2], le[3] = kid[3], kid[2], kid[1], kid[0]
	le[4], le[5] = kid[5], kid[4]
	le[6], le[7] = kid[7], kid[6]
	header := fmt.Sprintf(`<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.0.0.0">`+
		`<DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>%s</KID>`+
		`<LA_URL>https://license.example.com/rightsmanager.asmx</LA_URL></DATA></WRMHEADER>`,
		base64.StdEncoding.EncodeToString(le[:]))
	var rec []byte
	for _, u := range utf16.Encode([]rune(header)) {
		rec = binary.LittleEndian.AppendUint16(rec, u)
	}
	pro := binary.LittleEndian.AppendUint32(nil, uint32(6+4+len(rec)))
	pro = binary.LittleEndian.AppendUint16(pro, 1) // record count
	pro = binary.LittleEndian.AppendUint16(pro, 1) // record type: PlayReady Header
	pro = binary.LittleEndian.AppendUint16(pro, uint16(len(rec)))
	return append(pro, rec...)
}

func protections(t testing.TB, kidStr string) []ContentProtection {
	kid := mustUUID(t, kidStr)
	pro := makePRO(kid)
	return []ContentProtection{
		{SchemeIDURI: SchemeMP4Protection, Value: "cenc", DefaultKID: kidStr},
		{
			SchemeIDURI: SchemeWidevine,
			Value:       "Widevine",
			PSSH:        makePSSH(mustUUID(t, SchemeWidevine[len("urn:uuid:"):]), [][16]byte{kid}, widevineData(kid)),
		},
		{
			SchemeIDURI: SchemePlayReady,
			Value:       "MSPR 2.0",
			PSSH:        makePSSH(mustUUID(t, SchemePlayReady[len("urn:uuid:"):]), nil, pro),
			PRO:         pro,
		},
	}
}

// perSegment turns durations into one S per segment, as a packager that
// has just cut the segments would pass them.
func perSegment(start uint64, ds ...uint64) []S {
	var out []S
	t := start
	for _, d := range ds {
		out = append(out, S{T: t, D: d})
		t += d
	}
	return out
}

func framesTimes(unit uint64, frames ...uint64) []uint64 {
	out := make([]uint64, len(frames))
	for i, f := range frames {
		out[i] = f * unit
	}
	return out
}

// sampleMPD is 20.04 s of AVC 640x360 at 25 fps (timescale 12800, 512
// ticks per frame) and AAC-LC 48 kHz stereo (1024-sample frames), both
// CENC-protected with Widevine and PlayReady, with GOP-driven segment
// durations that vary around two seconds.
func sampleMPD(t testing.TB) *MPD {
	video := perSegment(0, framesTimes(512, 50, 50, 50, 48, 52, 50, 50, 50, 50, 51)...)
	audio := perSegment(0, framesTimes(1024, 94, 94, 93, 94, 94, 93, 94, 94, 93, 97)...)
	return &MPD{
		Duration: 20040 * time.Millisecond,
		AdaptationSets: []AdaptationSet{
			{
				ID:                 0,
				ContentType:        "video",
				MimeType:           "video/mp4",
				SegmentAlignment:   true,
				StartWithSAP:       1,
				MaxWidth:           640,
				MaxHeight:          360,
				MaxFrameRate:       "25",
				Par:                "16:9",
				ContentProtections: protections(t, videoKID),
				Representations: []Representation{{
					ID:        "video_640x360",
					Codecs:    "avc1.64001e",
					Bandwidth: 1_184_000,
					Width:     640,
					Height:    360,
					FrameRate: "25",
					Sar:       "1:1",
					SegmentTemplate: SegmentTemplate{
						Timescale:      12800,
						Initialization: "$RepresentationID$/init.mp4",
						Media:          "$RepresentationID$/$Number$.m4s",
						Timeline:       video,
					},
				}},
			},
			{
				ID:                 1,
				ContentType:        "audio",
				MimeType:           "audio/mp4",
				Lang:               "en",
				SegmentAlignment:   true,
				StartWithSAP:       1,
				ContentProtections: protections(t, audioKID),
				Representations: []Representation{{
					ID:                "audio_en_128k",
					Codecs:            "mp4a.40.2",
					Bandwidth:         131_072,
					AudioSamplingRate: 48000,
					AudioChannels:     2,
					SegmentTemplate: SegmentTemplate{
						Timescale:      48000,
						Initialization: "$RepresentationID$/init.mp4",
						Media:          "$RepresentationID$/$Number$.m4s",
						Timeline:       audio,
					},
				}},
			},
		},
	}
}
