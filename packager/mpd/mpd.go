// Package mpd writes static MPEG-DASH manifests (ISO/IEC 23009-1, isoff-live
// profile) for CENC-protected CMAF tracks.
//
// The model is deliberately narrow: one Period starting at zero, one
// SegmentTemplate with a SegmentTimeline per Representation, and
// ContentProtection descriptors on the AdaptationSet, which is the layout the
// DASH-IF interoperability guidelines recommend for on-demand CMAF content.
// Encode checks the model before writing anything, so a manifest that would
// not validate against the DASH schema, or that players would misread, is
// reported as an error instead of being published.
//
// Decode reads back what Encode writes (and the same subset of the format
// from other packagers) so later tools can inspect or rewrite a manifest.
package mpd

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Well-known ContentProtection schemes. DRM systems are identified by
// "urn:uuid:" plus their system ID, the same ID their pssh boxes carry.
const (
	// SchemeMP4Protection signals Common Encryption itself; its @value is the
	// protection scheme 4CC ("cenc", "cbcs", ...).
	SchemeMP4Protection = "urn:mpeg:dash:mp4protection:2011"
	// SchemeWidevine is Google Widevine's system ID as a URN.
	SchemeWidevine = "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
	// SchemePlayReady is Microsoft PlayReady's system ID as a URN.
	SchemePlayReady = "urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95"

	// AudioChannelConfigurationScheme is the MPEG (ISO/IEC 23003-3) channel
	// configuration scheme whose @value is the plain channel count.
	AudioChannelConfigurationScheme = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
)

// Namespaces and fixed root attributes.
const (
	nsMPD          = "urn:mpeg:dash:schema:mpd:2011"
	nsCENC         = "urn:mpeg:cenc:2013"
	nsMSPR         = "urn:microsoft:playready"
	nsXSI          = "http://www.w3.org/2001/XMLSchema-instance"
	schemaLocation = nsMPD + " DASH-MPD.xsd"
	profileLive    = "urn:mpeg:dash:profile:isoff-live:2011"

	// defaultMinBufferTime is what the DASH-IF guidelines and most packagers
	// use for segments of about two seconds.
	defaultMinBufferTime = 2 * time.Second

	xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
)

// MPD is a static, single-Period media presentation.
type MPD struct {
	// Duration is the mediaPresentationDuration. Required: a static MPD
	// without it (and without Period@duration) has no defined end.
	Duration time.Duration
	// MinBufferTime is written as-is; zero means two seconds.
	MinBufferTime  time.Duration
	AdaptationSets []AdaptationSet
}

// AdaptationSet is a set of interchangeable encodings of one track.
type AdaptationSet struct {
	ID                  int    // unique within the Period; written always (0 is a valid id)
	ContentType         string // "video" | "audio"; omitted when ""
	MimeType            string // "video/mp4" | "audio/mp4"; required
	Lang                string // BCP-47 / ISO 639; omitted when "" or "und"
	SegmentAlignment    bool   // omitted when false (the schema default)
	StartWithSAP        int    // 0..6; omitted when 0; 1 typical for CMAF
	MaxWidth, MaxHeight int    // video only; omitted when 0
	MaxFrameRate        string // "25" or "30000/1001"; omitted when ""
	Par                 string // picture aspect ratio, e.g. "16:9"; omitted when ""
	// ContentProtections are written in this order, except that the
	// mp4protection descriptor is always moved first, as DASH-IF IOP
	// recommends, so clients see the scheme and default_KID before any
	// DRM-specific data.
	ContentProtections []ContentProtection
	Representations    []Representation
}

// ContentProtection is one ContentProtection descriptor.
type ContentProtection struct {
	// SchemeIDURI is SchemeMP4Protection or "urn:uuid:<system id>".
	SchemeIDURI string
	// Value is "cenc" | "cbcs" (or "cens" | "cbc1") for mp4protection,
	// "MSPR 2.0" for PlayReady, optionally "Widevine" for Widevine.
	Value string
	// DefaultKID is cenc:default_KID as a UUID with dashes. Required on, and
	// only allowed on, the mp4protection descriptor; written lower-case.
	DefaultKID string
	// PSSH is a whole pssh box (header included), written base64 in
	// <cenc:pssh>. Its system ID must match SchemeIDURI.
	PSSH []byte
	// PRO is a PlayReady Object, written base64 in <mspr:pro>. PlayReady
	// only: older PlayReady clients read it instead of cenc:pssh.
	PRO []byte
}

