// Package keys defines how the engine obtains content keys: the Source interface that every key
// service implements, the track types keys are requested for, and the raw source built from
// --key flags.
package keys

import (
	"context"
	"drmpack/packager/pssh"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// TrackType is a key service's class of track; one key per type is the multi-key model of the
// DASH-IF CPIX intendedTrackType rules.
type TrackType string

// Track types in the key services' vocabulary. A single-key title is requested as HD.
const (
	AnyTrack TrackType = ""
	Audio    TrackType = "AUDIO"
	SD       TrackType = "SD"
	HD       TrackType = "HD"
	UHD1     TrackType = "UHD1"
	UHD2     TrackType = "UHD2"
)

// ParseTrackType validates a track type name (case-insensitive).
func ParseTrackType(s string) (TrackType, error) {
	switch t := TrackType(strings.ToUpper(s)); t {
	case Audio, SD, HD, UHD1, UHD2:
		return t, nil
	}
	return "", fmt.Errorf("unknown track type %q (want AUDIO, SD, HD, UHD1 or UHD2)", s)
}

// VideoTrackType classes a video track by its height with the default thresholds: SD up to 576
// lines, HD up to 1080, UHD1 up to 2160, UHD2 above.
func VideoTrackType(height int) TrackType { return DefaultThresholds.VideoTrackType(height) }

// Thresholds are the tallest SD, HD and UHD1 video in lines; taller video is UHD2. Key services
// agree on the classes but a title may need other limits (e.g. 720 for SD).
type Thresholds struct{ SD, HD, UHD1 int }

// DefaultThresholds are the key services' usual limits.
var DefaultThresholds = Thresholds{SD: 576, HD: 1080, UHD1: 2160}

// VideoTrackType classes a video track by its height; the zero Thresholds means the defaults.
func (th Thresholds) VideoTrackType(height int) TrackType {
	if th == (Thresholds{}) {
		th = DefaultThresholds
	}
	switch {
	case height <= th.SD:
		return SD
	case height <= th.HD:
		return HD
	case height <= th.UHD1:
		return UHD1
	}
	return UHD2
}

// ParseThresholds reads "SD,HD,UHD1" line counts, e.g. "576,1080,2160"; they must rise.
func ParseThresholds(s string) (Thresholds, error) {
	var th Thresholds
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return th, fmt.Errorf("%q: want three heights SD,HD,UHD1 such as 576,1080,2160", s)
	}
	vals := []*int{&th.SD, &th.HD, &th.UHD1}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 || n > 1<<16 {
			return th, fmt.Errorf("%q: %q is not a height in lines", s, p)
		}
		if i > 0 && n <= *vals[i-1] {
			return th, fmt.Errorf("%q: heights must rise (SD < HD < UHD1)", s)
		}
		*vals[i] = n
	}
	return th, nil
}

// KID is a 16-byte key ID, big-endian as in tenc and the MPD's cenc:default_KID.
type KID [16]byte

// UUID formats the KID as 8-4-4-4-12 lower-case hex.
func (k KID) UUID() string {
	h := hex.EncodeToString(k[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Hex formats the KID as 32 lower-case hex digits.
func (k KID) Hex() string { return hex.EncodeToString(k[:]) }

// ParseKID reads a KID written as a UUID (8-4-4-4-12) or as 32 hex digits, in either case.
func ParseKID(s string) (KID, error) {
	var k KID
	return k, decodeHex(strings.TrimSpace(s), k[:], "KID")
}

// Secret is a 16-byte content key. Its String and GoString never reveal it, so a key that slips
// into a log line, an error or a %v of a struct prints as a placeholder.
type Secret [16]byte

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Hex writes the key in hex, for the few places that must hand it on (a CPIX export, the NCG
// key text); calling it is the explicit decision to reveal it.
func (s Secret) Hex() string { return hex.EncodeToString(s[:]) }

// Key is one content key with the signalling a key service may have prepared for it.
type Key struct {
	TrackType TrackType // AnyTrack: used for every track without a key of its own
	KID       KID
	Key       Secret
	IV        []byte // optional explicit IV (8 or 16 bytes)
	// PSSH holds ready-made pssh boxes by DRM system ID from the key service; the engine builds
	// its own for systems that are missing.
	PSSH map[[16]byte][]byte
	// FairPlayURI is the skd:// key URI the key service assigned (its URIExtXKey); empty when the
	// engine should derive one from the KID.
	FairPlayURI string
	// HLSSignaling holds the key service's ready HLS tags for FairPlay by playlist: "media"
	// (EXT-X-KEY) and "master" (EXT-X-SESSION-KEY).
	HLSSignaling map[string]string
	// NCGKey is the whole-file (NCG) key text a key service returned for the NCG system.
	NCGKey SecretText
}

// SecretText is key material in text form; like Secret it never formats.
type SecretText string

func (SecretText) String() string   { return "[redacted]" }
func (SecretText) GoString() string { return "[redacted]" }

// Request says what the engine needs keys for.
type Request struct {
	CID        string
	TrackTypes []TrackType // distinct types of the tracks to encrypt
	// Systems are the DRM systems the output signals (Widevine and PlayReady for DASH, FairPlay
	// for HLS, NCG); key services prepare signalling for each.
	Systems []pssh.SystemID
	// Scheme is the common encryption scheme the keys will be used with (cenc or cbcs).
	Scheme string
}

// Source supplies content keys. Implementations talk to a key service, a local store, or hold
// keys given on the command line.
type Source interface {
	Keys(ctx context.Context, req Request) (Set, error)
}

// Set is the keys a source returned for one request.
type Set []Key

// For returns the key for a track type: the key of exactly that type, else the key given for
// every track.
func (s Set) For(t TrackType) (Key, error) {
	for _, k := range s {
		if k.TrackType == t {
			return k, nil
		}
	}
	for _, k := range s {
		if k.TrackType == AnyTrack {
			return k, nil
		}
	}
	return Key{}, fmt.Errorf("no key for track type %s", t)
}
