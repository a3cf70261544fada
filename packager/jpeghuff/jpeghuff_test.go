package jpeghuff

import (
	"errors"
	"testing"
)

// The luminance DC and AC tables of T.81 Annex K.3 (Tables K.3 and K.5), as a DHT payload.
var (
	lumaDCCounts = [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1}
	lumaDCValues = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	lumaACCounts = [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D}
)

// lumaACValues is Table K.5's HUFFVAL: run/size symbols in code order.
var lumaACValues = []byte{
	0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
	0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
	0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
	0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
	0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
	0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
	0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
	0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
	0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
	0xF9, 0xFA,
}

func dht(class, dest byte, counts [16]byte, values []byte) []byte {
	return append(append([]byte{class<<4 | dest}, counts[:]...), values...)
}

// decode reads one symbol from the top of acc, as the decoders do.
func decode(t *Table, acc uint64) (byte, uint) {
	if e := t.Lookup[acc>>(64-LookupBits)]; e != 0 {
		return byte(e), uint(e >> 8)
	}
	return t.Long(acc, 64)
}

// TestAnnexKCodes decodes codes listed in Tables K.3 and K.5, short and long.
func TestAnnexKCodes(t *testing.T) {
	tables := map[int]*Table{}
	p := append(dht(0, 0, lumaDCCounts, lumaDCValues), dht(1, 0, lumaACCounts, lumaACValues)...)
	if err := ParseDHT(p, func(class, dest int, tb *Table) { tables[class*4+dest] = tb }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		table  int
		code   string
		symbol byte
	}{
		{0, "00", 0}, {0, "010", 1}, {0, "110", 5}, {0, "111111110", 11},
		{4, "1010", 0x00}, {4, "00", 0x01}, {4, "11111111001", 0xF0}, {4, "1111111111111110", 0xFA},
		{4, "1111111110000010", 0x09}, {4, "111111110100", 0x24}, {4, "111111110101", 0x33},
	} {
		var acc uint64
		for i, b := range c.code {
			if b == '1' {
				acc |= 1 << (63 - i)
			}
		}
		acc |= 1 << (62 - len(c.code)) // a following bit must not matter
		sym, l := decode(tables[c.table], acc)
		if sym != c.symbol || l != uint(len(c.code)) {
			t.Errorf("table %d code %s: symbol 0x%02X length %d, want 0x%02X %d", c.table, c.code, sym, l, c.symbol, len(c.code))
		}
	}
}

func TestMalformedTables(t *testing.T) {
	over := [16]byte{3} // three codes of length 1
	for name, p := range map[string][]byte{
		"over-subscribed":  dht(0, 0, over, []byte{1, 2, 3}),
		"bad class":        dht(2, 0, lumaDCCounts, lumaDCValues),
		"bad destination":  dht(0, 4, lumaDCCounts, lumaDCValues),
		"truncated header": {0x00, 1, 2},
		"missing values":   dht(0, 0, lumaDCCounts, lumaDCValues[:5]),
	} {
		if err := ParseDHT(p, func(int, int, *Table) {}); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An all-ones code of 16 bits matches nothing in the DC table.
	tb, _ := New(&lumaDCCounts, lumaDCValues)
	if _, l := tb.Long(^uint64(0), 64); l != 0 {
		t.Errorf("invalid code decoded with length %d", l)
	}
	if _, l := tb.Long(^uint64(0), 12); l != 0 {
		t.Errorf("12 valid bits decoded with length %d", l)
	}
}