// Representation is one encoding of a track.
type Representation struct {
	ID                string // unique within the Period, no whitespace
	Codecs            string // RFC 6381, e.g. "avc1.64001e", "mp4a.40.2"
	Bandwidth         uint64 // peak bits/s; 1..4294967295 (xs:unsignedInt)
	Width, Height     int    // omitted when 0
	FrameRate         string // "25" or "30000/1001"; omitted when ""
	Sar               string // "1:1"; omitted when ""
	AudioSamplingRate int    // Hz; omitted when 0
	// AudioChannels becomes an AudioChannelConfiguration descriptor with
	// AudioChannelConfigurationScheme; omitted when 0.
	AudioChannels int
	// ContentProtections on a Representation override the AdaptationSet's
	// (23009-1 5.3.7): multi-key titles give each rendition its own
	// default_KID and PSSH. Ordered as on the AdaptationSet.
	ContentProtections []ContentProtection
	SegmentTemplate    SegmentTemplate
}

// SegmentTemplate addresses a Representation's segments.
type SegmentTemplate struct {
	Timescale      uint32 // ticks per second; required
	Initialization string // e.g. "$RepresentationID$/init.mp4"; no $Number$/$Time$
	Media          string // e.g. "$RepresentationID$/$Number$.m4s"; needs $Number$ or $Time$
	// StartNumber is the number of the first segment; zero means 1.
	StartNumber uint64
	// PresentationTimeOffset is omitted when 0.
	PresentationTimeOffset uint64
	// Timeline lists the segments. Encode merges consecutive equal durations
	// into one S with @r and writes @t only where it is needed; Decode
	// returns one S per segment with T set on every entry and R == 0.
	Timeline []S
}

// S is one SegmentTimeline entry: R+1 segments of duration D (in timescale
// units) starting at T.
//
// When encoding, T of the first entry is the start of the timeline; on any
// later entry T == 0 means "right after the previous segment", and a non-zero
// T that differs from the previous segment's end is a discontinuity (a gap;
// overlaps are rejected). R must not be negative: a static manifest lists
// every segment.
type S struct {
	T uint64
	D uint64
	R int
}

// Encode writes the XML declaration and the MPD to w. The manifest is checked
// and rendered in memory first, so on error nothing has been written.
func (m *MPD) Encode(w io.Writer) error {
	if m == nil {
		return errors.New("mpd: Encode on nil *MPD")
	}
	doc, err := m.toXML()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(xmlHeader)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("mpd: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("mpd: marshal: %w", err)
	}
	buf.WriteByte('\n')
	if _, err := w.Write(selfCloseEmpty(buf.Bytes())); err != nil {
		return fmt.Errorf("mpd: write: %w", err)
	}
	return nil
}

