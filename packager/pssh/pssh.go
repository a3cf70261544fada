// Package pssh builds the protection-system-specific headers (pssh boxes)
// that Widevine and PlayReady licence services need.
//
// A pssh box is the ISO/IEC 23001-7 (Common Encryption) container a player
// hands to its CDM: a 16-byte system ID saying which DRM the payload is for,
// and an opaque payload that only that DRM understands. The package produces
// both layers: the box itself (Box, ParseBox) and the two payloads the engine
// needs, the Widevine protobuf (WidevineData) and the PlayReady Object
// (PlayReadyObject, PlayReadyHeaderXML).
//
// Everything here is deterministic: the same inputs always give the same
// bytes, so the output can be compared against golden vectors and cached.
package pssh

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SystemID is a DRM system identifier as registered with DASH-IF
// (https://dashif.org/identifiers/content_protection/), stored in the
// big-endian UUID byte order in which it appears in a pssh box.
type SystemID [16]byte

// Registered system IDs of the DRMs the engine packages for.
var (
	// Widevine is EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED.
	Widevine = SystemID{0xed, 0xef, 0x8b, 0xa9, 0x79, 0xd6, 0x4a, 0xce, 0xa3, 0xc8, 0x27, 0xdc, 0xd5, 0x1d, 0x21, 0xed}
	// PlayReady is 9A04F079-9840-4286-AB92-E65BE0885F95.
	PlayReady = SystemID{0x9a, 0x04, 0xf0, 0x79, 0x98, 0x40, 0x42, 0x86, 0xab, 0x92, 0xe6, 0x5b, 0xe0, 0x88, 0x5f, 0x95}
	// FairPlay is 94CE86FB-07FF-4F43-ADB8-93D2FA968CA2. FairPlay does not use
	// pssh boxes in practice (it is signalled in HLS), but the ID is needed for
	// CPIX documents and MPD/HLS signalling.
	FairPlay = SystemID{0x94, 0xce, 0x86, 0xfb, 0x07, 0xff, 0x4f, 0x43, 0xad, 0xb8, 0x93, 0xd2, 0xfa, 0x96, 0x8c, 0xa2}
	// NCG is D9E4411A-E886-4909-A380-A77F28D52335, the vendor key service's ID for its
	// whole-file DRM; it has no pssh box, only a key in CPIX.
	NCG = SystemID{0xd9, 0xe4, 0x41, 0x1a, 0xe8, 0x86, 0x49, 0x09, 0xa3, 0x80, 0xa7, 0x7f, 0x28, 0xd5, 0x23, 0x35}
)

// ParseSystemID reads a system ID in UUID form (with or without dashes, any case, an optional
// "urn:uuid:" prefix).
func ParseSystemID(s string) (SystemID, error) {
	var id SystemID
	h := strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "urn:uuid:"), "-", "")
	if len(h) != 32 {
		return id, fmt.Errorf("system ID %q is not a UUID", s)
	}
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, fmt.Errorf("system ID %q is not a UUID", s)
	}
	return id, nil
}

// String returns the lower-case dashed UUID form, e.g.
// "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed". RFC 4122 §3 has UUIDs output in
// lower case, and that is the form the MPD schemeIdUri comparisons expect.
func (s SystemID) String() string { return formatUUID(s) }

// formatUUID writes 16 bytes as a lower-case 8-4-4-4-12 UUID string.
func formatUUID(u [16]byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], u[10:16])
	return string(buf[:])
}

// URN returns the RFC 4122 URN form used as the schemeIdUri of an MPD
// ContentProtection element, e.g. "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed".
func (s SystemID) URN() string { return "urn:uuid:" + s.String() }

// Box layout (ISO/IEC 23001-7 §8.1, on top of the ISO/IEC 14496-12 FullBox):
//
//	uint32 size | "pssh" | uint8 version | uint24 flags | [16]byte SystemID |
//	(version 1 only: uint32 KID_count | KID_count × [16]byte KID) |
//	uint32 DataSize | Data
//
// All integers are big-endian.
const (
	boxHeaderLen  = 4 + 4 + 4 + 16   // size, type, version+flags, SystemID
	boxV0Overhead = boxHeaderLen + 4 // ... + DataSize
)

