// Package cpix writes and leniently reads DASH-IF CPIX 2.3 key exchange documents, including
// the SPEKE v1 style (root id attribute, URIExtXKey) that the vendor's key service speaks.
package cpix

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"drmpack/packager/keys"
	"drmpack/packager/pssh"
)

// XML namespaces of a CPIX document.
const (
	NamespaceCPIX  = "urn:dashif:org:cpix"
	NamespacePSKC  = "urn:ietf:params:xml:ns:keyprov:pskc"
	NamespaceSPEKE = "urn:aws:amazon:com:speke"
)

// Version is the CPIX version this package writes.
const Version = "2.3"

// Document is one CPIX document: a request (keys without values, empty signalling elements
// naming what is wanted) or a response.
type Document struct {
	// ID is the root id attribute, where SPEKE v1 and the vendor's dialect put the content ID.
	ID string
	// ContentID is the CPIX 2.3 contentId attribute.
	ContentID string
	// Version is the version attribute ("2.3"); empty in SPEKE v1 documents.
	Version     string
	ContentKeys []ContentKey
	DRMSystems  []DRMSystem
	UsageRules  []UsageRule
}

// ContentKey is a cpix:ContentKey.
type ContentKey struct {
	KID    keys.KID
	Scheme string // commonEncryptionScheme: cenc, cbc1, cens or cbcs
	// ExplicitIV is the IV as the document carries it: 16 opaque bytes, or anything a lenient
	// reader has to make sense of.
	ExplicitIV []byte
	// Value is the key from pskc:PlainValue; nil in requests.
	Value []byte
}

// DRMSystem is a cpix:DRMSystem: one key's signalling for one DRM. Each []byte field is written
// when non-nil; an empty, non-nil slice writes an empty element, which is how a request names the
// signalling it wants.
type DRMSystem struct {
	KID      keys.KID
	SystemID pssh.SystemID
	PSSH     []byte // a complete pssh box
	// ContentProtectionData is what goes inside the MPD's ContentProtection element.
	ContentProtectionData []byte
	// URIExtXKey is the HLS key URI (skd://… for FairPlay; the key text for the vendor's NCG).
	// CPIX 2.3 no longer defines it: it is written only in SPEKE v1 documents.
	URIExtXKey []byte
	// HLSMedia and HLSMaster are the HLSSignalingData for playlist="media" (EXT-X-KEY) and for
	// the master playlist (EXT-X-SESSION-KEY; playlist="multiVariant", "master" in SPEKE v1).
	HLSMedia, HLSMaster []byte
}

// UsageRule is a cpix:ContentKeyUsageRule: which tracks a key is for.
type UsageRule struct {
	KID               keys.KID
	IntendedTrackType string // AUDIO, SD, HD, UHD1, UHD2
}

// videoPixels bounds the track types in pixels per picture for the VideoFilter a usage rule
// carries next to intendedTrackType (SD up to 768x576, HD up to 1920x1080, UHD1 up to
// 4096x2160), so servers that only read filters map keys the same way.
var videoPixels = map[string][2]int{
	"SD":   {0, 768 * 576},
	"HD":   {768*576 + 1, 1920 * 1080},
	"UHD1": {1920*1080 + 1, 4096 * 2160},
	"UHD2": {4096*2160 + 1, 0},
}