// toXML checks m and builds the wire tree.
func (m *MPD) toXML() (*xmlMPD, error) {
	if m.Duration <= 0 {
		return nil, errors.New("mpd: Duration must be > 0 (a static MPD needs mediaPresentationDuration)")
	}
	if m.MinBufferTime < 0 {
		return nil, errors.New("mpd: MinBufferTime must not be negative")
	}
	if len(m.AdaptationSets) == 0 {
		return nil, errors.New("mpd: no AdaptationSets")
	}
	minBuf := m.MinBufferTime
	if minBuf == 0 {
		minBuf = defaultMinBufferTime
	}
	doc := &xmlMPD{
		Xmlns:                     nsMPD,
		XmlnsCENC:                 nsCENC,
		XmlnsMSPR:                 nsMSPR,
		XmlnsXSI:                  nsXSI,
		SchemaLocation:            schemaLocation,
		Type:                      "static",
		Profiles:                  profileLive,
		MinBufferTime:             formatDuration(minBuf),
		MediaPresentationDuration: formatDuration(m.Duration),
		Periods:                   []xmlPeriod{{ID: "0", Start: "PT0S"}},
	}
	period := &doc.Periods[0]

	// Both ids are used by clients to match sets and representations
	// across periods and in metrics; 23009-1 requires them unique per Period.
	asIDs := map[int]bool{}
	repIDs := map[string]bool{}
	for i := range m.AdaptationSets {
		as := &m.AdaptationSets[i]
		x, err := as.toXML(repIDs)
		if err != nil {
			return nil, fmt.Errorf("mpd: AdaptationSet %d (id %d): %w", i, as.ID, err)
		}
		if asIDs[as.ID] {
			return nil, fmt.Errorf("mpd: AdaptationSet %d: duplicate id %d", i, as.ID)
		}
		asIDs[as.ID] = true
		period.AdaptationSets = append(period.AdaptationSets, x)
	}
	return doc, nil
}

func (as *AdaptationSet) toXML(repIDs map[string]bool) (xmlAdaptationSet, error) {
	var x xmlAdaptationSet
	if as.ID < 0 || uint64(as.ID) > math.MaxUint32 {
		return x, fmt.Errorf("id %d out of xs:unsignedInt range", as.ID)
	}
	if as.ContentType != "" && !rfc6838ContentTypes[as.ContentType] {
		return x, fmt.Errorf("contentType %q is not an RFC 6838 top-level type", as.ContentType)
	}
	if as.MimeType == "" {
		return x, errors.New("mimeType is required")
	}
	lang := as.Lang
	if lang == "und" {
		// "und" says nothing a player can use and some players show it as
		// a language name; omitting @lang means the same.
		lang = ""
	}
	if lang != "" && !languageRe.MatchString(lang) {
		return x, fmt.Errorf("lang %q is not a valid xs:language / BCP 47 tag", as.Lang)
	}
	if as.StartWithSAP < 0 || as.StartWithSAP > 6 {
		return x, fmt.Errorf("startWithSAP %d not in 0..6", as.StartWithSAP)
	}
	if err := checkUint32("maxWidth", as.MaxWidth); err != nil {
		return x, err
	}
	if err := checkUint32("maxHeight", as.MaxHeight); err != nil {
		return x, err
	}
	if as.MaxFrameRate != "" && !frameRateRe.MatchString(as.MaxFrameRate) {
		return x, fmt.Errorf("maxFrameRate %q is not N or N/D", as.MaxFrameRate)
	}
	if as.Par != "" && !ratioRe.MatchString(as.Par) {
		return x, fmt.Errorf("par %q is not W:H", as.Par)
	}
	if len(as.Representations) == 0 {
		return x, errors.New("no Representations")
	}
	x = xmlAdaptationSet{
		ID:               uint32(as.ID),
		ContentType:      as.ContentType,
		MimeType:         as.MimeType,
		Lang:             lang,
		SegmentAlignment: boolAttr(as.SegmentAlignment),
		StartWithSAP:     as.StartWithSAP,
		MaxWidth:         as.MaxWidth,
		MaxHeight:        as.MaxHeight,
		MaxFrameRate:     as.MaxFrameRate,
		Par:              as.Par,
	}
	cps, err := contentProtectionsToXML(as.ContentProtections)
	if err != nil {
		return x, err
	}
	x.ContentProtections = cps
	for i := range as.Representations {
		r := &as.Representations[i]
		xr, err := r.toXML()
		if err != nil {
			return x, fmt.Errorf("Representation %d (id %q): %w", i, r.ID, err)
		}
		if repIDs[r.ID] {
			return x, fmt.Errorf("Representation %d: id %q already used in this Period", i, r.ID)
		}
		repIDs[r.ID] = true
		x.Representations = append(x.Representations, xr)
	}
	return x, nil
}

