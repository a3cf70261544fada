package pssh

import (
	"bytes"
	"crypto/aes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
)

// Public test vectors (key ID in big-endian UUID order, content key). The
// keys must never appear in test output: failure messages print KIDs,
// checksums and XML only.
var (
	testKID1 = [16]byte{0x6b, 0xac, 0x8e, 0xc3, 0x0e, 0xe3, 0x37, 0x9f, 0x3d, 0x21, 0x29, 0x0b, 0x3a, 0x2b, 0xc9, 0xc3}
	testKey1 = [16]byte{0x3a, 0x54, 0x45, 0x2b, 0xa2, 0xd2, 0xca, 0xd1, 0x6b, 0xd8, 0x79, 0xcd, 0xd4, 0x7a, 0xb0, 0x5b}
	testKID2 = [16]byte{0xcb, 0xbc, 0x38, 0xb6, 0xb5, 0x0d, 0xab, 0x53, 0xf8, 0x26, 0x3e, 0x06, 0xb7, 0x38, 0x2a, 0xa3}
	testKey2 = [16]byte{0x95, 0x9d, 0xbd, 0x67, 0x39, 0x80, 0xe1, 0xd1, 0xbd, 0xf2, 0xd3, 0x62, 0x09, 0x49, 0x5f, 0x4e}
)

const (
	// base64 of each KID in PlayReady's little-endian GUID order.
	testKID1GUID = "w46sa+MOnzc9ISkLOivJww=="
	testKID2GUID = "tji8yw21U6v4Jj4Gtzgqow=="
	// AESCTR checksums over the GUID-order KIDs.
	testSum1 = "6ibP40uTOZ0="
	testSum2 = "HEsvlXUxnWw="

	testLAURL        = "https://pr.example.com/rightsmanager.asmx?cid=42&mode=live"
	testLAURLEscaped = "https://pr.example.com/rightsmanager.asmx?cid=42&amp;mode=live"
)

// specExamplePRO is the base64 PlayReady Object of the PlayReady Header
// Specification, §3.6.1 (a 4.0.0.0 header with CUSTOMATTRIBUTES).
const specExamplePRO = "XAMAAAEAAQBSAzwAVwBSAE0ASABFAEEARABFAFIAIAB4AG0AbABuAHMAPQAiAGgAdAB0AHAAOgAvAC8AcwBjAGgAZQBtAGEAcwAuAG0AaQBjAHIAbwBzAG8AZgB0AC4AYwBvAG0ALwBEAFIATQAvADIAMAAwADcALwAwADMALwBQAGwAYQB5AFIAZQBhAGQAeQBIAGUAYQBkAGUAcgAiACAAdgBlAHIAcwBpAG8AbgA9ACIANAAuADAALgAwAC4AMAAiAD4APABEAEEAVABBAD4APABQAFIATwBUAEUAQwBUAEkATgBGAE8APgA8AEsARQBZAEwARQBOAD4AMQA2ADwALwBLAEUAWQBMAEUATgA+ADwAQQBMAEcASQBEAD4AQQBFAFMAQwBUAFIAPAAvAEEATABHAEkARAA+ADwALwBQAFIATwBUAEUAQwBUAEkATgBGAE8APgA8AEsASQBEAD4AcQA1AEgAZwBDAFQAagA0ADAAawBHAGUATgBWAGgAVABIADkARwBlAHgAdwA9AD0APAAvAEsASQBEAD4APABDAEgARQBDAEsAUwBVAE0APgB3ACsATwBaAFYAcgA4AHYAegByAFEAPQA8AC8AQwBIAEUAQwBLAFMAVQBNAD4APABMAEEAXwBVAFIATAA+AGgAdAB0AHAAcwA6AC8ALwBwAHIAbwBmAGYAaQBjAGkAYQBsAHMAaQB0AGUALgBrAGUAeQBkAGUAbABpAHYAZQByAHkALgBtAGUAZABpAGEAcwBlAHIAdgBpAGMAZQBzAC4AdwBpAG4AZABvAHcAcwAuAG4AZQB0AC8AUABsAGEAeQBSAGUAYQBkAHkALwA8AC8ATABBAF8AVQBSAEwAPgA8AEMAVQBTAFQATwBNAEEAVABUAFIASQBCAFUAVABFAFMAPgA8AEkASQBTAF8ARABSAE0AXwBWAEUAUgBTAEkATwBOAD4AOAAuADAALgAxADcAMAA1AC4AMQA5ADwALwBJAEkAUwBfAEQAUgBNAF8AVgBFAFIAUwBJAE8ATgA+ADwALwBDAFUAUwBUAE8ATQBBAFQAVABSAEkAQgBVAFQARQBTAD4APAAvAEQAQQBUAEEAPgA8AC8AVwBSAE0ASABFAEEARABFAFIAPgA="

