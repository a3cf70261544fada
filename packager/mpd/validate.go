package mpd

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
)

// Patterns of the schema's simple types, checked before writing so that a
// bad value is reported with its field instead of as an xmllint failure later.
var (
	// FrameRateType.
	frameRateRe = regexp.MustCompile(`^[0-9]+(/[1-9][0-9]*)?$`)
	// RatioType allows empty sides ("[0-9]*:[0-9]*"); a ratio missing a
	// side means nothing, so both are required here.
	ratioRe = regexp.MustCompile(`^[0-9]+:[0-9]+$`)
	// xs:language.
	languageRe = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)
)

var rfc6838ContentTypes = map[string]bool{
	"text": true, "image": true, "audio": true, "video": true, "application": true, "font": true,
}

// cencSchemes are the protection scheme 4CCs of ISO/IEC 23001-7.
var cencSchemes = map[string]bool{"cenc": true, "cbcs": true, "cens": true, "cbc1": true}

func checkUint32(name string, v int) error {
	if v < 0 || uint64(v) > math.MaxUint32 {
		return fmt.Errorf("%s %d not in 0..%d", name, v, uint64(math.MaxUint32))
	}
	return nil
}

// isXMLSpaceOrZ matches what StringNoWhitespaceType forbids.
func isXMLSpaceOrZ(r rune) bool {
	return r == '\r' || r == '\n' || r == '\t' || r == ' ' || unicode.In(r, unicode.Z)
}

// checkCodecs accepts an RFC 6381 simp-list as the schema's CodecsType does:
// comma-separated, each entry made of RFC 2045 token characters. Players
// hand @codecs to MediaSource.isTypeSupported, so a missing or mangled value
// makes the track unplayable rather than merely untidy.
func checkCodecs(s string) error {
	if s == "" {
		return errors.New("codecs is required")
	}
	for _, c := range strings.Split(s, ",") {
		if c == "" {
			return fmt.Errorf("codecs %q has an empty entry", s)
		}
		for i := 0; i < len(c); i++ {
			if !isCodecsTokenChar(c[i]) {
				return fmt.Errorf("codecs %q: character %q not allowed", s, c[i])
			}
		}
	}
	return nil
}

func isCodecsTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("$-_.+^|'`%!*#\\~&", b) >= 0
}

// checkTemplate checks a SegmentTemplate string against 23009-1's
// identifiers. A typo such as $Numbr$ would otherwise go out verbatim and
// every segment request would 404. media must contain exactly one of
// $Number$ and $Time$ (otherwise all segments share one URL, or the address
// is ambiguous); initialization must contain neither, since there is only
// one init segment.
func checkTemplate(t string, media bool) error {
	var hasNumber, hasTime bool
	for {
		i := strings.IndexByte(t, '$')
		if i < 0 {
			break
		}
		j := strings.IndexByte(t[i+1:], '$')
		if j < 0 {
			return errors.New("unterminated $ identifier")
		}
		ident := t[i+1 : i+1+j]
		t = t[i+1+j+1:]
		if ident == "" {
			continue // "$$" is a literal dollar sign
		}
		name, format, hasFormat := strings.Cut(ident, "%")
		switch name {
		case "RepresentationID":
			if hasFormat {
				return errors.New("$RepresentationID$ takes no format tag")
			}
		case "Number", "SubNumber":
			hasNumber = hasNumber || name == "Number"
		case "Time":
			hasTime = true
		case "Bandwidth":
		default:
			return fmt.Errorf("unknown identifier $%s$", ident)
		}
		if hasFormat && !validWidthFormat(format) {
			return fmt.Errorf("format tag %%%s in $%s$ is not %%0<width>d", format, ident)
		}
		if !media && (name == "Number" || name == "Time" || name == "SubNumber") {
			return fmt.Errorf("$%s$ is not allowed in initialization", name)
		}
	}
	if media {
		switch {
		case hasNumber && hasTime:
			return errors.New("uses both $Number$ and $Time$")
		case !hasNumber && !hasTime:
			return errors.New("needs $Number$ or $Time$")
		}
	}
	return nil
}