func contentProtectionsToXML(cps []ContentProtection) ([]xmlContentProtection, error) {
	var first, rest []xmlContentProtection
	for i := range cps {
		cp := &cps[i]
		x, isMP4, err := cp.toXML()
		if err != nil {
			return nil, fmt.Errorf("ContentProtection %d (%s): %w", i, cp.SchemeIDURI, err)
		}
		if isMP4 {
			if len(first) > 0 {
				// A track has exactly one protection scheme and one
				// default KID; two descriptors would contradict each other.
				return nil, fmt.Errorf("ContentProtection %d: more than one %s descriptor", i, SchemeMP4Protection)
			}
			first = append(first, x)
			continue
		}
		rest = append(rest, x)
	}
	if len(first) == 0 && len(rest) > 0 {
		// Without mp4protection clients cannot learn the scheme or the
		// default KID from the manifest (DASH-IF IOP requires it).
		return nil, fmt.Errorf("DRM ContentProtection without a %s descriptor", SchemeMP4Protection)
	}
	return append(first, rest...), nil
}

// toXML checks cp and reports whether it is the mp4protection descriptor.
func (cp *ContentProtection) toXML() (xmlContentProtection, bool, error) {
	var x xmlContentProtection
	scheme := cp.SchemeIDURI
	if scheme == "" {
		return x, false, errors.New("schemeIdUri is required")
	}
	if strings.ContainsAny(scheme, " \t\r\n") {
		return x, false, fmt.Errorf("schemeIdUri %q contains whitespace", scheme)
	}
	isMP4 := strings.EqualFold(scheme, SchemeMP4Protection)
	var systemID [16]byte
	isSystem := false
	if len(scheme) >= len("urn:uuid:") && strings.EqualFold(scheme[:len("urn:uuid:")], "urn:uuid:") {
		id, err := parseUUID(scheme[len("urn:uuid:"):])
		if err != nil {
			return x, false, fmt.Errorf("schemeIdUri: %w", err)
		}
		systemID, isSystem = id, true
		// RFC 4122 asks for lower-case output, and some players compare
		// the URN with their own system ID as a plain string.
		scheme = "urn:uuid:" + formatUUID(id)
	}
	if isMP4 {
		scheme = SchemeMP4Protection
		if !cencSchemes[cp.Value] {
			return x, false, fmt.Errorf("value %q is not a Common Encryption scheme (cenc, cbcs, cens, cbc1)", cp.Value)
		}
		if cp.DefaultKID == "" {
			return x, false, errors.New("cenc:default_KID is required on the mp4protection descriptor")
		}
		if len(cp.PSSH) > 0 || len(cp.PRO) > 0 {
			return x, false, errors.New("pssh/pro belong on a DRM system's descriptor, not on mp4protection")
		}
	} else if cp.DefaultKID != "" {
		return x, false, errors.New("cenc:default_KID is written only on the mp4protection descriptor")
	}
	x.SchemeIDURI = scheme
	x.Value = cp.Value
	if cp.DefaultKID != "" {
		kid, err := parseUUID(cp.DefaultKID)
		if err != nil {
			return x, false, fmt.Errorf("default_KID: %w", err)
		}
		x.DefaultKID = formatUUID(kid)
	}
	if len(cp.PSSH) > 0 {
		if !isSystem {
			return x, false, errors.New("a pssh box needs a urn:uuid:<system id> scheme")
		}
		id, err := psshSystemID(cp.PSSH)
		if err != nil {
			return x, false, fmt.Errorf("pssh: %w", err)
		}
		if id != systemID {
			// A box for another DRM would be handed to the wrong CDM.
			return x, false, fmt.Errorf("pssh: system ID %s does not match schemeIdUri", formatUUID(id))
		}
		x.PSSH = []string{base64.StdEncoding.EncodeToString(cp.PSSH)}
	}
	if len(cp.PRO) > 0 {
		if !strings.EqualFold(scheme, SchemePlayReady) {
			return x, false, errors.New("mspr:pro is only meaningful on the PlayReady descriptor")
		}
		if err := checkPRO(cp.PRO); err != nil {
			return x, false, fmt.Errorf("pro: %w", err)
		}
		x.PRO = []string{base64.StdEncoding.EncodeToString(cp.PRO)}
	}
	return x, isMP4, nil
}

