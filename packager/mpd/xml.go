package mpd

import (
	"bytes"
	"encoding/xml"
	"strconv"
)

// The wire types below serve both directions. Field order is the order the
// schema's xs:sequence requires for child elements (and a stable, readable
// order for attributes), because encoding/xml writes fields in declaration
// order.
//
// Namespaced names are the one asymmetry: encoding/xml resolves prefixes on
// input (so decode tags name the namespace URI), but on output it would
// declare a fresh default namespace on each element instead of using the
// cenc:/mspr: prefixes declared on the root. Root declarations are therefore
// plain attributes whose local names carry the prefix, and
// xmlContentProtection writes its prefixed names itself.

type xmlMPD struct {
	XMLName xml.Name `xml:"MPD"`
	// Namespace declarations; on input encoding/xml consumes them itself
	// and these stay empty.
	Xmlns          string `xml:"xmlns,attr,omitempty"`
	XmlnsCENC      string `xml:"xmlns:cenc,attr,omitempty"`
	XmlnsMSPR      string `xml:"xmlns:mspr,attr,omitempty"`
	XmlnsXSI       string `xml:"xmlns:xsi,attr,omitempty"`
	SchemaLocation string `xml:"xsi:schemaLocation,attr,omitempty"`

	Type                      string      `xml:"type,attr,omitempty"`
	Profiles                  string      `xml:"profiles,attr,omitempty"`
	MinBufferTime             string      `xml:"minBufferTime,attr,omitempty"`
	MediaPresentationDuration string      `xml:"mediaPresentationDuration,attr,omitempty"`
	Periods                   []xmlPeriod `xml:"Period"`
}

type xmlPeriod struct {
	ID             string             `xml:"id,attr,omitempty"`
	Start          string             `xml:"start,attr,omitempty"`
	AdaptationSets []xmlAdaptationSet `xml:"AdaptationSet"`
}

// xmlAdaptationSet follows AdaptationSetType: the RepresentationBaseType
// sequence (AudioChannelConfiguration, ContentProtection, ...) comes first,
// then the AdaptationSet's own (SegmentTemplate, Representation).
type xmlAdaptationSet struct {
	ID               uint32 `xml:"id,attr"`
	ContentType      string `xml:"contentType,attr,omitempty"`
	MimeType         string `xml:"mimeType,attr,omitempty"`
	Lang             string `xml:"lang,attr,omitempty"`
	SegmentAlignment string `xml:"segmentAlignment,attr,omitempty"`
	StartWithSAP     int    `xml:"startWithSAP,attr,omitempty"`
	MaxWidth         int    `xml:"maxWidth,attr,omitempty"`
	MaxHeight        int    `xml:"maxHeight,attr,omitempty"`
	MaxFrameRate     string `xml:"maxFrameRate,attr,omitempty"`
	Par              string `xml:"par,attr,omitempty"`

	// Encode never writes this level's AudioChannelConfiguration or
	// SegmentTemplate; Decode reads them for inheritance.
	AudioChannelConfigurations []xmlDescriptor        `xml:"AudioChannelConfiguration"`
	ContentProtections         []xmlContentProtection `xml:"ContentProtection"`
	SegmentTemplate            *xmlSegmentTemplate    `xml:"SegmentTemplate"`
	Representations            []xmlRepresentation    `xml:"Representation"`
}

// xmlRepresentation follows RepresentationType: RepresentationBaseType's
// sequence, then BaseURL ... SegmentTemplate.
type xmlRepresentation struct {
	ID                string `xml:"id,attr"`
	MimeType          string `xml:"mimeType,attr,omitempty"` // read only; Encode puts it on the AdaptationSet
	Bandwidth         uint64 `xml:"bandwidth,attr"`
	Codecs            string `xml:"codecs,attr,omitempty"`
	Width             int    `xml:"width,attr,omitempty"`
	Height            int    `xml:"height,attr,omitempty"`
	FrameRate         string `xml:"frameRate,attr,omitempty"`
	Sar               string `xml:"sar,attr,omitempty"`
	AudioSamplingRate int    `xml:"audioSamplingRate,attr,omitempty"`

	AudioChannelConfigurations []xmlDescriptor        `xml:"AudioChannelConfiguration"`
	ContentProtections         []xmlContentProtection `xml:"ContentProtection"`
	SegmentTemplate            *xmlSegmentTemplate    `xml:"SegmentTemplate"`
}

