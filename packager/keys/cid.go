package keys

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCIDLength is the longest content ID the key services accept.
const MaxCIDLength = 200

// cidPunctuation are the characters besides letters, digits and spaces a content ID may hold:
// none of them needs escaping in a URL path segment, an XML attribute or a file name.
const cidPunctuation = "-_.~()[]+,@="

func cidRuneOK(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == ' ' || strings.ContainsRune(cidPunctuation, r)
}

// ValidateCID checks a content ID: 1 to 200 characters; letters and digits of any script,
// spaces inside, and - _ . ~ ( ) [ ] + , @ =.
func ValidateCID(cid string) error {
	switch {
	case cid == "":
		return fmt.Errorf("content ID is empty")
	case !utf8.ValidString(cid):
		return fmt.Errorf("content ID is not valid UTF-8")
	case utf8.RuneCountInString(cid) > MaxCIDLength:
		return fmt.Errorf("content ID has %d characters, at most %d allowed", utf8.RuneCountInString(cid), MaxCIDLength)
	case strings.TrimSpace(cid) != cid:
		return fmt.Errorf("content ID %q starts or ends with a space", cid)
	}
	for _, r := range cid {
		if !cidRuneOK(r) {
			return fmt.Errorf("content ID %q contains %q (allowed: letters, digits, spaces and %s)", cid, r, cidPunctuation)
		}
	}
	return nil
}

// CIDFromName derives a valid content ID from a file's title: characters ValidateCID refuses
// become '_', and the result is cut to MaxCIDLength characters.
func CIDFromName(title string) string {
	title = strings.ToValidUTF8(title, "_")
	var b strings.Builder
	n := 0
	for _, r := range title {
		if n == MaxCIDLength {
			break
		}
		if !cidRuneOK(r) {
			r = '_'
		}
		b.WriteRune(r)
		n++
	}
	if s := strings.TrimSpace(b.String()); s != "" {
		return s
	}
	return "_"
}

// SKD is the FairPlay key URI drmpack derives from a KID when the key service names none:
// skd:// and the KID in standard base64.
func (k KID) SKD() string { return "skd://" + base64.StdEncoding.EncodeToString(k[:]) }