func (r *Representation) toXML() (xmlRepresentation, error) {
	var x xmlRepresentation
	if r.ID == "" || strings.ContainsFunc(r.ID, isXMLSpaceOrZ) {
		return x, errors.New("id must be non-empty and contain no whitespace")
	}
	if r.Bandwidth == 0 || r.Bandwidth > math.MaxUint32 {
		return x, fmt.Errorf("bandwidth %d not in 1..%d (xs:unsignedInt)", r.Bandwidth, uint64(math.MaxUint32))
	}
	if err := checkCodecs(r.Codecs); err != nil {
		return x, err
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"width", r.Width}, {"height", r.Height}, {"audioSamplingRate", r.AudioSamplingRate}, {"audioChannels", r.AudioChannels}} {
		if err := checkUint32(f.name, f.v); err != nil {
			return x, err
		}
	}
	if r.FrameRate != "" && !frameRateRe.MatchString(r.FrameRate) {
		return x, fmt.Errorf("frameRate %q is not N or N/D", r.FrameRate)
	}
	if r.Sar != "" && !ratioRe.MatchString(r.Sar) {
		return x, fmt.Errorf("sar %q is not W:H", r.Sar)
	}
	st, err := r.SegmentTemplate.toXML()
	if err != nil {
		return x, fmt.Errorf("SegmentTemplate: %w", err)
	}
	cps, err := contentProtectionsToXML(r.ContentProtections)
	if err != nil {
		return x, err
	}
	x = xmlRepresentation{
		ID:                 r.ID,
		Bandwidth:          r.Bandwidth,
		Codecs:             r.Codecs,
		Width:              r.Width,
		Height:             r.Height,
		FrameRate:          r.FrameRate,
		Sar:                r.Sar,
		AudioSamplingRate:  r.AudioSamplingRate,
		ContentProtections: cps,
		SegmentTemplate:    &st,
	}
	if r.AudioChannels > 0 {
		x.AudioChannelConfigurations = []xmlDescriptor{{
			SchemeIDURI: AudioChannelConfigurationScheme,
			Value:       fmt.Sprint(r.AudioChannels),
		}}
	}
	return x, nil
}

func (st *SegmentTemplate) toXML() (xmlSegmentTemplate, error) {
	var x xmlSegmentTemplate
	if st.Timescale == 0 {
		return x, errors.New("timescale must be > 0")
	}
	if st.Initialization == "" {
		return x, errors.New("initialization is required (CMAF tracks have an init segment)")
	}
	if err := checkTemplate(st.Initialization, false); err != nil {
		return x, fmt.Errorf("initialization %q: %w", st.Initialization, err)
	}
	if st.Media == "" {
		return x, errors.New("media is required")
	}
	if err := checkTemplate(st.Media, true); err != nil {
		return x, fmt.Errorf("media %q: %w", st.Media, err)
	}
	start := st.StartNumber
	if start == 0 {
		start = 1
	}
	if start > math.MaxUint32 {
		return x, fmt.Errorf("startNumber %d exceeds xs:unsignedInt", start)
	}
	if len(st.Timeline) == 0 {
		return x, errors.New("empty SegmentTimeline")
	}
	ss, err := compactTimeline(st.Timeline)
	if err != nil {
		return x, fmt.Errorf("SegmentTimeline: %w", err)
	}
	ts := st.Timescale
	x = xmlSegmentTemplate{
		Timescale:      &ts,
		Initialization: st.Initialization,
		Media:          st.Media,
		StartNumber:    &start,
		Timeline:       &xmlSegmentTimeline{S: ss},
	}
	if st.PresentationTimeOffset != 0 {
		pto := st.PresentationTimeOffset
		x.PresentationTimeOffset = &pto
	}
	return x, nil
}

