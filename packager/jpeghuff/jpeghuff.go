// Package jpeghuff reads the Huffman tables of JPEG files (ITU-T T.81 B.2.4.2) into canonical
// decoding tables (Annex C, F.2.2.3), for the optimiser (jpegopt) and the scaled decoder
// (jpegscale).
package jpeghuff

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by the errors for a DHT segment no decoder could use.
var ErrMalformed = errors.New("bad Huffman table")

// LookupBits is how many leading bits Table.Lookup resolves at once; codes of up to this
// length (nearly all symbols in practice) decode with a single table read.
const LookupBits = 9

// Table decodes one Huffman table.
type Table struct {
	// Lookup maps the next LookupBits bits to length<<8 | symbol for codes of at most
	// LookupBits bits; 0 means the code is longer (see Long).
	Lookup [1 << LookupBits]uint16
	// MaxCode[l] is the largest code of length l, or -1 when there is none (T.81 Figure
	// F.15); ValOffset[l] turns a code of length l into an index into Values.
	MaxCode   [17]int32
	ValOffset [17]int32
	Values    []byte
}

// New builds the canonical codes of T.81 Annex C (Figures C.1 and C.2) from counts (BITS: how
// many codes of each length 1..16) and values (HUFFVAL).
func New(counts *[16]byte, values []byte) (*Table, error) {
	t := &Table{Values: values}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		t.MaxCode[l] = -1
		if n == 0 {
			code <<= 1
			continue
		}
		if code+n > 1<<l {
			return nil, fmt.Errorf("%w: over-subscribed", ErrMalformed)
		}
		t.ValOffset[l] = k - code
		for range n {
			if l <= LookupBits {
				shift := LookupBits - l
				entry := uint16(l)<<8 | uint16(values[k])
				for j := code << shift; j < (code+1)<<shift; j++ {
					t.Lookup[j] = entry
				}
			}
			code++
			k++
		}
		t.MaxCode[l] = code - 1
		code <<= 1
	}
	return t, nil
}

// Long decodes a code longer than LookupBits from the top of acc, of which n bits are valid.
// It returns the symbol and the code's length, or length 0 when no code of at most min(n, 16)
// bits matches: an invalid code when n ≥ 16, else possibly data that ends too early.
func (t *Table) Long(acc uint64, n uint) (byte, uint) {
	for l := uint(LookupBits + 1); l <= min(n, 16); l++ {
		if code := int32(acc >> (64 - l)); code <= t.MaxCode[l] {
			return t.Values[t.ValOffset[l]+code], l
		}
	}
	return 0, 0
}

// ParseDHT reads the payload of a DHT segment, which may define several tables, and calls
// define with each table's class (0 DC, 1 AC) and destination (0-3).
func ParseDHT(p []byte, define func(class, dest int, t *Table)) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return fmt.Errorf("%w: truncated DHT segment", ErrMalformed)
		}
		class, dest := int(p[0]>>4), int(p[0]&15)
		if class > 1 || dest > 3 {
			return fmt.Errorf("%w: class %d, destination %d", ErrMalformed, class, dest)
		}
		var counts [16]byte
		copy(counts[:], p[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 || len(p) < 17+total {
			return fmt.Errorf("%w: %d symbols", ErrMalformed, total)
		}
		t, err := New(&counts, p[17:17+total])
		if err != nil {
			return err
		}
		define(class, dest, t)
		p = p[17+total:]
	}
	return nil
}
