package mpd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The schema test needs xmllint (Debian: libxml2-utils). It fails rather
// than skips when the tool is missing: a silently skipped validation would
// let schema-invalid manifests through CI.
func xmllint(t *testing.T, mpd []byte) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint not found (%v): install it with apt-get install -y libxml2-utils", err)
	}
	path := filepath.Join(t.TempDir(), "stream.mpd")
	if err := os.WriteFile(path, mpd, 0o644); err != nil {
		t.Fatal(err)
	}
	// --nonet: the schema and its imports are local copies; validation
	// must not depend on (or wait for) the network.
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", filepath.FromSlash("testdata/schema/DASH-MPD.xsd"), path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestSchemaValid(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	noPlayReadyPRO := sampleMPD(t)
	for i := range noPlayReadyPRO.AdaptationSets {
		noPlayReadyPRO.AdaptationSets[i].ContentProtections[2].PRO = nil
	}
	withGap := sampleMPD(t)
	st := &withGap.AdaptationSets[0].Representations[0].SegmentTemplate
	st.Timeline = append(st.Timeline, S{T: 300000, D: 25600})
	st.PresentationTimeOffset = 512
	st.StartNumber = 3
	st.Media = "$RepresentationID$/$Time$.m4s"
	withGap.AdaptationSets[1].Lang = "pt-BR"

	cases := map[string][]byte{
		"sample":    encode(t, sampleMPD(t)),
		"golden":    golden,
		"no pro":    encode(t, noPlayReadyPRO),
		"variant":   encode(t, withGap),
		"multi-key": encode(t, multiKeyMPD(t)),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := xmllint(t, doc)
			if err != nil {
				t.Fatalf("xmllint rejected the MPD: %v\n%s", err, out)
			}
			if !strings.Contains(out, "validates") {
				t.Errorf("unexpected xmllint output: %s", out)
			}
			t.Logf("xmllint: %s", strings.TrimSpace(out))
		})
	}
}

// TestSchemaRejects proves the validation has teeth: the same document with
// the schema's element order broken, or an unknown element, must fail.
func TestSchemaRejects(t *testing.T) {
	good := encode(t, sampleMPD(t))
	// Move the first ContentProtection behind the video Representation;
	// the schema requires it before.
	i := bytes.Index(good, []byte("<ContentProtection"))
	j := bytes.Index(good, []byte("</ContentProtection>")) + len("</ContentProtection>")
	cp := append([]byte(nil), good[i:j]...)
	misordered := append(append([]byte(nil), good[:i]...), good[j:]...)
	k := bytes.Index(misordered, []byte("</AdaptationSet>"))
	misordered = append(misordered[:k], append(cp, misordered[k:]...)...)

	cases := map[string][]byte{
		"ContentProtection after Representation": misordered,
		"unknown element":                        bytes.Replace(good, []byte("<SegmentTimeline>"), []byte("<SegmentTimeline><Bogus/>"), 1),
		"bandwidth out of range":                 bytes.Replace(good, []byte(`bandwidth="131072"`), []byte(`bandwidth="4294967296"`), 1),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := xmllint(t, doc)
			if err == nil {
				t.Fatalf("xmllint accepted an invalid MPD:\n%s", out)
			}
			if !strings.Contains(out, "fails to validate") {
				t.Errorf("unexpected xmllint output: %s", out)
			}
		})
	}
}