// Decode reads an MPD of the shape Encode writes: static, one Period,
// SegmentTemplate addressing with a SegmentTimeline. SegmentTemplate and
// AudioChannelConfiguration given on the AdaptationSet are inherited by its
// Representations, as 23009-1 defines. Every S in the result stands for one
// segment with its start time in T and R == 0.
//
// Things the model cannot hold without changing the meaning (several
// Periods, a dynamic MPD) are errors
// rather than being dropped silently.
func Decode(r io.Reader) (*MPD, error) {
	var doc xmlMPD
	dec := xml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("mpd: parse: %w", err)
	}
	if doc.XMLName.Local != "MPD" || !strings.EqualFold(doc.XMLName.Space, nsMPD) {
		return nil, fmt.Errorf("mpd: root element is {%s}%s, want {%s}MPD", doc.XMLName.Space, doc.XMLName.Local, nsMPD)
	}
	if doc.Type != "" && doc.Type != "static" {
		return nil, fmt.Errorf("mpd: type %q not supported (only static)", doc.Type)
	}
	if len(doc.Periods) != 1 {
		return nil, fmt.Errorf("mpd: %d Periods, only single-Period MPDs are supported", len(doc.Periods))
	}
	m := &MPD{}
	var err error
	if doc.MediaPresentationDuration != "" {
		if m.Duration, err = parseDuration(doc.MediaPresentationDuration); err != nil {
			return nil, fmt.Errorf("mpd: mediaPresentationDuration: %w", err)
		}
	}
	if doc.MinBufferTime != "" {
		if m.MinBufferTime, err = parseDuration(doc.MinBufferTime); err != nil {
			return nil, fmt.Errorf("mpd: minBufferTime: %w", err)
		}
	}
	p := &doc.Periods[0]
	if p.Start != "" {
		start, err := parseDuration(p.Start)
		if err != nil {
			return nil, fmt.Errorf("mpd: Period@start: %w", err)
		}
		if start != 0 {
			return nil, fmt.Errorf("mpd: Period@start %s not supported (must be 0)", p.Start)
		}
	}
	for i := range p.AdaptationSets {
		as, err := decodeAdaptationSet(&p.AdaptationSets[i], m.Duration)
		if err != nil {
			return nil, fmt.Errorf("mpd: AdaptationSet %d: %w", i, err)
		}
		m.AdaptationSets = append(m.AdaptationSets, as)
	}
	return m, nil
}

func decodeAdaptationSet(x *xmlAdaptationSet, dur time.Duration) (AdaptationSet, error) {
	as := AdaptationSet{
		ID:           int(x.ID),
		ContentType:  x.ContentType,
		MimeType:     x.MimeType,
		Lang:         x.Lang,
		StartWithSAP: x.StartWithSAP,
		MaxWidth:     x.MaxWidth,
		MaxHeight:    x.MaxHeight,
		MaxFrameRate: x.MaxFrameRate,
		Par:          x.Par,
	}
	var err error
	if as.SegmentAlignment, err = parseConditionalUint(x.SegmentAlignment); err != nil {
		return as, fmt.Errorf("segmentAlignment: %w", err)
	}
	for i := range x.ContentProtections {
		cp, err := decodeContentProtection(&x.ContentProtections[i])
		if err != nil {
			return as, fmt.Errorf("ContentProtection %d: %w", i, err)
		}
		as.ContentProtections = append(as.ContentProtections, cp)
	}
	for i := range x.Representations {
		xr := &x.Representations[i]
		if as.MimeType == "" {
			as.MimeType = xr.MimeType
		}
		r := Representation{
			ID:                xr.ID,
			Codecs:            xr.Codecs,
			Bandwidth:         xr.Bandwidth,
			Width:             xr.Width,
			Height:            xr.Height,
			FrameRate:         xr.FrameRate,
			Sar:               xr.Sar,
			AudioSamplingRate: xr.AudioSamplingRate,
		}
		for i := range xr.ContentProtections {
			cp, err := decodeContentProtection(&xr.ContentProtections[i])
			if err != nil {
				return as, fmt.Errorf("Representation %q: ContentProtection %d: %w", xr.ID, i, err)
			}
			r.ContentProtections = append(r.ContentProtections, cp)
		}
		acc := xr.AudioChannelConfigurations
		if len(acc) == 0 {
			acc = x.AudioChannelConfigurations
		}
		for _, d := range acc {
			// Other schemes (e.g. Dolby's bit masks) do not carry a
			// plain count; they are left out rather than misread.
			if d.SchemeIDURI == AudioChannelConfigurationScheme {
				if _, err := fmt.Sscan(d.Value, &r.AudioChannels); err != nil {
					return as, fmt.Errorf("Representation %q: AudioChannelConfiguration value %q: %w", xr.ID, d.Value, err)
				}
				break
			}
		}
		st := mergeTemplates(x.SegmentTemplate, xr.SegmentTemplate)
		if st == nil {
			return as, fmt.Errorf("Representation %q: no SegmentTemplate", xr.ID)
		}
		if r.SegmentTemplate, err = decodeSegmentTemplate(st, dur); err != nil {
			return as, fmt.Errorf("Representation %q: SegmentTemplate: %w", xr.ID, err)
		}
		as.Representations = append(as.Representations, r)
	}
	return as, nil
}

