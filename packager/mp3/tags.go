package mp3

import (
	"encoding/binary"
)

const (
	id3v2HeaderSize = 10
	id3v1Size       = 128
	id3v1ExtSize    = 227 // "TAG+" enhanced ID3v1 block
	apeFooterSize   = 32
	lyrics3EndSize  = 15 // 6-digit size + "LYRICS200"
)

// id3v2Size returns the total size of the ID3v2 tag whose 10-byte header is
// b (header, body, and footer if flagged), or 0 if b is not a plausible ID3v2
// header. The body size is "synchsafe" (7 bits per byte), so a byte with the
// top bit set means this is not a tag header.
func id3v2Size(b []byte) int64 {
	if len(b) < id3v2HeaderSize || b[0] != 'I' || b[1] != 'D' || b[2] != '3' {
		return 0
	}
	// Version bytes are never 0xFF (ID3v2.0 §3.1); ffmpeg checks the same.
	if b[3] == 0xFF || b[4] == 0xFF || (b[6]|b[7]|b[8]|b[9])&0x80 != 0 {
		return 0
	}
	n := int64(id3v2HeaderSize) + (int64(b[6])<<21 | int64(b[7])<<14 | int64(b[8])<<7 | int64(b[9]))
	if b[3] >= 4 && b[5]&0x10 != 0 { // ID3v2.4 footer present
		n += id3v2HeaderSize
	}
	return n
}

// trailer describes the tags found at the end of a file.
type trailer struct {
	start int64 // first byte of the trailing tags (= file size if none)
	id3v1 bool
	apev2 bool
}

// A tagFinder reports the size of a tag that ends exactly at end and starts
// no earlier than floor, or 0 if there is none.
type tagFinder func(rd *blockReader, floor, end int64) (int64, error)

// readTrailer finds the tags at the end of the file, working backwards from
// size and never below floor (the end of the leading ID3v2 tag). Order in
// the wild: [APEv2 | Lyrics3v2 | ID3v2-with-footer]* then [TAG+] ID3v1. Each
// kind is accepted at most once, so a hostile file cannot make us loop.
// Without this, the scan would have to resync over these tags, which hold
// arbitrary bytes (APE cover art) that could pass for frames.
func readTrailer(rd *blockReader, floor, size int64) (trailer, error) {
	t := trailer{start: size}
	end := size
	if end-floor >= id3v1Size {
		b, err := rd.at(end-id3v1Size, 3)
		if err != nil {
			return t, err
		}
		if string(b[:3]) == "TAG" {
			t.id3v1 = true
			end -= id3v1Size
			// The "enhanced" extension sits right before it.
			if end-floor >= id3v1ExtSize {
				if b, err = rd.at(end-id3v1ExtSize, 4); err != nil {
					return t, err
				}
				if string(b[:4]) == "TAG+" {
					end -= id3v1ExtSize
				}
			}
		}
	}
	finders := [...]tagFinder{apeSize, lyrics3Size, id3v2FooterSize}
	var found [len(finders)]bool
	for more := true; more; {
		more = false
		for i, find := range finders {
			if found[i] {
				continue
			}
			n, err := find(rd, floor, end)
			if err != nil {
				return t, err
			}
			if n > 0 {
				found[i], more = true, true
				end -= n
			}
		}
	}
	t.apev2 = found[0]
	t.start = end
	return t, nil
}

// apeSize finds an APEv2 tag by its footer.
func apeSize(rd *blockReader, floor, end int64) (int64, error) {
	if end-floor < apeFooterSize {
		return 0, nil
	}
	b, err := rd.at(end-apeFooterSize, apeFooterSize)
	if err != nil || string(b[:8]) != "APETAGEX" {
		return 0, err
	}
	// The size field counts items and footer, not the optional header.
	n := int64(binary.LittleEndian.Uint32(b[12:]))
	if binary.LittleEndian.Uint32(b[20:])&(1<<31) != 0 {
		n += apeFooterSize
	}
	if n < apeFooterSize || n > end-floor {
		return 0, nil // implausible: leave these bytes to the frame scan
	}
	return n, nil
}

// lyrics3Size finds a Lyrics3v2 tag: "LYRICSBEGIN" ... 6-digit size
// "LYRICS200". The size covers everything before the size field.
func lyrics3Size(rd *blockReader, floor, end int64) (int64, error) {
	if end-floor < lyrics3EndSize+11 {
		return 0, nil
	}
	b, err := rd.at(end-lyrics3EndSize, lyrics3EndSize)
	if err != nil || string(b[6:lyrics3EndSize]) != "LYRICS200" {
		return 0, err
	}
	n, ok := atoi6(b[:6])
	n += lyrics3EndSize
	if !ok || n < lyrics3EndSize+11 || n > end-floor {
		return 0, nil
	}
	if b, err = rd.at(end-n, 11); err != nil || string(b[:11]) != "LYRICSBEGIN" {
		return 0, err
	}
	return n, nil
}

// id3v2FooterSize finds an ID3v2.4 tag appended at the end, which has a
// footer: a copy of the header with "3DI" instead of "ID3".
func id3v2FooterSize(rd *blockReader, floor, end int64) (int64, error) {
	if end-floor < 2*id3v2HeaderSize {
		return 0, nil
	}
	b, err := rd.at(end-id3v2HeaderSize, id3v2HeaderSize)
	if err != nil || string(b[:3]) != "3DI" {
		return 0, err
	}
	var hdr [id3v2HeaderSize]byte
	copy(hdr[:], b)
	copy(hdr[:], "ID3")
	n := id3v2Size(hdr[:])
	if n < 2*id3v2HeaderSize || n > end-floor {
		return 0, nil
	}
	if b, err = rd.at(end-n, 3); err != nil || string(b[:3]) != "ID3" {
		return 0, err
	}
	return n, nil
}

func atoi6(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