// Marshal writes the document with the cpix: and pskc: prefixes key services expect, children
// in the order the CPIX 2.3 schema requires.
func (d *Document) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<cpix:CPIX xmlns:cpix="` + NamespaceCPIX + `" xmlns:pskc="` + NamespacePSKC + `"`)
	if d.Version == "" {
		b.WriteString(` xmlns:speke="` + NamespaceSPEKE + `"`)
	}
	writeAttr(&b, "id", d.ID)
	writeAttr(&b, "contentId", d.ContentID)
	writeAttr(&b, "version", d.Version)
	b.WriteString(">\n")
	if len(d.ContentKeys) > 0 {
		b.WriteString("  <cpix:ContentKeyList>\n")
		for _, k := range d.ContentKeys {
			b.WriteString("    <cpix:ContentKey")
			writeAttr(&b, "kid", k.KID.UUID())
			if k.ExplicitIV != nil {
				writeAttr(&b, "explicitIV", base64.StdEncoding.EncodeToString(k.ExplicitIV))
			}
			writeAttr(&b, "commonEncryptionScheme", k.Scheme)
			if k.Value == nil {
				b.WriteString("/>\n")
				continue
			}
			b.WriteString(">\n      <cpix:Data><pskc:Secret><pskc:PlainValue>")
			b.WriteString(base64.StdEncoding.EncodeToString(k.Value))
			b.WriteString("</pskc:PlainValue></pskc:Secret></cpix:Data>\n    </cpix:ContentKey>\n")
		}
		b.WriteString("  </cpix:ContentKeyList>\n")
	}
	if len(d.DRMSystems) > 0 {
		b.WriteString("  <cpix:DRMSystemList>\n")
		for _, s := range d.DRMSystems {
			b.WriteString("    <cpix:DRMSystem")
			writeAttr(&b, "kid", s.KID.UUID())
			writeAttr(&b, "systemId", s.SystemID.String())
			b.WriteString(">\n")
			writeBase64Element(&b, "cpix:PSSH", "", s.PSSH)
			writeBase64Element(&b, "cpix:ContentProtectionData", "", s.ContentProtectionData)
			if d.Version == "" {
				writeBase64Element(&b, "cpix:URIExtXKey", "", s.URIExtXKey)
			}
			writeBase64Element(&b, "cpix:HLSSignalingData", "media", s.HLSMedia)
			// CPIX 2.3 calls the master playlist "multiVariant"; SPEKE v1 services say "master".
			master := "multiVariant"
			if d.Version == "" {
				master = "master"
			}
			writeBase64Element(&b, "cpix:HLSSignalingData", master, s.HLSMaster)
			b.WriteString("    </cpix:DRMSystem>\n")
		}
		b.WriteString("  </cpix:DRMSystemList>\n")
	}
	if len(d.UsageRules) > 0 {
		b.WriteString("  <cpix:ContentKeyUsageRuleList>\n")
		for _, r := range d.UsageRules {
			b.WriteString("    <cpix:ContentKeyUsageRule")
			writeAttr(&b, "kid", r.KID.UUID())
			writeAttr(&b, "intendedTrackType", r.IntendedTrackType)
			b.WriteString(">")
			if r.IntendedTrackType == "AUDIO" {
				b.WriteString("<cpix:AudioFilter/>")
			} else if px, ok := videoPixels[r.IntendedTrackType]; ok {
				b.WriteString("<cpix:VideoFilter")
				if px[0] > 0 {
					writeAttr(&b, "minPixels", strconv.Itoa(px[0]))
				}
				if px[1] > 0 {
					writeAttr(&b, "maxPixels", strconv.Itoa(px[1]))
				}
				b.WriteString("/>")
			}
			b.WriteString("</cpix:ContentKeyUsageRule>\n")
		}
		b.WriteString("  </cpix:ContentKeyUsageRuleList>\n")
	}
	b.WriteString("</cpix:CPIX>\n")
	return b.Bytes()
}

func writeAttr(b *bytes.Buffer, name, value string) {
	if value == "" {
		return
	}
	b.WriteString(" " + name + `="`)
	xml.EscapeText(b, []byte(value))
	b.WriteString(`"`)
}

func writeBase64Element(b *bytes.Buffer, name, playlist string, v []byte) {
	if v == nil {
		return
	}
	b.WriteString("      <" + name)
	writeAttr(b, "playlist", playlist)
	if len(v) == 0 {
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">" + base64.StdEncoding.EncodeToString(v) + "</" + name + ">\n")
}

// The xml structs below match elements by local name only, so documents with other prefixes,
// default namespaces or none at all read the same.
type xmlDocument struct {
	ID          string          `xml:"id,attr"`
	ContentID   string          `xml:"contentId,attr"`
	Version     string          `xml:"version,attr"`
	ContentKeys []xmlContentKey `xml:"ContentKeyList>ContentKey"`
	DRMSystems  []xmlDRMSystem  `xml:"DRMSystemList>DRMSystem"`
	UsageRules  []xmlUsageRule  `xml:"ContentKeyUsageRuleList>ContentKeyUsageRule"`
}

type xmlContentKey struct {
	KID        string `xml:"kid,attr"`
	ExplicitIV string `xml:"explicitIV,attr"`
	Scheme     string `xml:"commonEncryptionScheme,attr"`
	PlainValue string `xml:"Data>Secret>PlainValue"`
}

type xmlDRMSystem struct {
	KID                   string        `xml:"kid,attr"`
	SystemID              string        `xml:"systemId,attr"`
	PSSH                  string        `xml:"PSSH"`
	ContentProtectionData string        `xml:"ContentProtectionData"`
	URIExtXKey            string        `xml:"URIExtXKey"`
	HLSSignalingData      []xmlHLSValue `xml:"HLSSignalingData"`
}