func decodeContentProtection(x *xmlContentProtection) (ContentProtection, error) {
	cp := ContentProtection{
		SchemeIDURI: x.SchemeIDURI,
		Value:       x.Value,
		DefaultKID:  x.DefaultKID,
	}
	var err error
	if cp.PSSH, err = decodeSingleBase64("cenc:pssh", x.PSSH); err != nil {
		return cp, err
	}
	if cp.PRO, err = decodeSingleBase64("mspr:pro", x.PRO); err != nil {
		return cp, err
	}
	return cp, nil
}

func decodeSingleBase64(name string, vals []string) ([]byte, error) {
	switch len(vals) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("%d %s elements, at most one is supported", len(vals), name)
	}
	// Manifests from other tools wrap long base64 lines.
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, vals[0])
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// mergeTemplates applies 23009-1's inheritance: attributes and the timeline
// on the Representation override those on the AdaptationSet.
func mergeTemplates(parent, child *xmlSegmentTemplate) *xmlSegmentTemplate {
	if parent == nil {
		return child
	}
	if child == nil {
		return parent
	}
	m := *parent
	if child.Timescale != nil {
		m.Timescale = child.Timescale
	}
	if child.PresentationTimeOffset != nil {
		m.PresentationTimeOffset = child.PresentationTimeOffset
	}
	if child.Initialization != "" {
		m.Initialization = child.Initialization
	}
	if child.Media != "" {
		m.Media = child.Media
	}
	if child.StartNumber != nil {
		m.StartNumber = child.StartNumber
	}
	if child.Timeline != nil {
		m.Timeline = child.Timeline
	}
	return &m
}

func decodeSegmentTemplate(x *xmlSegmentTemplate, dur time.Duration) (SegmentTemplate, error) {
	st := SegmentTemplate{
		Timescale:      1, // 23009-1 default
		Initialization: x.Initialization,
		Media:          x.Media,
		StartNumber:    1,
	}
	if x.Timescale != nil {
		if *x.Timescale == 0 {
			return st, errors.New("timescale 0")
		}
		st.Timescale = *x.Timescale
	}
	if x.StartNumber != nil {
		if *x.StartNumber == 0 {
			// Valid DASH, but in this model 0 means "default 1": keeping
			// it would shift every segment number by one on re-encoding.
			return st, errors.New("startNumber 0 is not supported")
		}
		st.StartNumber = *x.StartNumber
	}
	if x.PresentationTimeOffset != nil {
		st.PresentationTimeOffset = *x.PresentationTimeOffset
	}
	if x.Timeline == nil {
		return st, errors.New("no SegmentTimeline (only timeline addressing is supported)")
	}
	end, err := periodEndTicks(dur, st.Timescale, st.PresentationTimeOffset)
	if err != nil {
		return st, err
	}
	if st.Timeline, err = expandTimeline(x.Timeline.S, end); err != nil {
		return st, fmt.Errorf("SegmentTimeline: %w", err)
	}
	return st, nil
}
