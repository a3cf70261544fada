package pssh

import (
	"crypto/aes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// PlayReadyKey is one content key as the PlayReady header needs it.
type PlayReadyKey struct {
	// KID is the key ID in big-endian UUID byte order, exactly as in the
	// 'tenc' box and the MPD cenc:default_KID. The conversion to PlayReady's
	// little-endian GUID order happens here, not at the call site.
	KID [16]byte
	// Key is the 16-byte AES content key. It is only used to compute the
	// AESCTR CHECKSUM and never appears in the output; it is ignored for
	// 'cbcs', where the specification defines no checksum.
	Key [16]byte
}

// Sources for everything below: Microsoft "PlayReady Header Specification"
// (https://learn.microsoft.com/playready/specifications/playready-header-specification,
// revision with the 4.3.0.0 section and the 2017 syntax requirements), in
// particular §2 (PlayReady Object), §3.1 (version support matrix), §3.2
// (syntax requirements), §3.3-3.6 (header versions) and §5 (key checksum);
// and "PlayReady Content Encryption Modes"
// (https://learn.microsoft.com/playready/overview/content-encryption-modes).

const (
	prhNamespace = "http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader"

	// Record type 0x0001: the record holds a PlayReady Header (spec §2.1).
	proRecordTypeHeader = 1
	// Length DWORD + record count WORD, then type WORD + length WORD per record.
	proHeaderLen       = 4 + 2
	proRecordHeaderLen = 2 + 2
	// Spec §2: the PRO length "should not exceed 15 kilobytes". Clients are
	// entitled to reject larger objects, so exceeding it is an error at
	// packaging time rather than a playback failure in the field.
	maxPROLen = 15 * 1024
)

// PlayReady ALGID values (spec §3.3.3).
const (
	algAESCTR = "AESCTR"
	algAESCBC = "AESCBC"
)

// PlayReadyObject returns the PlayReady Object (PRO) to carry in a PlayReady
// pssh box (and, base64-encoded, in an MPD mspr:pro element): little-endian
// uint32 total length | uint16 record count (1) | one record {uint16 type 1,
// uint16 byte length, UTF-16LE PlayReady Header XML}.
//
// The header XML is the one PlayReadyHeaderXML returns; see there for the
// version rules. The total length counts the whole object including its own
// 4-byte length field, as in the specification's example PRO. No empty
// Embedded License Store record is added: the specification recommends one
// only for files that may later receive domain-bound embedded licences, and
// advises against it where the PRO goes into a streaming manifest (§4).
func PlayReadyObject(keys []PlayReadyKey, scheme, laURL string) ([]byte, error) {
	header, err := PlayReadyHeaderXML(keys, scheme, laURL)
	if err != nil {
		return nil, err
	}
	// The PRH "is encoded using UTF-16" (spec §3), little-endian like every
	// other PRO field, and without a byte-order mark.
	units := utf16.Encode([]rune(header))
	recLen := 2 * len(units)
	total := proHeaderLen + proRecordHeaderLen + recLen
	if recLen > 0xFFFF || total > maxPROLen {
		return nil, fmt.Errorf("pssh: PlayReady Object would be %d bytes, limit is %d (too many keys or too long a licence URL)", total, maxPROLen)
	}
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = binary.LittleEndian.AppendUint16(b, 1) // record count
	b = binary.LittleEndian.AppendUint16(b, proRecordTypeHeader)
	b = binary.LittleEndian.AppendUint16(b, uint16(recLen))
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b, nil
}

// PlayReadyHeaderXML returns the PlayReady Header (the WRMHEADER element) for
// keys, as a string, in the canonical form the specification requires (§3.2:
// no XML declaration, no whitespace between elements, namespace attribute
// first, other attributes in alphabetical order, explicit closing tags).
// laURL is omitted when empty; otherwise it must be an absolute URL (§3.3.3
// "Only absolute URLs are allowed").
//
// The header version is the lowest one that can express the keys, because
// the version decides which clients can play the content at all (§3.1):
// 4.0 is understood by every PlayReady client, 4.2 needs PlayReady 3.0
// (Windows 10, most TVs released after 2017), 4.3 needs PlayReady 4.0. The
// spec also requires it: "The version of the PlayReady Header must be set
// to the highest of the versions of the mandatory tags and attributes
// present in the header" (§3.6.2), so a header must not claim a higher
// version than its content needs.
//
//   - "cenc", one key: 4.0.0.0, the single-KID form
//     <PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO>
//     <KID>…</KID><CHECKSUM>…</CHECKSUM><LA_URL>…</LA_URL>. Element order is
//     free in 4.0 (§3.6.2 notes); this is the order of the spec's example
//     PRO and of Shaka Packager's output.
//   - "cenc", several keys: 4.2.0.0. Multiple KIDs (the KIDS element) were
//     introduced in 4.2 (§3.4); the AESCTR KID attributes are all 4.2-level,
//     so 4.3 would needlessly lock out PlayReady 3.x clients.
//   - "cbcs", any number of keys: 4.3.0.0, the first version whose ALGID may
//     be "AESCBC" (§3.3.1). CHECKSUM is left out because "when the ALGID
//     attribute is set to AESCBC, the CHECKSUM attribute must not be
//     included" and §5 defines no AESCBC checksum.
//
// In 4.2 and 4.3 LA_URL is a child of DATA following PROTECTINFO, not of
// PROTECTINFO (§3.3.3/§3.4.3 format). KIDs appear in the order given. Other
// schemes ('cens', 'cbc1') are rejected: the engine does not produce them,
// and Microsoft names 'cenc' and 'cbcs' as the modes PlayReady clients
// mainly support (content-encryption-modes).
func PlayReadyHeaderXML(keys []PlayReadyKey, scheme, laURL string) (string, error) {
	var alg string
	switch scheme {
	case "cenc":
		alg = algAESCTR
	case "cbcs":
		alg = algAESCBC
	default:
		return "", fmt.Errorf("pssh: PlayReady header: unsupported protection scheme %q (want \"cenc\" or \"cbcs\")", scheme)
	}
	if len(keys) == 0 {
		return "", errors.New("pssh: PlayReady header: no keys")
	}
	seen := make(map[[16]byte]int, len(keys))
	for i, k := range keys {
		if j, dup := seen[k.KID]; dup {
			return "", fmt.Errorf("pssh: PlayReady header: keys %d and %d have the same KID", j, i)
		}
		seen[k.KID] = i
		// An all-zero key is almost certainly an unfilled struct; its checksum
		// would be valid-looking and wrong, so refuse it where it is used.
		if alg == algAESCTR && k.Key == ([16]byte{}) {
			return "", fmt.Errorf("pssh: PlayReady header: key %d (KID %s) has an all-zero content key", i, formatUUID(k.KID))
		}
	}
	if err := checkLAURL(laURL); err != nil {
		return "", err
	}

	var sb strings.Builder
	sb.WriteString(`<WRMHEADER xmlns="` + prhNamespace + `" version="`)
	switch {
	case alg == algAESCTR && len(keys) == 1:
		k := keys[0]
		sb.WriteString(`4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>`)
		sb.WriteString(prKIDValue(k.KID))
		sb.WriteString(`</KID><CHECKSUM>`)
		sb.WriteString(prChecksum(k.KID, k.Key))
		sb.WriteString(`</CHECKSUM>`)
	default:
		if alg == algAESCTR {
			sb.WriteString(`4.2.0.0">`)
		} else {
			sb.WriteString(`4.3.0.0">`)
		}
		sb.WriteString(`<DATA><PROTECTINFO><KIDS>`)
		for _, k := range keys {
			// Attributes in alphabetical order: ALGID, CHECKSUM, VALUE (§3.2.5).
			sb.WriteString(`<KID ALGID="` + alg + `"`)
			if alg == algAESCTR {
				sb.WriteString(` CHECKSUM="` + prChecksum(k.KID, k.Key) + `"`)
			}
			sb.WriteString(` VALUE="` + prKIDValue(k.KID) + `"></KID>`)
		}
		sb.WriteString(`</KIDS></PROTECTINFO>`)
	}
	if laURL != "" {
		sb.WriteString(`<LA_URL>`)
		sb.WriteString(escapeXMLText(laURL))
		sb.WriteString(`</LA_URL>`)
	}
	sb.WriteString(`</DATA></WRMHEADER>`)
	return sb.String(), nil
}

// prGUID reorders a big-endian UUID into the little-endian GUID layout the
// PlayReady header uses ("this GUID (DWORD, WORD, WORD, 8-BYTE array) value
// must be little endian byte order", §3.3.3): the first three fields are
// byte-swapped, the last eight bytes are kept as they are.
func prGUID(kid [16]byte) [16]byte {
	g := kid
	g[0], g[1], g[2], g[3] = kid[3], kid[2], kid[1], kid[0]
	g[4], g[5] = kid[5], kid[4]
	g[6], g[7] = kid[7], kid[6]
	return g
}

// prKIDValue is the base64 of the KID in GUID order, the content of the 4.0
// KID element and of the 4.2/4.3 VALUE attribute.
func prKIDValue(kid [16]byte) string {
	g := prGUID(kid)
	return base64.StdEncoding.EncodeToString(g[:])
}

// prChecksum is the AESCTR key checksum of spec §5: the 16-byte KID, in the
// same GUID byte order as the VALUE it accompanies, encrypted with the content
// key in AES-128-ECB (a single block), first 8 bytes, base64. It lets a client
// detect a key that does not belong to the KID before decrypting garbage.
func prChecksum(kid, key [16]byte) string {
	c, err := aes.NewCipher(key[:])
	if err != nil {
		// Unreachable: a 16-byte key is always a valid AES-128 key.
		panic("pssh: " + err.Error())
	}
	g := prGUID(kid)
	var out [16]byte
	c.Encrypt(out[:], g[:])
	return base64.StdEncoding.EncodeToString(out[:8])
}

// checkLAURL enforces what the specification says of LA_URL: absent, or a
// non-empty absolute URL. It also refuses text XML cannot carry, so that the
// header is well-formed whatever the configuration holds.
func checkLAURL(s string) error {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return errors.New("pssh: PlayReady licence URL is not valid UTF-8")
	}
	for _, r := range s {
		if !isXMLChar(r) || r == '\t' || r == '\n' || r == '\r' {
			return fmt.Errorf("pssh: PlayReady licence URL %q contains control character %U", s, r)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("pssh: PlayReady licence URL %q has leading or trailing spaces", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("pssh: PlayReady licence URL: %w", err)
	}
	if !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("pssh: PlayReady licence URL %q is not an absolute URL", s)
	}
	return nil
}

// isXMLChar reports whether r is a legal XML 1.0 character (production [2]).
func isXMLChar(r rune) bool {
	switch {
	case r == 0x9, r == 0xA, r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// escapeXMLText escapes character data the way Canonical XML does (the PRH
// "must be canonicalized", §3.2.1): '&', '<' and '>' become entity
// references and nothing else changes. encoding/xml's EscapeText is not used
// because it also escapes quotes, which canonical form leaves alone.
// Carriage returns, which C14N would write as &#xD;, are refused earlier by
// checkLAURL.
func escapeXMLText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			sb.WriteString("&amp;")
		case '<':
			sb.WriteString("&lt;")
		case '>':
			sb.WriteString("&gt;")
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}
