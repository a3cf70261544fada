package pssh

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"
)

// widevineExampleBox is a Widevine pssh box issued by a CPIX key service
// (INKA Entworks): algorithm AESCTR, key_id 12ea753c-23e7-bc02-4474-b2b976c43beb,
// provider "inkaentworks", content_id "cpix-test-cid", track_type "HD".
const widevineExampleBox = "AAAAVXBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAADUIARIQEup1PCPnvAJEdLK5dsQ76xoMaW5rYWVudHdvcmtzIg1jcGl4LXRlc3QtY2lkKgJIRA=="

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 in test: %v", err)
	}
	return b
}

func kidOf(t testing.TB, s string) [16]byte {
	t.Helper()
	var k [16]byte
	clean := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			clean = append(clean, s[i])
		}
	}
	if len(clean) != 32 {
		t.Fatalf("bad UUID literal in test: %q", s)
	}
	for i := range k {
		var v byte
		for _, c := range clean[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= c - '0'
			case c >= 'a' && c <= 'f':
				v |= c - 'a' + 10
			default:
				t.Fatalf("bad UUID literal in test: %q", s)
			}
		}
		k[i] = v
	}
	return k
}

// boxV1 builds a version 1 pssh box by hand, independently of Box, so the
// parser can be checked against the layout rather than against itself.
func boxV1(sys SystemID, kids [][16]byte, data []byte) []byte {
	size := 32 + 4 + 16*len(kids) + len(data)
	b := binary.BigEndian.AppendUint32(nil, uint32(size))
	b = append(b, "pssh"...)
	b = append(b, 1, 0, 0, 0)
	b = append(b, sys[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(kids)))
	for _, k := range kids {
		b = append(b, k[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func TestSystemIDStrings(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   SystemID
		want string
	}{
		{"Widevine", Widevine, "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"},
		{"PlayReady", PlayReady, "9a04f079-9840-4286-ab92-e65be0885f95"},
		{"FairPlay", FairPlay, "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"},
	} {
		if got := tc.id.String(); got != tc.want {
			t.Errorf("%s.String() = %q, want %q", tc.name, got, tc.want)
		}
		if got := tc.id.URN(); got != "urn:uuid:"+tc.want {
			t.Errorf("%s.URN() = %q, want %q", tc.name, got, "urn:uuid:"+tc.want)
		}
	}
}

func TestBoxLayout(t *testing.T) {
	data := []byte("payload bytes")
	b := Box(PlayReady, data)

	if len(b) != 32+len(data) {
		t.Fatalf("len = %d, want %d", len(b), 32+len(data))
	}
	if got := binary.BigEndian.Uint32(b[0:4]); got != uint32(len(b)) {
		t.Errorf("size field = %d, want %d", got, len(b))
	}
	if string(b[4:8]) != "pssh" {
		t.Errorf("type = %q, want \"pssh\"", b[4:8])
	}
	if !bytes.Equal(b[8:12], []byte{0, 0, 0, 0}) {
		t.Errorf("version/flags = % x, want 00 00 00 00", b[8:12])
	}
	if !bytes.Equal(b[12:28], PlayReady[:]) {
		t.Errorf("system ID = % x, want % x", b[12:28], PlayReady[:])
	}
	if got := binary.BigEndian.Uint32(b[28:32]); got != uint32(len(data)) {
		t.Errorf("data size = %d, want %d", got, len(data))
	}
	if !bytes.Equal(b[32:], data) {
		t.Errorf("data = %q, want %q", b[32:], data)
	}

	empty := Box(Widevine, nil)
	want := append([]byte{0, 0, 0, 32, 'p', 's', 's', 'h', 0, 0, 0, 0}, Widevine[:]...)
	want = append(want, 0, 0, 0, 0)
	if !bytes.Equal(empty, want) {
		t.Errorf("empty box = % x, want % x", empty, want)
	}
}

func TestParseBoxWidevineExample(t *testing.T) {
	box := mustB64(t, widevineExampleBox)
	sys, kids, data, err := ParseBox(box)
	if err != nil {
		t.Fatalf("ParseBox: %v", err)
	}
	if sys != Widevine {
		t.Errorf("system = %s, want Widevine", sys)
	}
	if kids != nil {
		t.Errorf("kids = %d entries, want none for a version 0 box", len(kids))
	}
	if len(data) != 0x35 {
		t.Errorf("data is %d bytes, want 53", len(data))
	}

	// The payload, field by field.
	f := decodePB(t, data)
	wantKID := kidOf(t, "12ea753c-23e7-bc02-4474-b2b976c43beb")
	want := []pbField{
		{num: 1, wire: 0, varint: 1},
		{num: 2, wire: 2, bytes: wantKID[:]},
		{num: 3, wire: 2, bytes: []byte("inkaentworks")},
		{num: 4, wire: 2, bytes: []byte("cpix-test-cid")},
		{num: 5, wire: 2, bytes: []byte("HD")},
	}
	comparePB(t, f, want)

	// And back: Box must rebuild the original byte for byte.
	if got := Box(sys, data); !bytes.Equal(got, box) {
		t.Errorf("Box(ParseBox(example)) differs:\n got % x\nwant % x", got, box)
	}
}

func TestParseBoxVersion1(t *testing.T) {
	k1 := kidOf(t, "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3")
	k2 := kidOf(t, "cbbc38b6-b50d-ab53-f826-3e06b7382aa3")
	data := []byte{0x12, 0x10}
	box := boxV1(Widevine, [][16]byte{k1, k2}, data)

	sys, kids, got, err := ParseBox(box)
	if err != nil {
		t.Fatalf("ParseBox: %v", err)
	}
	if sys != Widevine {
		t.Errorf("system = %s, want Widevine", sys)
	}
	if len(kids) != 2 || kids[0] != k1 || kids[1] != k2 {
		t.Errorf("kids = %v, want [%s %s]", kids, formatUUID(k1), formatUUID(k2))
	}
	if !bytes.Equal(got, data) {
		t.Errorf("data = % x, want % x", got, data)
	}

	// A version 1 box with no KIDs and no data is legal.
	if _, kids, data, err := ParseBox(boxV1(PlayReady, nil, nil)); err != nil || len(kids) != 0 || len(data) != 0 {
		t.Errorf("empty v1 box: kids=%d data=%d err=%v", len(kids), len(data), err)
	}
}

func TestParseBoxSizeForms(t *testing.T) {
	data := []byte("abc")
	normal := Box(Widevine, data)

	// size == 0: the box runs to the end of the input.
	zero := append([]byte{}, normal...)
	binary.BigEndian.PutUint32(zero[0:4], 0)

	// size == 1: a 64-bit largesize follows the type.
	large := binary.BigEndian.AppendUint32(nil, 1)
	large = append(large, "pssh"...)
	large = binary.BigEndian.AppendUint64(large, uint64(len(normal)+8))
	large = append(large, normal[8:]...)

	for name, b := range map[string][]byte{"size0": zero, "largesize": large} {
		sys, _, got, err := ParseBox(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if sys != Widevine || !bytes.Equal(got, data) {
			t.Errorf("%s: got system %s data %q", name, sys, got)
		}
	}
}

func TestParseBoxRoundTrip(t *testing.T) {
	pro, err := PlayReadyObject([]PlayReadyKey{{KID: kidOf(t, "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3"), Key: testKey1}}, "cenc", "https://pr.example.com/rightsmanager.asmx")
	if err != nil {
		t.Fatal(err)
	}
	kid := kidOf(t, "12ea753c-23e7-bc02-4474-b2b976c43beb")
	for _, tc := range []struct {
		sys  SystemID
		data []byte
	}{
		{Widevine, WidevineData([][16]byte{kid}, "p", []byte("c"), "cbcs")},
		{PlayReady, pro},
		{FairPlay, nil},
		{Widevine, bytes.Repeat([]byte{0xAB}, 70000)},
	} {
		sys, kids, data, err := ParseBox(Box(tc.sys, tc.data))
		if err != nil {
			t.Errorf("%s: %v", tc.sys, err)
			continue
		}
		if sys != tc.sys || kids != nil || !bytes.Equal(data, tc.data) {
			t.Errorf("%s: round trip mismatch (system %s, %d kids, %d data bytes)", tc.sys, sys, len(kids), len(data))
		}
	}
}

func TestParseBoxCopies(t *testing.T) {
	box := Box(Widevine, []byte{1, 2, 3})
	_, _, data, err := ParseBox(box)
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 9
	if box[32] != 1 {
		t.Error("ParseBox data aliases its input")
	}
}

func TestParseBoxErrors(t *testing.T) {
	good := Box(Widevine, []byte{1, 2, 3, 4})
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }

	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errTruncated},
		{"seven bytes", good[:7], errTruncated},
		{"wrong type", mod(func(b []byte) []byte { copy(b[4:8], "moov"); return b }), errNotPSSH},
		{"version 2", mod(func(b []byte) []byte { b[8] = 2; return b }), errBadVersion},
		{"trailing byte", append(append([]byte{}, good...), 0), errBadLength},
		{"cut short", good[:len(good)-1], errBadLength},
		{"size too small", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0:4], 8); return b }), errBadLength},
		{"header only", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0:4], 20); return b[:20] }), errTruncated},
		{"no DataSize", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[0:4], 28); return b[:28] }), errTruncated},
		{"DataSize too big", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:32], 5); return b }), errBadLength},
		{"DataSize too small", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:32], 3); return b }), errBadLength},
		{"DataSize huge", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:32], 0xFFFFFFFF); return b }), errBadLength},
		{"largesize missing", []byte{0, 0, 0, 1, 'p', 's', 's', 'h', 0, 0}, errTruncated},
		{"largesize wrong", func() []byte {
			b := binary.BigEndian.AppendUint32(nil, 1)
			b = append(b, "pssh"...)
			b = binary.BigEndian.AppendUint64(b, 1<<63)
			return append(b, good[8:]...)
		}(), errBadLength},
		{"v1 KID_count huge", func() []byte {
			b := boxV1(Widevine, [][16]byte{{1}}, nil)
			binary.BigEndian.PutUint32(b[28:32], 0xFFFFFFFF)
			return b
		}(), errBadLength},
		{"v1 KID_count one too many", func() []byte {
			b := boxV1(Widevine, [][16]byte{{1}}, nil)
			binary.BigEndian.PutUint32(b[28:32], 2)
			return b
		}(), errBadLength},
		{"v1 no KID_count", func() []byte {
			b := boxV1(Widevine, nil, nil)[:28]
			binary.BigEndian.PutUint32(b[0:4], 28)
			return b
		}(), errTruncated},
	} {
		sys, kids, data, err := ParseBox(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if sys != (SystemID{}) || kids != nil || data != nil {
			t.Errorf("%s: non-zero results returned with error", tc.name)
		}
	}
}