// validWidthFormat reports whether f (after the '%') is "0<width>d".
func validWidthFormat(f string) bool {
	if len(f) < 3 || f[0] != '0' || f[len(f)-1] != 'd' {
		return false
	}
	for _, c := range f[1 : len(f)-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseUUID reads the 8-4-4-4-12 hex form, in either case.
func parseUUID(s string) ([16]byte, error) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, fmt.Errorf("%q is not a UUID (8-4-4-4-12 hex digits)", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, fmt.Errorf("%q is not a UUID: %w", s, err)
	}
	return id, nil
}

func formatUUID(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// psshSystemID checks that b is exactly one well-formed pssh box (ISO/IEC
// 23001-7 8.1) and returns its SystemID. The usual mistake this catches is
// passing the box's payload, or a PlayReady Object, instead of the box.
func psshSystemID(b []byte) ([16]byte, error) {
	var id [16]byte
	if len(b) < 8 {
		return id, fmt.Errorf("%d bytes is too short for a box", len(b))
	}
	size := uint64(binary.BigEndian.Uint32(b))
	hdr := 8
	if size == 1 {
		if len(b) < 16 {
			return id, errors.New("truncated largesize box header")
		}
		size = binary.BigEndian.Uint64(b[8:])
		hdr = 16
	}
	if string(b[4:8]) != "pssh" {
		return id, fmt.Errorf("box type %q, want \"pssh\"", b[4:8])
	}
	if size != uint64(len(b)) {
		return id, fmt.Errorf("box size %d but %d bytes given", size, len(b))
	}
	p := b[hdr:]
	// version(1) flags(3) SystemID(16) ... DataSize(4)
	if len(p) < 4+16+4 {
		return id, errors.New("truncated pssh box")
	}
	version := p[0]
	if version > 1 {
		return id, fmt.Errorf("pssh version %d not defined", version)
	}
	copy(id[:], p[4:20])
	p = p[20:]
	if version == 1 {
		kidCount := uint64(binary.BigEndian.Uint32(p))
		p = p[4:]
		if kidCount > uint64(len(p))/16 {
			return id, errors.New("pssh KID count exceeds the box")
		}
		p = p[16*kidCount:]
	}
	if len(p) < 4 {
		return id, errors.New("truncated pssh box")
	}
	if dataSize := uint64(binary.BigEndian.Uint32(p)); dataSize != uint64(len(p)-4) {
		return id, fmt.Errorf("pssh DataSize %d but %d bytes follow", dataSize, len(p)-4)
	}
	return id, nil
}

// checkPRO checks the PlayReady Object framing: a little-endian length of
// the whole object, a record count, and that many (type, length, value)
// records. Passing the bare PlayReady Header (UTF-16 XML) or a pssh box is
// the mistake this catches.
func checkPRO(b []byte) error {
	if len(b) < 6 {
		return fmt.Errorf("%d bytes is too short for a PlayReady Object", len(b))
	}
	if n := binary.LittleEndian.Uint32(b); uint64(n) != uint64(len(b)) {
		return fmt.Errorf("PlayReady Object length %d but %d bytes given", n, len(b))
	}
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if count == 0 {
		return errors.New("PlayReady Object has no records")
	}
	p := b[6:]
	for i := 0; i < count; i++ {
		if len(p) < 4 {
			return fmt.Errorf("record %d truncated", i)
		}
		n := int(binary.LittleEndian.Uint16(p[2:]))
		p = p[4:]
		if n > len(p) {
			return fmt.Errorf("record %d length %d exceeds the object", i, n)
		}
		p = p[n:]
	}
	if len(p) != 0 {
		return fmt.Errorf("%d bytes after the last record", len(p))
	}
	return nil
}
