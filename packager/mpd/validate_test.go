package mpd

import (
	"strings"
	"testing"
)

func TestCheckTemplate(t *testing.T) {
	good := []struct {
		t     string
		media bool
	}{
		{"$RepresentationID$/init.mp4", false},
		{"init-$Bandwidth$.mp4", false},
		{"init.mp4", false},
		{"$RepresentationID$/$Number$.m4s", true},
		{"$RepresentationID$/$Number%05d$.m4s", true},
		{"$RepresentationID$/$Time$.m4s", true},
		{"price$$/$Number$.m4s", true},
		{"$Bandwidth%010d$-$Number$.m4s", true},
	}
	for _, tc := range good {
		if err := checkTemplate(tc.t, tc.media); err != nil {
			t.Errorf("checkTemplate(%q, %v): %v", tc.t, tc.media, err)
		}
	}
	bad := []struct {
		t     string
		media bool
		want  string
	}{
		{"$RepresentationID/init.mp4", false, "unterminated"},
		{"$Number$.mp4", false, "not allowed in initialization"},
		{"$Time$.mp4", false, "not allowed in initialization"},
		{"$representationid$/$Number$.m4s", true, "unknown identifier"},
		{"$RepresentationID%05d$/$Number$.m4s", true, "no format tag"},
		{"$Number%5d$.m4s", true, "format tag"},
		{"$Number%05x$.m4s", true, "format tag"},
		{"$Number%0d$.m4s", true, "format tag"},
		{"$Number$-$Time$.m4s", true, "both"},
		{"$RepresentationID$/seg.m4s", true, "needs"},
		{"$SubNumber$.m4s", true, "needs"},
	}
	for _, tc := range bad {
		err := checkTemplate(tc.t, tc.media)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkTemplate(%q, %v) = %v, want %q", tc.t, tc.media, err, tc.want)
		}
	}
}

func TestUUID(t *testing.T) {
	id, err := parseUUID("EDEF8BA9-79D6-4ACE-A3C8-27DCD51D21ED")
	if err != nil {
		t.Fatal(err)
	}
	if got := formatUUID(id); got != "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed" {
		t.Errorf("formatUUID = %q", got)
	}
	for _, bad := range []string{"", "edef8ba979d64acea3c827dcd51d21ed", "edef8ba9-79d6-4ace-a3c8-27dcd51d21e", "gdef8ba9-79d6-4ace-a3c8-27dcd51d21ed", "edef8ba9_79d6-4ace-a3c8-27dcd51d21ed", "{edef8ba9-79d6-4ace-a3c8-27dcd51d21e}"} {
		if _, err := parseUUID(bad); err == nil {
			t.Errorf("parseUUID(%q) accepted", bad)
		}
	}
}

func TestPSSHSystemID(t *testing.T) {
	wv := mustUUID(t, SchemeWidevine[len("urn:uuid:"):])
	kid := mustUUID(t, videoKID)
	for name, box := range map[string][]byte{
		"v0":          makePSSH(wv, nil, []byte{1, 2, 3}),
		"v0 no data":  makePSSH(wv, nil, nil),
		"v1 two KIDs": makePSSH(wv, [][16]byte{kid, kid}, widevineData(kid)),
	} {
		id, err := psshSystemID(box)
		if err != nil || id != wv {
			t.Errorf("%s: %x, %v", name, id, err)
		}
	}
	// A 64-bit size header is legal if unusual.
	small := makePSSH(wv, nil, []byte{9})
	large := append([]byte{0, 0, 0, 1, 'p', 's', 's', 'h', 0, 0, 0, 0, 0, 0, 0, byte(len(small) + 8)}, small[8:]...)
	if id, err := psshSystemID(large); err != nil || id != wv {
		t.Errorf("largesize: %x, %v", id, err)
	}

	good := makePSSH(wv, [][16]byte{kid}, []byte{1, 2, 3})
	v2 := append([]byte(nil), good...)
	v2[8] = 2
	wrongType := append([]byte(nil), good...)
	copy(wrongType[4:], "psst")
	badData := append([]byte(nil), good...)
	badData[len(badData)-4] = 9 // DataSize no longer matches
	manyKIDs := append([]byte(nil), good...)
	manyKIDs[31] = 200 // KID count
	for name, box := range map[string][]byte{
		"empty":          nil,
		"short":          good[:6],
		"payload only":   good[8:],
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"version 2":      v2,
		"wrong type":     wrongType,
		"bad data size":  badData,
		"bad KID count":  manyKIDs,
		"pro":            makePRO(kid),
	} {
		if _, err := psshSystemID(box); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckPRO(t *testing.T) {
	kid := mustUUID(t, videoKID)
	pro := makePRO(kid)
	if err := checkPRO(pro); err != nil {
		t.Fatal(err)
	}
	noRecords := []byte{6, 0, 0, 0, 0, 0}
	overlong := append([]byte(nil), pro...)
	overlong[8], overlong[9] = 0xff, 0xff // record length
	twoRecords := append([]byte(nil), pro...)
	twoRecords[4] = 2
	for name, b := range map[string][]byte{
		"empty":       nil,
		"no records":  noRecords,
		"truncated":   pro[:len(pro)-1],
		"record len":  overlong,
		"count":       twoRecords,
		"pssh box":    makePSSH(kid, nil, pro),
		"header only": pro[10:],
	} {
		if err := checkPRO(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckCodecs(t *testing.T) {
	for _, ok := range []string{"avc1.64001e", "mp4a.40.2", "hvc1.1.6.L93.B0", "avc1.64001e,mp4a.40.2", "stpp.ttml.im1t", "ec-3"} {
		if err := checkCodecs(ok); err != nil {
			t.Errorf("checkCodecs(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "avc1 ", "avc1,,mp4a", "\"avc1\"", "avc1.64001e,", "avc1/x"} {
		if err := checkCodecs(bad); err == nil {
			t.Errorf("checkCodecs(%q) accepted", bad)
		}
	}
}