type xmlHLSValue struct {
	Playlist string `xml:"playlist,attr"`
	Value    string `xml:",chardata"`
}

type xmlUsageRule struct {
	KID               string `xml:"kid,attr"`
	IntendedTrackType string `xml:"intendedTrackType,attr"`
}

// ErrNotCPIX is returned for input that is not a CPIX document at all (for example a JSON error
// body a key service sent with status 200).
var ErrNotCPIX = errors.New("not a CPIX document")

// Parse reads a CPIX document leniently: any namespace prefixes, base64 with line breaks or
// without padding, KIDs with or without dashes. Values that cannot be decoded are errors that
// name the element, never its content (it may be a key).
func Parse(b []byte) (*Document, error) {
	var x xmlDocument
	dec := xml.NewDecoder(bytes.NewReader(b))
	// Key services declare UTF-8, ISO-8859-1 or US-ASCII; CPIX content is ASCII apart from
	// content IDs, so any declared charset is read as UTF-8 rather than refused.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	root, err := firstElement(dec)
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "CPIX" {
		return nil, fmt.Errorf("%w: root element is <%s>", ErrNotCPIX, root.Name.Local)
	}
	if err := dec.DecodeElement(&x, &root); err != nil {
		return nil, fmt.Errorf("malformed CPIX: %v", err)
	}
	d := &Document{ID: x.ID, ContentID: x.ContentID, Version: x.Version}
	for i, k := range x.ContentKeys {
		var ck ContentKey
		var err error
		if ck.KID, err = keys.ParseKID(k.KID); err != nil {
			return nil, fmt.Errorf("ContentKey #%d: kid: %v", i+1, err)
		}
		ck.Scheme = strings.TrimSpace(k.Scheme)
		if ck.ExplicitIV, err = decodeBase64(k.ExplicitIV); err != nil {
			return nil, fmt.Errorf("ContentKey %s: explicitIV is not base64", ck.KID.UUID())
		}
		if ck.Value, err = decodeBase64(k.PlainValue); err != nil {
			return nil, fmt.Errorf("ContentKey %s: PlainValue is not base64", ck.KID.UUID())
		}
		d.ContentKeys = append(d.ContentKeys, ck)
	}
	for i, s := range x.DRMSystems {
		ds, err := s.decode()
		if err != nil {
			return nil, fmt.Errorf("DRMSystem #%d: %v", i+1, err)
		}
		d.DRMSystems = append(d.DRMSystems, ds)
	}
	for i, r := range x.UsageRules {
		kid, err := keys.ParseKID(r.KID)
		if err != nil {
			return nil, fmt.Errorf("ContentKeyUsageRule #%d: kid: %v", i+1, err)
		}
		d.UsageRules = append(d.UsageRules, UsageRule{KID: kid, IntendedTrackType: strings.ToUpper(strings.TrimSpace(r.IntendedTrackType))})
	}
	return d, nil
}

func (s xmlDRMSystem) decode() (DRMSystem, error) {
	var ds DRMSystem
	var err error
	if ds.KID, err = keys.ParseKID(s.KID); err != nil {
		return ds, fmt.Errorf("kid: %v", err)
	}
	if ds.SystemID, err = pssh.ParseSystemID(s.SystemID); err != nil {
		return ds, err
	}
	fields := []base64Field{
		{"PSSH", s.PSSH, &ds.PSSH},
		{"ContentProtectionData", s.ContentProtectionData, &ds.ContentProtectionData},
		{"URIExtXKey", s.URIExtXKey, &ds.URIExtXKey},
	}
	for _, h := range s.HLSSignalingData {
		switch strings.ToLower(strings.TrimSpace(h.Playlist)) {
		case "", "media":
			fields = append(fields, base64Field{"HLSSignalingData", h.Value, &ds.HLSMedia})
		case "master", "multivariant":
			fields = append(fields, base64Field{"HLSSignalingData", h.Value, &ds.HLSMaster})
		}
	}
	for _, f := range fields {
		if *f.out, err = decodeBase64(f.in); err != nil {
			return ds, fmt.Errorf("%s of %s is not base64", f.name, ds.SystemID)
		}
	}
	return ds, nil
}

// base64Field is one base64 element of a DRMSystem on its way to its decoded field.
type base64Field struct {
	name string
	in   string
	out  *[]byte
}

func firstElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("%w: %v", ErrNotCPIX, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// decodeBase64 accepts standard or URL-safe base64, padded or not, with white space anywhere.
// An empty value decodes to nil.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, nil
	}
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