// decodePRO reads a PlayReady Object back, independently of the encoder,
// checking every length field on the way, and returns the header XML.
func decodePRO(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) < 10 {
		t.Fatalf("PRO is %d bytes, too short", len(b))
	}
	if got := binary.LittleEndian.Uint32(b[0:4]); got != uint32(len(b)) {
		t.Errorf("PRO length field = %d, object is %d bytes", got, len(b))
	}
	if got := binary.LittleEndian.Uint16(b[4:6]); got != 1 {
		t.Errorf("record count = %d, want 1", got)
	}
	if got := binary.LittleEndian.Uint16(b[6:8]); got != 1 {
		t.Errorf("record type = %d, want 1 (PlayReady Header)", got)
	}
	n := int(binary.LittleEndian.Uint16(b[8:10]))
	if n != len(b)-10 {
		t.Fatalf("record length = %d, %d bytes follow", n, len(b)-10)
	}
	if n%2 != 0 {
		t.Fatalf("record length %d is odd, not UTF-16", n)
	}
	units := make([]uint16, n/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[10+2*i:])
	}
	if len(units) > 0 && units[0] == 0xFEFF {
		t.Errorf("PRH starts with a byte-order mark")
	}
	return string(utf16.Decode(units))
}

// prhDoc mirrors the parts of the PlayReady Header the tests look at.
type prhDoc struct {
	XMLName xml.Name `xml:"http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader WRMHEADER"`
	Version string   `xml:"version,attr"`
	Data    struct {
		ProtectInfo struct {
			KeyLen string `xml:"KEYLEN"`
			AlgID  string `xml:"ALGID"`
			KIDs   []struct {
				AlgID    string `xml:"ALGID,attr"`
				Checksum string `xml:"CHECKSUM,attr"`
				Value    string `xml:"VALUE,attr"`
				Inner    string `xml:",innerxml"`
			} `xml:"KIDS>KID"`
		} `xml:"PROTECTINFO"`
		KID      string `xml:"KID"`
		Checksum string `xml:"CHECKSUM"`
		LAURL    string `xml:"LA_URL"`
	} `xml:"DATA"`
}

// parsePRH checks that s is one well-formed XML element with nothing around
// it (no declaration, no trailing data), then decodes it.
func parsePRH(t *testing.T, s string) prhDoc {
	t.Helper()
	if strings.HasPrefix(s, "<?xml") {
		t.Errorf("PRH must not carry an XML declaration")
	}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("PRH is not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 {
				t.Errorf("text outside the root element: %q", tok)
			}
		default:
			t.Errorf("unexpected token %T in PRH", tok)
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("PRH has %d root elements, final depth %d", roots, depth)
	}
	var doc prhDoc
	if err := xml.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("PRH does not decode: %v", err)
	}
	return doc
}

func TestPlayReadyChecksumVectors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kid, key  [16]byte
		guid, sum string
	}{
		{"vector 1", testKID1, testKey1, testKID1GUID, testSum1},
		{"vector 2", testKID2, testKey2, testKID2GUID, testSum2},
	} {
		if got := prKIDValue(tc.kid); got != tc.guid {
			t.Errorf("%s: KID value = %s, want %s", tc.name, got, tc.guid)
		}
		if got := prChecksum(tc.kid, tc.key); got != tc.sum {
			t.Errorf("%s: checksum = %s, want %s", tc.name, got, tc.sum)
		}

		// The classic mistake: encrypting the big-endian KID. It gives a
		// different, wrong checksum, which clients reject as a key mismatch.
		c, err := aes.NewCipher(tc.key[:])
		if err != nil {
			t.Fatal(err)
		}
		var out [16]byte
		c.Encrypt(out[:], tc.kid[:])
		wrong := base64.StdEncoding.EncodeToString(out[:8])
		if wrong == tc.sum {
			t.Errorf("%s: big-endian KID gives the same checksum; vector cannot tell the orders apart", tc.name)
		}
		xmlText, err := PlayReadyHeaderXML([]PlayReadyKey{{KID: tc.kid, Key: tc.key}}, "cenc", "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(xmlText, wrong) {
			t.Errorf("%s: header carries the big-endian checksum %s", tc.name, wrong)
		}
	}
	// Pin the wrong values too, so a regression to big-endian is named.
	if got := prChecksum(prGUID(testKID1), testKey1); got != "zbqCR+q89lQ=" {
		t.Errorf("big-endian checksum of vector 1 = %s, want zbqCR+q89lQ=", got)
	}
	if got := prChecksum(prGUID(testKID2), testKey2); got != "nugR/D0khRA=" {
		t.Errorf("big-endian checksum of vector 2 = %s, want nugR/D0khRA=", got)
	}
}

