package mpd

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const goldenPath = "testdata/protected.mpd"

func encode(t *testing.T, m *MPD) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	got := encode(t, sampleMPD(t))
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it after review)\n--- got ---\n%s", goldenPath, got)
	}
}

// TestEncodeBytes pins what a generic XML round trip would not notice:
// the literal prefixes, the root attributes, and the element order the
// schema demands.
func TestEncodeBytes(t *testing.T) {
	out := string(encode(t, sampleMPD(t)))

	mustContain := []string{
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n<MPD ",
		`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" xmlns:mspr="urn:microsoft:playready" ` +
			`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:mpeg:dash:schema:mpd:2011 DASH-MPD.xsd" ` +
			`type="static" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" mediaPresentationDuration="PT20.040S">`,
		`<Period id="0" start="PT0S">`,
		`<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="` + videoKID + `"/>`,
		`<ContentProtection schemeIdUri="` + SchemeWidevine + `" value="Widevine">`,
		`<ContentProtection schemeIdUri="` + SchemePlayReady + `" value="MSPR 2.0">`,
		`<cenc:pssh>AAAA`,
		`<mspr:pro>`,
		`<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>`,
		`<S t="0" d="25600" r="2"/>`,
		`</MPD>` + "\n",
	}
	for _, s := range mustContain {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	// encoding/xml falls back to xmlns="..." on each element or to
	// generated prefixes when names are namespaced the usual way.
	for _, s := range []string{`<pssh`, `<pro`, `xmlns="urn:mpeg:cenc:2013"`, `xmlns:_`, ` default_KID=`} {
		if strings.Contains(out, s) {
			t.Errorf("output contains %q", s)
		}
	}
	if strings.HasPrefix(out, "<?xml") && strings.Count(out, "<?xml") != 1 {
		t.Error("more than one XML declaration")
	}

	order := []string{
		`<AdaptationSet id="0"`,
		`mp4protection:2011`, SchemeWidevine, SchemePlayReady,
		`<Representation id="video_640x360"`, `<SegmentTemplate`, `<SegmentTimeline>`, `<S `,
		`<AdaptationSet id="1"`,
		`mp4protection:2011`, SchemeWidevine, SchemePlayReady,
		`<Representation id="audio_en_128k"`, `<AudioChannelConfiguration`, `<SegmentTemplate`,
	}
	pos := 0
	for _, s := range order {
		i := strings.Index(out[pos:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order after byte %d", s, pos)
		}
		pos += i + len(s)
	}
	// Inside the PlayReady descriptor: pssh then pro.
	pr := out[strings.Index(out, SchemePlayReady):]
	if strings.Index(pr, "<cenc:pssh>") > strings.Index(pr, "<mspr:pro>") {
		t.Error("mspr:pro before cenc:pssh")
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleMPD(t)
	first := encode(t, in)
	got, err := Decode(bytes.NewReader(first))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}

	// Decode returns what the manifest says: the default min buffer time,
	// and one S per segment with absolute times (the fixture already is).
	want := sampleMPD(t)
	want.MinBufferTime = defaultMinBufferTime
	for i := range want.AdaptationSets {
		for j := range want.AdaptationSets[i].Representations {
			want.AdaptationSets[i].Representations[j].SegmentTemplate.StartNumber = 1
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode(Encode(m)) differs\n got: %+v\nwant: %+v", got, want)
	}

	// Re-encoding what was decoded is byte-identical: nothing is lost.
	if second := encode(t, got); !bytes.Equal(first, second) {
		t.Errorf("second encoding differs:\n%s", second)
	}
}

func TestEncodeTimelineCompaction(t *testing.T) {
	m := sampleMPD(t)
	st := &m.AdaptationSets[0].Representations[0].SegmentTemplate
	// Already-compact input with a gap: t must appear on the first and
	// on the post-gap entry only.
	st.Timeline = []S{{T: 1000, D: 512, R: 3}, {D: 512}, {T: 10000, D: 512}, {T: 10512, D: 1024, R: 1}}
	st.PresentationTimeOffset = 1000
	st.StartNumber = 7
	want := []string{
		`<SegmentTemplate timescale="12800" presentationTimeOffset="1000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s" startNumber="7">`,
		`<SegmentTimeline>`,
		`<S t="1000" d="512" r="4"/>`,
		`<S t="10000" d="512"/>`,
		`<S d="1024" r="1"/>`,
		`</SegmentTimeline>`,
	}
	if got := trimmedLines(encode(t, m)); !strings.Contains(got, strings.Join(want, "\n")) {
		t.Errorf("want\n%s\nin\n%s", strings.Join(want, "\n"), got)
	}
}

// trimmedLines drops indentation so that tests do not depend on nesting depth.
func trimmedLines(b []byte) string {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

func TestEncodeNormalizes(t *testing.T) {
	m := sampleMPD(t)
	as := &m.AdaptationSets[1]
	as.Lang = "und"
	// mp4protection last and in upper case: it must still come out first.
	cps := as.ContentProtections
	cps[0].DefaultKID = strings.ToUpper(cps[0].DefaultKID)
	cps[1].SchemeIDURI = strings.ToUpper(cps[1].SchemeIDURI)
	as.ContentProtections = []ContentProtection{cps[1], cps[2], cps[0]}
	out := string(encode(t, m))
	audio := out[strings.Index(out, `<AdaptationSet id="1"`):]
	if strings.Contains(audio, "lang=") {
		t.Error(`lang="und" was written`)
	}
	i0 := strings.Index(audio, "mp4protection")
	i1 := strings.Index(audio, SchemeWidevine)
	i2 := strings.Index(audio, SchemePlayReady)
	if i0 < 0 || i1 < 0 || i2 < 0 || !(i0 < i1 && i1 < i2) {
		t.Errorf("descriptor order mp4protection=%d widevine=%d playready=%d", i0, i1, i2)
	}
	if !strings.Contains(audio, `cenc:default_KID="`+audioKID+`"`) {
		t.Error("default_KID not lower-cased")
	}
}

func TestEncodeMinBufferTime(t *testing.T) {
	m := sampleMPD(t)
	m.MinBufferTime = 1500 * time.Millisecond
	m.Duration = time.Hour + 2*time.Minute + 3500*time.Millisecond
	out := string(encode(t, m))
	if !strings.Contains(out, `minBufferTime="PT1.500S" mediaPresentationDuration="PT1H2M3.500S"`) {
		t.Errorf("durations not as expected:\n%s", out[:600])
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return 0, errors.New("disk full")
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m *MPD)
		want   string
	}{
		{"no duration", func(m *MPD) { m.Duration = 0 }, "Duration"},
		{"negative min buffer", func(m *MPD) { m.MinBufferTime = -time.Second }, "MinBufferTime"},
		{"no adaptation sets", func(m *MPD) { m.AdaptationSets = nil }, "no AdaptationSets"},
		{"duplicate AS id", func(m *MPD) { m.AdaptationSets[1].ID = 0 }, "duplicate id"},
		{"negative AS id", func(m *MPD) { m.AdaptationSets[1].ID = -1 }, "unsignedInt"},
		{"bad content type", func(m *MPD) { m.AdaptationSets[0].ContentType = "movie" }, "contentType"},
		{"no mime type", func(m *MPD) { m.AdaptationSets[0].MimeType = "" }, "mimeType"},
		{"bad lang", func(m *MPD) { m.AdaptationSets[1].Lang = "en_US" }, "lang"},
		{"bad SAP", func(m *MPD) { m.AdaptationSets[0].StartWithSAP = 7 }, "startWithSAP"},
		{"bad par", func(m *MPD) { m.AdaptationSets[0].Par = "16/9" }, "par"},
		{"bad max frame rate", func(m *MPD) { m.AdaptationSets[0].MaxFrameRate = "29.97" }, "maxFrameRate"},
		{"no representations", func(m *MPD) { m.AdaptationSets[0].Representations = nil }, "no Representations"},
		{"duplicate rep id", func(m *MPD) { m.AdaptationSets[1].Representations[0].ID = "video_640x360" }, "already used"},
		{"rep id with space", func(m *MPD) { m.AdaptationSets[0].Representations[0].ID = "video 1" }, "whitespace"},
		{"zero bandwidth", func(m *MPD) { m.AdaptationSets[0].Representations[0].Bandwidth = 0 }, "bandwidth"},
		{"huge bandwidth", func(m *MPD) { m.AdaptationSets[0].Representations[0].Bandwidth = 1 << 32 }, "bandwidth"},
		{"no codecs", func(m *MPD) { m.AdaptationSets[0].Representations[0].Codecs = "" }, "codecs"},
		{"bad codecs", func(m *MPD) { m.AdaptationSets[0].Representations[0].Codecs = "avc1.64001e, mp4a.40.2" }, "codecs"},
		{"bad frame rate", func(m *MPD) { m.AdaptationSets[0].Representations[0].FrameRate = "25.0" }, "frameRate"},
		{"bad sar", func(m *MPD) { m.AdaptationSets[0].Representations[0].Sar = "1" }, "sar"},
		{"negative width", func(m *MPD) { m.AdaptationSets[0].Representations[0].Width = -1 }, "width"},
		{"no timescale", func(m *MPD) { m.AdaptationSets[0].Representations[0].SegmentTemplate.Timescale = 0 }, "timescale"},
		{"no init", func(m *MPD) { m.AdaptationSets[0].Representations[0].SegmentTemplate.Initialization = "" }, "initialization"},
		{"number in init", func(m *MPD) {
			m.AdaptationSets[0].Representations[0].SegmentTemplate.Initialization = "init-$Number$.mp4"
		}, "not allowed in initialization"},
		{"media without number", func(m *MPD) {
			m.AdaptationSets[0].Representations[0].SegmentTemplate.Media = "$RepresentationID$/seg.m4s"
		}, "needs $Number$ or $Time$"},
		{"media typo", func(m *MPD) {
			m.AdaptationSets[0].Representations[0].SegmentTemplate.Media = "$RepresentationID$/$Numbr$.m4s"
		}, "unknown identifier"},
		{"huge start number", func(m *MPD) {
			m.AdaptationSets[0].Representations[0].SegmentTemplate.StartNumber = 1 << 32
		}, "startNumber"},
		{"empty timeline", func(m *MPD) { m.AdaptationSets[0].Representations[0].SegmentTemplate.Timeline = nil }, "empty SegmentTimeline"},
		{"overlap", func(m *MPD) {
			m.AdaptationSets[0].Representations[0].SegmentTemplate.Timeline = []S{{D: 100}, {T: 50, D: 100}}
		}, "overlaps"},
		{"no mp4protection", func(m *MPD) {
			m.AdaptationSets[0].ContentProtections = m.AdaptationSets[0].ContentProtections[1:]
		}, "without a urn:mpeg:dash:mp4protection:2011"},
		{"two mp4protection", func(m *MPD) {
			cps := m.AdaptationSets[0].ContentProtections
			m.AdaptationSets[0].ContentProtections = append(cps, cps[0])
		}, "more than one"},
		{"bad scheme value", func(m *MPD) { m.AdaptationSets[0].ContentProtections[0].Value = "aes" }, "Common Encryption scheme"},
		{"no default KID", func(m *MPD) { m.AdaptationSets[0].ContentProtections[0].DefaultKID = "" }, "required"},
		{"bad default KID", func(m *MPD) {
			m.AdaptationSets[0].ContentProtections[0].DefaultKID = "6d1a4c3e8b2f4e5a9c7d0f1e2d3c4b5a"
		}, "not a UUID"},
		{"KID on DRM descriptor", func(m *MPD) { m.AdaptationSets[0].ContentProtections[1].DefaultKID = videoKID }, "only on the mp4protection"},
		{"pssh on mp4protection", func(m *MPD) {
			cps := m.AdaptationSets[0].ContentProtections
			cps[0].PSSH = cps[1].PSSH
		}, "not on mp4protection"},
		{"pssh of another system", func(m *MPD) {
			cps := m.AdaptationSets[0].ContentProtections
			cps[1].PSSH = cps[2].PSSH
		}, "does not match"},
		{"pssh payload only", func(m *MPD) {
			cps := m.AdaptationSets[0].ContentProtections
			cps[1].PSSH = cps[1].PSSH[8:]
		}, "pssh"},
		{"pro on widevine", func(m *MPD) {
			cps := m.AdaptationSets[0].ContentProtections
			cps[1].PRO = cps[2].PRO
		}, "only meaningful on the PlayReady"},
		{"pro truncated", func(m *MPD) {
			cps := m.AdaptationSets[0].ContentProtections
			cps[2].PRO = cps[2].PRO[:len(cps[2].PRO)-2]
		}, "PlayReady Object length"},
		{"bad system uuid", func(m *MPD) { m.AdaptationSets[0].ContentProtections[1].SchemeIDURI = "urn:uuid:widevine" }, "schemeIdUri"},
		{"empty scheme", func(m *MPD) { m.AdaptationSets[0].ContentProtections[1].SchemeIDURI = "" }, "schemeIdUri is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMPD(t)
			tc.mutate(m)
			var w failWriter
			err := m.Encode(&w)
			if err == nil {
				t.Fatal("Encode succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if w.n != 0 {
				t.Errorf("%d bytes written before the error", w.n)
			}
		})
	}
}

func TestEncodeWriteError(t *testing.T) {
	if err := sampleMPD(t).Encode(&failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("got %v, want the writer's error", err)
	}
	var m *MPD
	if err := m.Encode(&bytes.Buffer{}); err == nil {
		t.Error("nil *MPD encoded")
	}
}

func TestEncodeClearTrack(t *testing.T) {
	m := sampleMPD(t)
	m.AdaptationSets[1].ContentProtections = nil
	out := string(encode(t, m))
	audio := out[strings.Index(out, `<AdaptationSet id="1"`):]
	if strings.Contains(audio, "ContentProtection") {
		t.Error("clear track got a ContentProtection")
	}
}

// An MPD in the style of other packagers: SegmentTemplate and
// AudioChannelConfiguration on the AdaptationSet, mimeType on the
// Representation, no @t on the first S, @r=-1, wrapped base64.
const foreignMPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" profiles="urn:mpeg:dash:profile:isoff-live:2011"
     type="static" minBufferTime="PT1.5S" mediaPresentationDuration="P0DT0H0M10S">
  <Period>
    <AdaptationSet segmentAlignment="1" lang="de">
      <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="6"/>
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cbcs" cenc:default_KID="0b7e2f49-3c1d-4a86-b5e0-9d2c7f1a6e38"/>
      <ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed">
        <cenc:pssh>AAAAIHBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAA
          AAA=</cenc:pssh>
      </ContentProtection>
      <SegmentTemplate timescale="1000" media="a/$Time$.m4s" initialization="a/init.mp4">
        <SegmentTimeline><S d="4000" r="-1"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="a1" mimeType="audio/mp4" bandwidth="384000" codecs="ec-3" audioSamplingRate="48000"/>
      <Representation id="a2" mimeType="audio/mp4" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate startNumber="5"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`

func TestDecodeForeign(t *testing.T) {
	m, err := Decode(strings.NewReader(foreignMPD))
	if err != nil {
		t.Fatal(err)
	}
	if m.Duration != 10*time.Second || m.MinBufferTime != 1500*time.Millisecond {
		t.Errorf("durations %v %v", m.Duration, m.MinBufferTime)
	}
	as := m.AdaptationSets[0]
	if !as.SegmentAlignment || as.MimeType != "audio/mp4" || as.Lang != "de" {
		t.Errorf("adaptation set %+v", as)
	}
	if len(as.ContentProtections) != 2 || as.ContentProtections[0].DefaultKID != audioKID || as.ContentProtections[0].Value != "cbcs" {
		t.Fatalf("content protections %+v", as.ContentProtections)
	}
	if id, err := psshSystemID(as.ContentProtections[1].PSSH); err != nil || "urn:uuid:"+formatUUID(id) != SchemeWidevine {
		t.Errorf("pssh: %v %x", err, as.ContentProtections[1].PSSH)
	}
	wantTL := []S{{T: 0, D: 4000}, {T: 4000, D: 4000}, {T: 8000, D: 4000}}
	for i, want := range []struct {
		channels int
		start    uint64
	}{{6, 1}, {2, 5}} {
		r := as.Representations[i]
		if r.AudioChannels != want.channels {
			t.Errorf("rep %d channels %d want %d", i, r.AudioChannels, want.channels)
		}
		st := r.SegmentTemplate
		if st.Timescale != 1000 || st.Media != "a/$Time$.m4s" || st.Initialization != "a/init.mp4" || st.StartNumber != want.start {
			t.Errorf("rep %d template %+v", i, st)
		}
		if !reflect.DeepEqual(st.Timeline, wantTL) {
			t.Errorf("rep %d timeline %+v", i, st.Timeline)
		}
	}
	// What was read can be written: cbcs, inherited templates and all.
	if err := m.Encode(&bytes.Buffer{}); err != nil {
		t.Errorf("re-encode: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := string(encode(t, sampleMPD(t)))
	tests := []struct {
		name, doc, want string
	}{
		{"not xml", "hello", "parse"},
		{"wrong root", `<MPX xmlns="urn:mpeg:dash:schema:mpd:2011"/>`, "MPD"},
		{"wrong namespace", `<MPD xmlns="urn:example"/>`, "root element"},
		{"dynamic", strings.Replace(good, `type="static"`, `type="dynamic"`, 1), "dynamic"},
		{"two periods", strings.Replace(good, `</Period>`, `</Period><Period/>`, 1), "2 Periods"},
		{"period start", strings.Replace(good, `start="PT0S"`, `start="PT10S"`, 1), "Period@start"},
		{"bad duration", strings.Replace(good, `"PT20.040S"`, `"P1M"`, 1), "mediaPresentationDuration"},
		{"bad bandwidth", strings.Replace(good, `bandwidth="131072"`, `bandwidth="lots"`, 1), "parse"},
		{"bad base64", strings.Replace(good, `<cenc:pssh>`, `<cenc:pssh>!!`, 1), "cenc:pssh"},
		{"two pssh", strings.Replace(good, `</cenc:pssh>`, `</cenc:pssh><cenc:pssh>AAAA</cenc:pssh>`, 1), "at most one"},
		{"start number 0", strings.Replace(good, `startNumber="1"`, `startNumber="0"`, 1), "startNumber 0"},
		{"huge r", strings.Replace(good, `r="2"`, `r="99999999999"`, 1), "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.doc))
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestDecodeMissingTemplate(t *testing.T) {
	doc := `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S">
<Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>`
	if _, err := Decode(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), "no SegmentTemplate") {
		t.Errorf("got %v", err)
	}
	doc = strings.Replace(doc, `bandwidth="1"/>`, `bandwidth="1"><SegmentTemplate media="$Number$"/></Representation>`, 1)
	if _, err := Decode(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), "no SegmentTimeline") {
		t.Errorf("got %v", err)
	}
}

func TestGoldenFileIsCurrent(t *testing.T) {
	// The golden file is also what the schema test validates; make sure it
	// decodes to the fixture so a stale file cannot hide behind -update.
	f, err := os.Open(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.AdaptationSets) != 2 || len(m.AdaptationSets[0].Representations[0].SegmentTemplate.Timeline) != 10 {
		t.Errorf("unexpected golden content: %+v", m)
	}
}

// Free-text attribute values are escaped, so they can neither break the
// document nor confuse the empty-element rewriting.
func TestEncodeEscapes(t *testing.T) {
	m := sampleMPD(t)
	hostile := `Wide"vine'></ContentProtection><x a="&amp;`
	m.AdaptationSets[0].ContentProtections[1].Value = hostile
	m.AdaptationSets[0].MimeType = `video/mp4; codecs="avc1.64001e"`
	out := encode(t, m)
	got, err := Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, out)
	}
	if v := got.AdaptationSets[0].ContentProtections[1].Value; v != hostile {
		t.Errorf("value = %q, want %q", v, hostile)
	}
	if v := got.AdaptationSets[0].MimeType; v != m.AdaptationSets[0].MimeType {
		t.Errorf("mimeType = %q", v)
	}
}

// multiKeyMPD is sampleMPD with a second video rendition under its own key: the protection moves
// from the AdaptationSet to each Representation.
func multiKeyMPD(t testing.TB) *MPD {
	m := sampleMPD(t)
	video := &m.AdaptationSets[0]
	sd := video.Representations[0]
	sd.ContentProtections = video.ContentProtections
	hd := sd
	hd.ID, hd.Width, hd.Height, hd.Bandwidth = "video_1280x720", 1280, 720, 3_000_000
	hd.ContentProtections = protections(t, audioKID)
	video.ContentProtections = nil
	video.Representations = []Representation{sd, hd}
	return m
}

func TestRepresentationContentProtection(t *testing.T) {
	doc := encode(t, multiKeyMPD(t))
	if strings.Count(string(doc), "cenc:default_KID") != 3 {
		t.Errorf("want a default_KID per video Representation and on the audio set:\n%s", doc)
	}
	m, err := Decode(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	reps := m.AdaptationSets[0].Representations
	if len(m.AdaptationSets[0].ContentProtections) != 0 || len(reps) != 2 {
		t.Fatalf("decoded %+v", m.AdaptationSets[0])
	}
	if reps[0].ContentProtections[0].DefaultKID == reps[1].ContentProtections[0].DefaultKID {
		t.Errorf("both Representations decoded with KID %s", reps[0].ContentProtections[0].DefaultKID)
	}
	if !reflect.DeepEqual(reps[1].ContentProtections, protections(t, audioKID)) {
		t.Errorf("round trip changed the protection: %+v", reps[1].ContentProtections)
	}
}
