package pssh

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// pbField is one decoded protobuf field; only the two wire types
// WidevinePsshData uses are supported.
type pbField struct {
	num    int
	wire   int
	varint uint64
	bytes  []byte
}

// decodePB is a deliberately separate, minimal protobuf reader so the tests
// do not judge the encoder by itself.
func decodePB(t *testing.T, b []byte) []pbField {
	t.Helper()
	var out []pbField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad field key at % x", b)
		}
		b = b[n:]
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.varint, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatalf("field %d: bad varint", f.num)
			}
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				t.Fatalf("field %d: bad length", f.num)
			}
			f.bytes = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			t.Fatalf("field %d: unexpected wire type %d", f.num, f.wire)
		}
		out = append(out, f)
	}
	return out
}

func comparePB(t *testing.T, got, want []pbField) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d fields, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.num != w.num || g.wire != w.wire || g.varint != w.varint || !bytes.Equal(g.bytes, w.bytes) {
			t.Errorf("field %d: got {num %d wire %d varint %#x bytes %q}, want {num %d wire %d varint %#x bytes %q}",
				i, g.num, g.wire, g.varint, g.bytes, w.num, w.wire, w.varint, w.bytes)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

func TestWidevineDataMatchesExample(t *testing.T) {
	kid := kidOf(t, "12ea753c-23e7-bc02-4474-b2b976c43beb")
	got := WidevineData([][16]byte{kid}, "inkaentworks", []byte("cpix-test-cid"), "cenc")

	want := mustHex(t, ""+
		"08 01"+ // algorithm = AESCTR
		"12 10 12ea753c23e7bc024474b2b976c43beb"+ // key_id
		"1a 0c 696e6b61656e74776f726b73"+ // provider "inkaentworks"
		"22 0d 637069782d746573742d636964"+ // content_id "cpix-test-cid"
		"48 e3dc959b06") // protection_scheme = 0x63656E63 'cenc'
	if !bytes.Equal(got, want) {
		t.Fatalf("WidevineData:\n got % x\nwant % x", got, want)
	}

	// Same statement, derived from the reference box: its payload without
	// the legacy track_type field (2a 02 48 44) plus our field 9.
	_, _, example, err := ParseBox(mustB64(t, widevineExampleBox))
	if err != nil {
		t.Fatal(err)
	}
	trackType := []byte{0x2a, 0x02, 'H', 'D'}
	if !bytes.HasSuffix(example, trackType) {
		t.Fatalf("example payload does not end in track_type: % x", example)
	}
	derived := append(bytes.TrimSuffix(example, trackType), 0x48, 0xe3, 0xdc, 0x95, 0x9b, 0x06)
	if !bytes.Equal(got, derived) {
		t.Errorf("WidevineData differs from example minus track_type plus protection_scheme:\n got % x\nwant % x", got, derived)
	}
}

func TestWidevineDataCBCS(t *testing.T) {
	k1 := kidOf(t, "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3")
	k2 := kidOf(t, "cbbc38b6-b50d-ab53-f826-3e06b7382aa3")
	got := WidevineData([][16]byte{k1, k2}, "", nil, "cbcs")
	want := mustHex(t, ""+
		"12 10 6bac8ec30ee3379f3d21290b3a2bc9c3"+
		"12 10 cbbc38b6b50dab53f8263e06b7382aa3"+
		"48 f3c6899b06") // 0x63626373 'cbcs', and no algorithm field
	if !bytes.Equal(got, want) {
		t.Fatalf("WidevineData cbcs:\n got % x\nwant % x", got, want)
	}
	comparePB(t, decodePB(t, got), []pbField{
		{num: 2, wire: 2, bytes: k1[:]},
		{num: 2, wire: 2, bytes: k2[:]},
		{num: 9, wire: 0, varint: 0x63626373},
	})
}

func TestWidevineDataOptionalFields(t *testing.T) {
	kid := kidOf(t, "12ea753c-23e7-bc02-4474-b2b976c43beb")

	// No scheme: neither algorithm nor protection_scheme.
	got := WidevineData([][16]byte{kid}, "", nil, "")
	if want := append([]byte{0x12, 0x10}, kid[:]...); !bytes.Equal(got, want) {
		t.Errorf("no scheme:\n got % x\nwant % x", got, want)
	}

	// Content ID only (key IDs resolved by the licence service), long enough
	// to need a two-byte length varint.
	cid := bytes.Repeat([]byte{'x'}, 200)
	got = WidevineData(nil, "prov", cid, "cens")
	comparePB(t, decodePB(t, got), []pbField{
		{num: 3, wire: 2, bytes: []byte("prov")},
		{num: 4, wire: 2, bytes: cid},
		{num: 9, wire: 0, varint: 0x63656E73},
	})
	if !bytes.HasPrefix(got[6:], []byte{0x22, 0xc8, 0x01}) {
		t.Errorf("content_id header = % x, want 22 c8 01", got[6:9])
	}

	if got := WidevineData(nil, "", nil, ""); len(got) != 0 {
		t.Errorf("empty input gave % x, want nothing", got)
	}

	cbc1 := WidevineData(nil, "", nil, "cbc1")
	comparePB(t, decodePB(t, cbc1), []pbField{{num: 9, wire: 0, varint: 0x63626331}})
}

func TestWidevineDataRejectsUnknownScheme(t *testing.T) {
	for _, s := range []string{"CENC", "cenc ", "aes", "sample-aes", "abcd"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WidevineData(scheme %q) did not panic", s)
				}
			}()
			WidevineData(nil, "", nil, s)
		}()
	}
}