func TestPRGUIDOrder(t *testing.T) {
	in := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	want := [16]byte{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	if got := prGUID(in); got != want {
		t.Errorf("prGUID = %v, want %v", got, want)
	}
	if prGUID(prGUID(in)) != in {
		t.Error("prGUID is not its own inverse")
	}
}

func TestPlayReadyHeaderXMLGolden(t *testing.T) {
	const ns = `<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" `
	k1 := PlayReadyKey{KID: testKID1, Key: testKey1}
	k2 := PlayReadyKey{KID: testKID2, Key: testKey2}
	for _, tc := range []struct {
		name   string
		keys   []PlayReadyKey
		scheme string
		laURL  string
		want   string
	}{
		{
			"cenc one key", []PlayReadyKey{k1}, "cenc", testLAURL,
			ns + `version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO>` +
				`<KID>` + testKID1GUID + `</KID><CHECKSUM>` + testSum1 + `</CHECKSUM>` +
				`<LA_URL>` + testLAURLEscaped + `</LA_URL></DATA></WRMHEADER>`,
		},
		{
			"cenc one key no URL", []PlayReadyKey{k2}, "cenc", "",
			ns + `version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO>` +
				`<KID>` + testKID2GUID + `</KID><CHECKSUM>` + testSum2 + `</CHECKSUM></DATA></WRMHEADER>`,
		},
		{
			"cenc two keys", []PlayReadyKey{k1, k2}, "cenc", testLAURL,
			ns + `version="4.2.0.0"><DATA><PROTECTINFO><KIDS>` +
				`<KID ALGID="AESCTR" CHECKSUM="` + testSum1 + `" VALUE="` + testKID1GUID + `"></KID>` +
				`<KID ALGID="AESCTR" CHECKSUM="` + testSum2 + `" VALUE="` + testKID2GUID + `"></KID>` +
				`</KIDS></PROTECTINFO><LA_URL>` + testLAURLEscaped + `</LA_URL></DATA></WRMHEADER>`,
		},
		{
			"cbcs one key", []PlayReadyKey{k1}, "cbcs", testLAURL,
			ns + `version="4.3.0.0"><DATA><PROTECTINFO><KIDS>` +
				`<KID ALGID="AESCBC" VALUE="` + testKID1GUID + `"></KID>` +
				`</KIDS></PROTECTINFO><LA_URL>` + testLAURLEscaped + `</LA_URL></DATA></WRMHEADER>`,
		},
		{
			"cbcs two keys, order kept", []PlayReadyKey{k2, k1}, "cbcs", "",
			ns + `version="4.3.0.0"><DATA><PROTECTINFO><KIDS>` +
				`<KID ALGID="AESCBC" VALUE="` + testKID2GUID + `"></KID>` +
				`<KID ALGID="AESCBC" VALUE="` + testKID1GUID + `"></KID>` +
				`</KIDS></PROTECTINFO></DATA></WRMHEADER>`,
		},
		{
			// The content key plays no part in a cbcs header.
			"cbcs zero key", []PlayReadyKey{{KID: testKID1}}, "cbcs", "",
			ns + `version="4.3.0.0"><DATA><PROTECTINFO><KIDS>` +
				`<KID ALGID="AESCBC" VALUE="` + testKID1GUID + `"></KID>` +
				`</KIDS></PROTECTINFO></DATA></WRMHEADER>`,
		},
	} {
		got, err := PlayReadyHeaderXML(tc.keys, tc.scheme, tc.laURL)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestPlayReadyHeaderMatchesSpecExample checks the 4.0 layout against the
// specification's own example PRO: with its CUSTOMATTRIBUTES removed and our
// KID, checksum and URL substituted, it must be exactly what we generate.
func TestPlayReadyHeaderMatchesSpecExample(t *testing.T) {
	pro := mustB64(t, specExamplePRO)
	example := decodePRO(t, pro)
	if len(pro) != 860 {
		t.Fatalf("spec example PRO is %d bytes, want 860", len(pro))
	}
	doc := parsePRH(t, example)
	if doc.Version != "4.0.0.0" || doc.Data.KID != "q5HgCTj40kGeNVhTH9Gexw==" || doc.Data.Checksum != "w+OZVr8vzrQ=" {
		t.Fatalf("spec example decoded unexpectedly: %+v", doc)
	}

	start := strings.Index(example, "<CUSTOMATTRIBUTES>")
	end := strings.Index(example, "</CUSTOMATTRIBUTES>")
	if start < 0 || end < 0 {
		t.Fatal("spec example has no CUSTOMATTRIBUTES")
	}
	want := example[:start] + example[end+len("</CUSTOMATTRIBUTES>"):]
	want = strings.NewReplacer(
		"q5HgCTj40kGeNVhTH9Gexw==", testKID1GUID,
		"w+OZVr8vzrQ=", testSum1,
		doc.Data.LAURL, "https://pr.example.com/PlayReady/",
	).Replace(want)

	got, err := PlayReadyHeaderXML([]PlayReadyKey{{KID: testKID1, Key: testKey1}}, "cenc", "https://pr.example.com/PlayReady/")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("4.0 header differs from the spec example layout:\n got %s\nwant %s", got, want)
	}
}

func TestPlayReadyHeaderWellFormed(t *testing.T) {
	k1 := PlayReadyKey{KID: testKID1, Key: testKey1}
	k2 := PlayReadyKey{KID: testKID2, Key: testKey2}
	urls := []string{"", testLAURL, "https://pr.example.com/a<b>c?x='1'&y=\"2\"", "https://例え.example/ライセンス/🔑"}
	for _, scheme := range []string{"cenc", "cbcs"} {
		for _, keys := range [][]PlayReadyKey{{k1}, {k1, k2}} {
			for _, u := range urls {
				s, err := PlayReadyHeaderXML(keys, scheme, u)
				if err != nil {
					t.Errorf("%s/%d keys/%q: %v", scheme, len(keys), u, err)
					continue
				}
				doc := parsePRH(t, s)
				if doc.Data.LAURL != u {
					t.Errorf("%s: LA_URL reads back as %q, want %q", scheme, doc.Data.LAURL, u)
				}
				single := scheme == "cenc" && len(keys) == 1
				if single {
					if doc.Version != "4.0.0.0" || doc.Data.ProtectInfo.KeyLen != "16" || doc.Data.ProtectInfo.AlgID != "AESCTR" ||
						doc.Data.KID != prKIDValue(keys[0].KID) || doc.Data.Checksum != prChecksum(keys[0].KID, keys[0].Key) {
						t.Errorf("4.0 header fields wrong: %s", s)
					}
					continue
				}
				kids := doc.Data.ProtectInfo.KIDs
				if len(kids) != len(keys) {
					t.Fatalf("%s: %d KID elements, want %d", scheme, len(kids), len(keys))
				}
				for i, k := range kids {
					if k.Value != prKIDValue(keys[i].KID) || k.Inner != "" {
						t.Errorf("%s: KID %d = %+v", scheme, i, k)
					}
					switch scheme {
					case "cenc":
						if doc.Version != "4.2.0.0" || k.AlgID != "AESCTR" || k.Checksum != prChecksum(keys[i].KID, keys[i].Key) {
							t.Errorf("cenc multi-key: version %s KID %+v", doc.Version, k)
						}
					case "cbcs":
						if doc.Version != "4.3.0.0" || k.AlgID != "AESCBC" || k.Checksum != "" {
							t.Errorf("cbcs: version %s KID %+v", doc.Version, k)
						}
					}
				}
			}
		}
	}
}

func TestPlayReadyObjectLayout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		keys   []PlayReadyKey
		scheme string
		laURL  string
	}{
		{"cenc", []PlayReadyKey{{KID: testKID1, Key: testKey1}}, "cenc", testLAURL},
		{"cbcs", []PlayReadyKey{{KID: testKID1, Key: testKey1}, {KID: testKID2, Key: testKey2}}, "cbcs", ""},
		{"non-BMP URL", []PlayReadyKey{{KID: testKID2, Key: testKey2}}, "cenc", "https://pr.example.com/🔑"},
	} {
		pro, err := PlayReadyObject(tc.keys, tc.scheme, tc.laURL)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		header, err := PlayReadyHeaderXML(tc.keys, tc.scheme, tc.laURL)
		if err != nil {
			t.Fatal(err)
		}
		wantLen := 10 + 2*len(utf16.Encode([]rune(header)))
		if len(pro) != wantLen {
			t.Errorf("%s: PRO is %d bytes, want %d", tc.name, len(pro), wantLen)
		}
		// First code unit '<' in UTF-16LE: 3c 00.
		if len(pro) > 11 && (pro[10] != '<' || pro[11] != 0) {
			t.Errorf("%s: record does not start with UTF-16LE '<': % x", tc.name, pro[10:12])
		}
		if got := decodePRO(t, pro); got != header {
			t.Errorf("%s: PRO carries\n%s\nwant\n%s", tc.name, got, header)
		}

		// Into a box and back out again.
		sys, _, data, err := ParseBox(Box(PlayReady, pro))
		if err != nil || sys != PlayReady || !bytes.Equal(data, pro) {
			t.Errorf("%s: pssh round trip failed: %v", tc.name, err)
		}
	}
}

