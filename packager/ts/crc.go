package ts

// crcTable is the MSB-first table of the MPEG-2 CRC-32 (polynomial 0x04C11DB7).
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC32 is the CRC_32 of PSI sections (ISO/IEC 13818-1 Annex A): initial value 0xFFFFFFFF, no
// reflection, no final XOR. A whole section including its CRC checks to 0.
func CRC32(b []byte) uint32 {
	c := uint32(0xFFFFFFFF)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