type xmlDescriptor struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr,omitempty"`
}

// xmlContentProtection's tags are for decoding (namespace URIs); MarshalXML
// writes the cenc:/mspr: prefixes literally.
type xmlContentProtection struct {
	SchemeIDURI string   `xml:"schemeIdUri,attr"`
	Value       string   `xml:"value,attr"`
	DefaultKID  string   `xml:"urn:mpeg:cenc:2013 default_KID,attr"`
	PSSH        []string `xml:"urn:mpeg:cenc:2013 pssh"`
	PRO         []string `xml:"urn:microsoft:playready pro"`
}

// MarshalXML writes the descriptor with the prefixes the root declares.
func (cp xmlContentProtection) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start = xml.StartElement{
		Name: xml.Name{Local: "ContentProtection"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "schemeIdUri"}, Value: cp.SchemeIDURI}},
	}
	if cp.Value != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "value"}, Value: cp.Value})
	}
	if cp.DefaultKID != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "cenc:default_KID"}, Value: cp.DefaultKID})
	}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	// cenc:pssh first: it is the generic form every current client reads;
	// mspr:pro is the PlayReady-specific legacy form.
	for _, v := range cp.PSSH {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "cenc:pssh"}}); err != nil {
			return err
		}
	}
	for _, v := range cp.PRO {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "mspr:pro"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// xmlSegmentTemplate follows SegmentTemplateType (via MultipleSegmentBaseType:
// SegmentTimeline is its only child we use). Pointers tell "absent" from
// zero, which matters for inheritance and for the 23009-1 defaults.
type xmlSegmentTemplate struct {
	Timescale              *uint32             `xml:"timescale,attr,omitempty"`
	PresentationTimeOffset *uint64             `xml:"presentationTimeOffset,attr,omitempty"`
	Initialization         string              `xml:"initialization,attr,omitempty"`
	Media                  string              `xml:"media,attr,omitempty"`
	StartNumber            *uint64             `xml:"startNumber,attr,omitempty"`
	Timeline               *xmlSegmentTimeline `xml:"SegmentTimeline"`
}

type xmlSegmentTimeline struct {
	S []xmlS `xml:"S"`
}

type xmlS struct {
	T *uint64 `xml:"t,attr,omitempty"`
	D uint64  `xml:"d,attr"`
	R int64   `xml:"r,attr,omitempty"`
}

func boolAttr(b bool) string {
	if b {
		return "true"
	}
	return ""
}

// parseConditionalUint reads segmentAlignment, which current schemas type as
// xs:boolean and 23009-1:2012 as boolean-or-group-number; any group number
// also means aligned.
func parseConditionalUint(s string) (bool, error) {
	switch s {
	case "", "false", "0":
		return false, nil
	case "true":
		return true, nil
	}
	if _, err := strconv.ParseUint(s, 10, 32); err != nil {
		return false, err
	}
	return true, nil
}

// selfCloseEmpty rewrites <Name attrs></Name> as <Name attrs/>.
// encoding/xml never writes empty-element tags, and in a manifest with
// thousands of S entries the explicit end tags are pure overhead (and noise
// for anyone reading it). It relies on what the encoder guarantees: '<' and
// '>' inside attribute values are escaped, so the last '<' before "></" is
// the start of the element being closed.
func selfCloseEmpty(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for {
		i := bytes.Index(b, []byte("></"))
		if i < 0 {
			return append(out, b...)
		}
		j := bytes.IndexByte(b[i+3:], '>')
		k := bytes.LastIndexByte(b[:i], '<')
		if j >= 0 && k >= 0 {
			name := b[i+3 : i+3+j]
			start := b[k+1 : i] // "Name attrs", or "/Name" for an end tag
			if len(name) > 0 && bytes.HasPrefix(start, name) && (len(start) == len(name) || start[len(name)] == ' ') {
				out = append(out, b[:i]...)
				out = append(out, "/>"...)
				b = b[i+3+j+1:]
				continue
			}
		}
		out = append(out, b[:i+3]...)
		b = b[i+3:]
	}
}
