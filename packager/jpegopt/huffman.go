package jpegopt

import "slices"

// encTable is a Huffman table for encoding: for every symbol, its code shifted left to
// make room for the symbol's extra bits, and the length of both, so that a symbol and its
// extra bits go out in one write.
type encTable struct {
	code   [256]uint32
	length [256]uint8
}

// optimalTable returns BITS and HUFFVAL (T.81 B.2.4.2) of the optimal length-limited code
// for the symbol frequencies freq, following T.81 Annex K.2 (Figures K.1 to K.4).
func optimalTable(freq *[256]uint32) (counts [16]byte, values []byte) {
	const reserved = 256
	// Figure K.1: a reserved symbol with frequency 1 takes part in the tree so that no real
	// symbol gets a code of all 1 bits, which could not be told from the 1-bit padding
	// before a marker (F.1.2.3).
	var f [257]uint64
	var codeSize [257]int
	var others [257]int
	for i := range f {
		if i < 256 {
			f[i] = uint64(freq[i])
		}
		others[i] = -1
	}
	f[reserved] = 1
	// The least frequency is V1 and the next least V2; a tie goes to the larger symbol
	// value, which keeps the reserved symbol among the longest codes so that dropping it
	// (Figure K.3) is safe. A heap ordered that way makes the same choices as the
	// figure's linear searches.
	h := symbolHeap{f: &f}
	for i := range f {
		if f[i] > 0 {
			h.push(i)
		}
	}
	for len(h.items) > 1 {
		v1, v2 := h.pop(), h.pop()
		f[v1] += f[v2]
		f[v2] = 0
		h.push(v1)
		for {
			codeSize[v1]++
			if others[v1] < 0 {
				break
			}
			v1 = others[v1]
		}
		others[v1] = v2
		for {
			codeSize[v2]++
			if others[v2] < 0 {
				break
			}
			v2 = others[v2]
		}
	}

	// Figure K.2: count the codes of each size. A tree over 257 leaves is at most 256 deep.
	var bits [258]int
	for _, s := range codeSize {
		if s > 0 {
			bits[s]++
		}
	}
	// Figure K.3 (Adjust_BITS): move pairs of codes longer than 16 bits up the tree, each
	// time splitting a shorter code into two, until no code exceeds 16 bits.
	for i := len(bits) - 1; i > 16; {
		if bits[i] == 0 {
			i--
			continue
		}
		j := i - 2
		for bits[j] == 0 {
			j--
		}
		bits[i] -= 2
		bits[i-1]++
		bits[j+1] += 2
		bits[j]--
	}
	// Then remove the reserved code point, which is the last code of the longest length.
	for i := 16; i > 0; i-- {
		if bits[i] > 0 {
			bits[i]--
			break
		}
	}
	for i := 1; i <= 16; i++ {
		counts[i-1] = byte(bits[i])
	}
	// Figure K.4 (Sort_input): symbols ordered by their code size before adjustment, then by
	// value; assigning them to the adjusted BITS in this order keeps frequent symbols short.
	for sym := range 256 {
		if codeSize[sym] > 0 {
			values = append(values, byte(sym))
		}
	}
	slices.SortStableFunc(values, func(a, b byte) int { return codeSize[a] - codeSize[b] })
	return counts, values
}

// assign gives the symbols of the table described by counts and values the canonical
// codes of T.81 Annex C (Figures C.1 to C.3). extraLen gives the number of extra bits that
// follow each symbol in the entropy-coded data.
func (t *encTable) assign(counts *[16]byte, values []byte, extraLen func(sym byte) uint8) {
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for range int(counts[l-1]) {
			sym := values[k]
			extra := extraLen(sym)
			t.code[sym] = code << extra
			t.length[sym] = uint8(l) + extra
			code++
			k++
		}
		code <<= 1
	}
}

// dcExtraLen is the number of extra bits after a DC difference category (T.81 F.1.2.1.1):
// the category is the bit size of the difference. Progressive DC first scans code the same
// way (G.1.2.1).
func dcExtraLen(sym byte) uint8 { return sym }

// acExtraLen is the number of extra bits after an AC symbol RRRRSSSS: SSSS bits of
// coefficient (T.81 F.1.2.2.1), none for ZRL, and RRRR bits of run length for the EOBn
// symbols of progressive scans (G.1.2.2, Table G.1).
func acExtraLen(sym byte) uint8 {
	r, s := sym>>4, sym&15
	if s == 0 && r != 15 {
		return r
	}
	return s
}

// symbolHeap is a binary min-heap of symbols ordered by frequency, then by larger value.
type symbolHeap struct {
	f     *[257]uint64
	items []int
}

func (h *symbolHeap) less(a, b int) bool {
	fa, fb := h.f[h.items[a]], h.f[h.items[b]]
	return fa < fb || fa == fb && h.items[a] > h.items[b]
}

func (h *symbolHeap) push(sym int) {
	h.items = append(h.items, sym)
	for i := len(h.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

func (h *symbolHeap) pop() int {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < last && h.less(l, least) {
			least = l
		}
		if r < last && h.less(r, least) {
			least = r
		}
		if least == i {
			return top
		}
		h.items[i], h.items[least] = h.items[least], h.items[i]
		i = least
	}
}