// Box returns a complete ISO/IEC 23001-7 'pssh' box (version 0, no KID list)
// carrying data.
//
// Version 0 is used deliberately: it is the original form that every CDM
// parses (Shaka Packager also writes version 0 "for backward
// compatibility"), and the Widevine and PlayReady payloads already name
// their key IDs, so a version 1 KID list would only add a second copy to
// keep in sync.
//
// Box panics if data is too large for a 32-bit box size (about 4 GiB); real
// payloads are a few hundred bytes, so that can only be a programming error.
func Box(system SystemID, data []byte) []byte {
	size := uint64(boxV0Overhead) + uint64(len(data))
	if size > 0xFFFFFFFF {
		panic(fmt.Sprintf("pssh: Box: %d-byte payload does not fit a 32-bit box", len(data)))
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	b = append(b, 'p', 's', 's', 'h')
	b = append(b, 0, 0, 0, 0) // version 0, flags 0
	b = append(b, system[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// Causes of ParseBox errors, wrapped with the offending values. They stay
// unexported to keep the API small; the package tests check them with
// errors.Is so each malformation is known to be caught by the intended check.
var (
	errTruncated  = errors.New("pssh: truncated box")
	errNotPSSH    = errors.New("pssh: not a pssh box")
	errBadVersion = errors.New("pssh: unsupported pssh box version")
	errBadLength  = errors.New("pssh: inconsistent box length")
)

// ParseBox decodes one complete 'pssh' box, version 0 or 1, as found in an
// init segment or in the base64 of an MPD <cenc:pssh> element.
//
// b must hold exactly one box: trailing bytes after the box are an error,
// because a silently ignored tail usually means two boxes were concatenated
// or a length was miscomputed, both of which the caller wants to hear about.
// The 64-bit largesize form (size == 1) and the to-end-of-data form
// (size == 0) of ISO/IEC 14496-12 are accepted. Flags are not checked: they
// are defined as 0 and carry no meaning for a reader.
//
// kids is nil for version 0 boxes. The returned slices are copies and do not
// alias b. On error all other results are zero.
func ParseBox(b []byte) (system SystemID, kids [][16]byte, data []byte, err error) {
	if len(b) < 8 {
		return SystemID{}, nil, nil, fmt.Errorf("%w: %d bytes", errTruncated, len(b))
	}
	size := uint64(binary.BigEndian.Uint32(b[0:4]))
	if string(b[4:8]) != "pssh" {
		return SystemID{}, nil, nil, fmt.Errorf("%w: box type %q", errNotPSSH, b[4:8])
	}
	p := b[8:]
	switch size {
	case 0: // box extends to the end of the data
		size = uint64(len(b))
	case 1: // 64-bit largesize follows the type
		if len(p) < 8 {
			return SystemID{}, nil, nil, fmt.Errorf("%w: missing largesize", errTruncated)
		}
		size = binary.BigEndian.Uint64(p[0:8])
		p = p[8:]
	}
	if size != uint64(len(b)) {
		return SystemID{}, nil, nil, fmt.Errorf("%w: box size %d, have %d bytes", errBadLength, size, len(b))
	}
	if len(p) < 4+16 {
		return SystemID{}, nil, nil, fmt.Errorf("%w: header needs %d bytes, have %d", errTruncated, 4+16, len(p))
	}
	version := p[0]
	if version > 1 {
		return SystemID{}, nil, nil, fmt.Errorf("%w: %d", errBadVersion, version)
	}
	copy(system[:], p[4:20])
	p = p[20:]
	if version == 1 {
		if len(p) < 4 {
			return SystemID{}, nil, nil, fmt.Errorf("%w: missing KID_count", errTruncated)
		}
		n := binary.BigEndian.Uint32(p[0:4])
		p = p[4:]
		// Compare by division so a hostile count cannot overflow the product.
		if uint64(n) > uint64(len(p))/16 {
			return SystemID{}, nil, nil, fmt.Errorf("%w: KID_count %d, room for %d", errBadLength, n, len(p)/16)
		}
		kids = make([][16]byte, n)
		for i := range kids {
			copy(kids[i][:], p[:16])
			p = p[16:]
		}
	}
	if len(p) < 4 {
		return SystemID{}, nil, nil, fmt.Errorf("%w: missing DataSize", errTruncated)
	}
	n := binary.BigEndian.Uint32(p[0:4])
	p = p[4:]
	if uint64(n) != uint64(len(p)) {
		return SystemID{}, nil, nil, fmt.Errorf("%w: DataSize %d, %d bytes left in box", errBadLength, n, len(p))
	}
	data = append([]byte{}, p...)
	return system, kids, data, nil
}

// Signalling is what a packager writes into a Widevine or PlayReady pssh box besides the key ID.
type Signalling struct {
	Scheme    string // cenc or cbcs
	Provider  string // Widevine provider name
	ContentID string // Widevine content_id
	LAURL     string // PlayReady licence acquisition URL
}

// BoxFor builds the pssh box of system (Widevine or PlayReady) for one content key; PlayReady
// needs the key itself for the header's checksum.
func BoxFor(system SystemID, kid, key [16]byte, sig Signalling) ([]byte, error) {
	var data []byte
	switch system {
	case Widevine:
		data = WidevineData([][16]byte{kid}, sig.Provider, []byte(sig.ContentID), sig.Scheme)
	case PlayReady:
		var err error
		data, err = PlayReadyObject([]PlayReadyKey{{KID: kid, Key: key}}, sig.Scheme, sig.LAURL)
		if err != nil {
			return nil, fmt.Errorf("PlayReady header: %w", err)
		}
	default:
		return nil, fmt.Errorf("no pssh box for system %s", system)
	}
	return Box(system, data), nil
}
