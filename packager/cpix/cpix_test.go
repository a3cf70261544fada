package cpix

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/packager/keys"
	"drmpack/packager/pssh"
)

func mustKID(t testing.TB, s string) keys.KID {
	t.Helper()
	k, err := keys.ParseKID(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// response is a CPIX 2.3 answer with every element this package writes.
func response(t testing.TB) *Document {
	kid := mustKID(t, "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3")
	audio := mustKID(t, "cbbc38b6b50dab53f8263e06b7382aa3")
	return &Document{
		ContentID: "한글 제목 & <co>", Version: Version,
		ContentKeys: []ContentKey{
			{KID: kid, Scheme: "cenc", Value: bytes.Repeat([]byte{1}, 16), ExplicitIV: []byte("0123456789abcdef")},
			{KID: audio, Scheme: "cenc", Value: bytes.Repeat([]byte{2}, 16)},
		},
		DRMSystems: []DRMSystem{
			{KID: kid, SystemID: pssh.Widevine, PSSH: pssh.Box(pssh.Widevine, []byte{8, 1}), ContentProtectionData: []byte("<cenc:pssh>x</cenc:pssh>")},
			{KID: kid, SystemID: pssh.FairPlay, URIExtXKey: []byte("skd://a"), HLSMedia: []byte(`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://a"`), HLSMaster: []byte(`#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://a"`)},
		},
		UsageRules: []UsageRule{{KID: kid, IntendedTrackType: "HD"}, {KID: audio, IntendedTrackType: "AUDIO"}},
	}
}

func TestMarshalValidatesAgainstTheCPIX23Schema(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint is needed (apt-get install libxml2-utils)")
	}
	request := &Document{ContentID: "c1", Version: Version,
		ContentKeys: []ContentKey{{KID: mustKID(t, "6bac8ec30ee3379f3d21290b3a2bc9c3"), Scheme: "cbcs"}},
		DRMSystems: []DRMSystem{{KID: mustKID(t, "6bac8ec30ee3379f3d21290b3a2bc9c3"), SystemID: pssh.PlayReady,
			PSSH: []byte{}, ContentProtectionData: []byte{}, HLSMedia: []byte{}}},
		UsageRules: []UsageRule{{KID: mustKID(t, "6bac8ec30ee3379f3d21290b3a2bc9c3"), IntendedTrackType: "UHD2"}},
	}
	for name, doc := range map[string]*Document{"response": response(t), "request": request} {
		path := filepath.Join(t.TempDir(), name+".xml")
		if err := os.WriteFile(path, doc.Marshal(), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("xmllint", "--nonet", "--noout", "--schema", "testdata/schema/cpix.xsd", path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s does not validate: %v\n%s\n%s", name, err, out, doc.Marshal())
		}
	}
	// The schema check can fail: an element CPIX 2.3 does not define is refused.
	bad := bytes.Replace(response(t).Marshal(), []byte("<cpix:ContentKeyList>"), []byte("<cpix:ContentKeyList><cpix:Bogus/>"), 1)
	path := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(path, bad, 0o600)
	if exec.Command("xmllint", "--nonet", "--noout", "--schema", "testdata/schema/cpix.xsd", path).Run() == nil {
		t.Fatal("xmllint accepted an unknown element: the schema check proves nothing")
	}
}

func TestRoundTrip(t *testing.T) {
	want := response(t)
	got, err := Parse(want.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	want.DRMSystems[1].URIExtXKey = nil // not a CPIX 2.3 element: only written in SPEKE v1 documents
	if got.ContentID != want.ContentID || got.Version != "2.3" || len(got.ContentKeys) != 2 || len(got.DRMSystems) != 2 || len(got.UsageRules) != 2 {
		t.Fatalf("got %+v", got)
	}
	for i := range want.ContentKeys {
		w, g := want.ContentKeys[i], got.ContentKeys[i]
		if g.KID != w.KID || g.Scheme != w.Scheme || !bytes.Equal(g.Value, w.Value) || !bytes.Equal(g.ExplicitIV, w.ExplicitIV) {
			t.Errorf("ContentKey %d differs", i)
		}
	}
	for i := range want.DRMSystems {
		w, g := want.DRMSystems[i], got.DRMSystems[i]
		if g.KID != w.KID || g.SystemID != w.SystemID || !bytes.Equal(g.PSSH, w.PSSH) || !bytes.Equal(g.ContentProtectionData, w.ContentProtectionData) ||
			!bytes.Equal(g.HLSMedia, w.HLSMedia) || !bytes.Equal(g.HLSMaster, w.HLSMaster) || !bytes.Equal(g.URIExtXKey, w.URIExtXKey) {
			t.Errorf("DRMSystem %d differs:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if got.UsageRules[1].IntendedTrackType != "AUDIO" {
		t.Errorf("usage rule %+v", got.UsageRules[1])
	}
	v1 := response(t)
	v1.Version, v1.ContentID, v1.ID = "", "", "cid-1"
	got, err = Parse(v1.Marshal())
	if err != nil || got.ID != "cid-1" || string(got.DRMSystems[1].URIExtXKey) != "skd://a" {
		t.Fatalf("SPEKE v1 document: %v %+v", err, got)
	}
}

// A response written by another service: other prefixes, a default namespace, base64 split over
// lines, upper-case KIDs without dashes.
func TestParseIsLenient(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	doc := `<?xml version="1.0"?>
<CPIX xmlns="urn:dashif:org:cpix" xmlns:p="urn:ietf:params:xml:ns:keyprov:pskc" id="movie-1">
 <ContentKeyList><ContentKey kid="6BAC8EC30EE3379F3D21290B3A2BC9C3" explicitIV="` + base64.StdEncoding.EncodeToString([]byte("ASCIIIV_16_BYTES")) + `">
  <Data><p:Secret><p:PlainValue>` + key[:10] + "\n   " + key[10:] + `</p:PlainValue></p:Secret></Data></ContentKey></ContentKeyList>
 <DRMSystemList><DRMSystem kid="6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3" systemId="94CE86FB-07FF-4F43-ADB8-93D2FA968CA2">
  <URIExtXKey>` + base64.RawStdEncoding.EncodeToString([]byte("skd://kid")) + `</URIExtXKey></DRMSystem></DRMSystemList>
 <ContentKeyUsageRuleList><ContentKeyUsageRule kid="6bac8ec30ee3379f3d21290b3a2bc9c3" intendedTrackType="hd"/></ContentKeyUsageRuleList>
</CPIX>`
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "movie-1" || !bytes.Equal(d.ContentKeys[0].Value, bytes.Repeat([]byte{7}, 16)) || string(d.ContentKeys[0].ExplicitIV) != "ASCIIIV_16_BYTES" {
		t.Fatalf("%+v", d.ContentKeys)
	}
	if d.DRMSystems[0].SystemID != pssh.FairPlay || string(d.DRMSystems[0].URIExtXKey) != "skd://kid" || d.UsageRules[0].IntendedTrackType != "HD" {
		t.Fatalf("%+v %+v", d.DRMSystems, d.UsageRules)
	}
}

func TestParseErrorsNameTheElementNotTheValue(t *testing.T) {
	if _, err := Parse([]byte(`{"error":"invalid token"}`)); !errors.Is(err, ErrNotCPIX) {
		t.Fatalf("JSON body: %v, want ErrNotCPIX", err)
	}
	if _, err := Parse([]byte(`<html><body>502</body></html>`)); !errors.Is(err, ErrNotCPIX) {
		t.Fatalf("HTML body: %v, want ErrNotCPIX", err)
	}
	secret := "c2VjcmV0LWtleS1tYXRlcmlhbCE*"
	_, err := Parse([]byte(`<CPIX><ContentKeyList><ContentKey kid="6bac8ec30ee3379f3d21290b3a2bc9c3"><Data><Secret><PlainValue>` + secret + `</PlainValue></Secret></Data></ContentKey></ContentKeyList></CPIX>`))
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") || !strings.Contains(err.Error(), "PlainValue") {
		t.Fatalf("bad PlainValue: %v", err)
	}
	if _, err := Parse([]byte(`<CPIX><ContentKeyList><ContentKey kid="nope"/></ContentKeyList></CPIX>`)); err == nil {
		t.Fatal("bad kid accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(response(f).Marshal())
	f.Add([]byte(`<CPIX id="x"><DRMSystemList><DRMSystem kid="6bac8ec30ee3379f3d21290b3a2bc9c3" systemId="edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"><PSSH>AAAA</PSSH></DRMSystem></DRMSystemList></CPIX>`))
	f.Add([]byte(`{"error": 1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parsed must write and parse again to the same keys.
		again, err := Parse(d.Marshal())
		if err != nil {
			t.Fatalf("re-parse of our own output: %v", err)
		}
		if len(again.ContentKeys) != len(d.ContentKeys) || len(again.UsageRules) != len(d.UsageRules) {
			t.Fatalf("round trip changed the document")
		}
	})
}