func TestPlayReadyObjectSizeLimit(t *testing.T) {
	keys := func(n int) []PlayReadyKey {
		ks := make([]PlayReadyKey, n)
		for i := range ks {
			ks[i].KID = testKID1
			ks[i].KID[14], ks[i].KID[15] = byte(i>>8), byte(i)
			ks[i].Key = testKey1
		}
		return ks
	}
	if _, err := PlayReadyObject(keys(50), "cenc", testLAURL); err != nil {
		t.Errorf("50 keys: %v", err)
	}
	pro, err := PlayReadyObject(keys(200), "cenc", testLAURL)
	if err == nil {
		t.Errorf("200 keys gave a %d-byte PRO, want an error past 15 KB", len(pro))
	}
}

func TestPlayReadyHeaderErrors(t *testing.T) {
	k1 := PlayReadyKey{KID: testKID1, Key: testKey1}
	for _, tc := range []struct {
		name   string
		keys   []PlayReadyKey
		scheme string
		laURL  string
	}{
		{"no keys", nil, "cenc", ""},
		{"empty scheme", []PlayReadyKey{k1}, "", ""},
		{"cens", []PlayReadyKey{k1}, "cens", ""},
		{"cbc1", []PlayReadyKey{k1}, "cbc1", ""},
		{"upper case", []PlayReadyKey{k1}, "CENC", ""},
		{"duplicate KID", []PlayReadyKey{k1, {KID: testKID1, Key: testKey2}}, "cbcs", ""},
		{"zero key for cenc", []PlayReadyKey{{KID: testKID1}}, "cenc", ""},
		{"relative URL", []PlayReadyKey{k1}, "cenc", "/rightsmanager.asmx"},
		{"no host", []PlayReadyKey{k1}, "cenc", "https:///x"},
		{"not a URL", []PlayReadyKey{k1}, "cenc", "licence server"},
		{"newline", []PlayReadyKey{k1}, "cenc", "https://pr.example.com/\nx"},
		{"NUL", []PlayReadyKey{k1}, "cenc", "https://pr.example.com/\x00"},
		{"invalid UTF-8", []PlayReadyKey{k1}, "cenc", "https://pr.example.com/\xff"},
		{"leading space", []PlayReadyKey{k1}, "cenc", " https://pr.example.com/"},
		{"U+FFFE", []PlayReadyKey{k1}, "cenc", "https://pr.example.com/\uFFFE"},
	} {
		if s, err := PlayReadyHeaderXML(tc.keys, tc.scheme, tc.laURL); err == nil {
			t.Errorf("%s: PlayReadyHeaderXML accepted it: %s", tc.name, s)
		}
		if pro, err := PlayReadyObject(tc.keys, tc.scheme, tc.laURL); err == nil || pro != nil {
			t.Errorf("%s: PlayReadyObject = %d bytes, %v; want nil and an error", tc.name, len(pro), err)
		}
	}
}

func TestPlayReadyErrorsDoNotLeakKeys(t *testing.T) {
	// Errors may name KIDs, never content keys.
	dup := []PlayReadyKey{{KID: testKID1, Key: testKey1}, {KID: testKID1, Key: testKey2}}
	_, err := PlayReadyHeaderXML(dup, "cenc", "")
	if err == nil {
		t.Fatal("duplicate KIDs accepted")
	}
	for _, k := range [][16]byte{testKey1, testKey2} {
		for _, enc := range []string{
			strings.ToLower(strings.ReplaceAll(formatUUID(k), "-", "")),
			formatUUID(k),
			base64.StdEncoding.EncodeToString(k[:]),
		} {
			if strings.Contains(err.Error(), enc) {
				t.Error("error message contains a content key")
			}
		}
	}
}
