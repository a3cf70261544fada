package keys

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
)

// Raw is a Source holding keys given on the command line as [TRACKTYPE=]KID:KEY[:IV].
type Raw Set

// ParseRaw parses --key values. Errors describe the malformed part without echoing key digits.
func ParseRaw(values []string) (Raw, error) {
	var r Raw
	seen := map[TrackType]bool{}
	for i, v := range values {
		k, err := parseRawKey(v)
		if err != nil {
			return nil, fmt.Errorf("--key #%d: %w", i+1, err)
		}
		if seen[k.TrackType] {
			name := string(k.TrackType)
			if name == "" {
				name = "all tracks"
			}
			return nil, fmt.Errorf("--key #%d: a second key for %s", i+1, name)
		}
		seen[k.TrackType] = true
		r = append(r, k)
	}
	return r, nil
}

func parseRawKey(v string) (Key, error) {
	var k Key
	if t, rest, ok := strings.Cut(v, "="); ok {
		tt, err := ParseTrackType(t)
		if err != nil {
			return k, err
		}
		k.TrackType, v = tt, rest
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return k, fmt.Errorf("want [TRACKTYPE=]KID:KEY[:IV] in hex")
	}
	if err := decodeHex(parts[0], k.KID[:], "KID"); err != nil {
		return k, err
	}
	if err := decodeHex(parts[1], k.Key[:], "KEY"); err != nil {
		return k, err
	}
	if len(parts) == 3 {
		iv, err := hex.DecodeString(strings.ReplaceAll(parts[2], "-", ""))
		if err != nil || (len(iv) != 8 && len(iv) != 16) {
			return k, fmt.Errorf("IV must be 16 or 32 hex digits")
		}
		k.IV = iv
	}
	return k, nil
}

func decodeHex(s string, dst []byte, what string) error {
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%s must be %d hex digits, got %d characters", what, 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("%s is not hexadecimal", what)
	}
	return nil
}

// Keys returns the raw keys, checking that every requested track type is covered.
func (r Raw) Keys(_ context.Context, req Request) (Set, error) {
	if len(r) == 0 {
		return nil, fmt.Errorf("no key given: pass --key KID:KEY (hex)")
	}
	for _, t := range req.TrackTypes {
		if _, err := Set(r).For(t); err != nil {
			return nil, err
		}
	}
	return Set(r), nil
}
