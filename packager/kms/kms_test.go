package kms

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"drmpack/packager/cpix"
	"drmpack/packager/keys"
	"drmpack/packager/keystore"
	"drmpack/packager/pssh"
)

const token = "test-token-123"

func newServer(t *testing.T) (*httptest.Server, *keystore.Store) {
	st, err := keystore.Open(filepath.Join(t.TempDir(), "ks.db"), bytes.Repeat([]byte{9}, keystore.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	srv := httptest.NewServer(&Server{Store: st, Token: token, Signaling: Signalling{WidevineProvider: "drmpack", PlayReadyLAURL: "https://lic.example/pr"},
		Log: func(f string, a ...any) { logged = append(logged, f) }})
	t.Cleanup(srv.Close)
	return srv, st
}

func post(t *testing.T, url string, header map[string]string, body []byte) (*http.Response, []byte) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func request(version string) *cpix.Document {
	video, audio := keys.KID{1}, keys.KID{2}
	d := &cpix.Document{Version: version,
		ContentKeys: []cpix.ContentKey{{KID: video, Scheme: "cbcs"}, {KID: audio, Scheme: "cbcs"}},
		UsageRules:  []cpix.UsageRule{{KID: video, IntendedTrackType: "HD"}, {KID: audio, IntendedTrackType: "AUDIO"}},
	}
	for _, k := range []keys.KID{video, audio} {
		for _, sys := range []pssh.SystemID{pssh.Widevine, pssh.PlayReady, pssh.FairPlay} {
			d.DRMSystems = append(d.DRMSystems, cpix.DRMSystem{KID: k, SystemID: sys, PSSH: []byte{}})
		}
	}
	if version == "" {
		d.ID = "title-1"
	} else {
		d.ContentID = "title-1"
	}
	return d
}

func TestTokenIsRequired(t *testing.T) {
	srv, _ := newServer(t)
	body := request(cpix.Version).Marshal()
	for name, h := range map[string]map[string]string{"none": nil, "wrong": {"Authorization": "Bearer nope"}} {
		if resp, _ := post(t, srv.URL+"/cpix", h, body); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s token: HTTP %d, want 401", name, resp.StatusCode)
		}
	}
	for name, c := range map[string]struct {
		path   string
		header map[string]string
	}{
		"bearer":    {"/cpix", map[string]string{"Authorization": "Bearer " + token}},
		"x-api-key": {"/cpix", map[string]string{"X-API-Key": token}},
		"path":      {"/v2/cpix/getKey/" + token, nil},
	} {
		if resp, b := post(t, srv.URL+c.path, c.header, body); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: HTTP %d %s", name, resp.StatusCode, b)
		}
	}
}

func TestAnswersStoreKeysWithSignalling(t *testing.T) {
	srv, st := newServer(t)
	resp, b := post(t, srv.URL, map[string]string{"X-API-Key": token, "X-Speke-Version": "2.0"}, request(cpix.Version).Marshal())
	if resp.StatusCode != 200 || resp.Header.Get("X-Speke-Version") != "2.0" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, b)
	}
	doc, err := cpix.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := st.Entries("title-1")
	if len(stored) != 2 || len(doc.ContentKeys) != 2 {
		t.Fatalf("stored %d, answered %d keys", len(stored), len(doc.ContentKeys))
	}
	// New keys adopt the request's KIDs, so a strict SPEKE encryptor finds its own KIDs back.
	if doc.ContentKeys[0].KID != (keys.KID{1}) || !bytes.Equal(doc.ContentKeys[0].Value, stored[1].Key.Key[:]) {
		t.Fatalf("HD key: KID %s", doc.ContentKeys[0].KID.UUID())
	}
	if len(doc.DRMSystems) != 6 {
		t.Fatalf("%d DRMSystems, want 6", len(doc.DRMSystems))
	}
	for _, ds := range doc.DRMSystems {
		switch ds.SystemID {
		case pssh.Widevine, pssh.PlayReady:
			sys, _, data, err := pssh.ParseBox(ds.PSSH)
			if err != nil || sys != ds.SystemID {
				t.Fatalf("PSSH of %s: %v", ds.SystemID, err)
			}
			if ds.SystemID == pssh.PlayReady && !strings.Contains(string(utf16le(data)), "AESCBC") {
				t.Error("cbcs PlayReady header without AESCBC")
			}
		case pssh.FairPlay:
			if !strings.HasPrefix(string(ds.HLSMedia), `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://`) || !strings.HasPrefix(string(ds.HLSMaster), "#EXT-X-SESSION-KEY:") {
				t.Fatalf("FairPlay signalling %q / %q", ds.HLSMedia, ds.HLSMaster)
			}
			if ds.URIExtXKey != nil {
				t.Error("URIExtXKey in a CPIX 2.3 answer (not in the 2.3 schema)")
			}
		}
	}
	// A second request with other KIDs gets the stored keys.
	again := request(cpix.Version)
	again.ContentKeys[0].KID, again.UsageRules[0].KID = keys.KID{7}, keys.KID{7}
	_, b = post(t, srv.URL, map[string]string{"X-API-Key": token}, again.Marshal())
	doc2, _ := cpix.Parse(b)
	if doc2.ContentKeys[0].KID != (keys.KID{1}) || doc2.UsageRules[0].KID != (keys.KID{1}) {
		t.Fatal("a second request did not get the stored key")
	}
}

func TestSPEKE1RequestsGetURIExtXKey(t *testing.T) {
	srv, _ := newServer(t)
	_, b := post(t, srv.URL, map[string]string{"X-API-Key": token}, request("").Marshal())
	doc, err := cpix.Parse(b)
	if err != nil || doc.ID != "title-1" {
		t.Fatalf("%v %+v", err, doc)
	}
	for _, ds := range doc.DRMSystems {
		if ds.SystemID == pssh.FairPlay && !strings.HasPrefix(string(ds.URIExtXKey), "skd://") {
			t.Fatalf("URIExtXKey %q", ds.URIExtXKey)
		}
	}
}

func TestBadRequests(t *testing.T) {
	srv, _ := newServer(t)
	h := map[string]string{"X-API-Key": token}
	noCID := request(cpix.Version)
	noCID.ContentID = ""
	noRules := request(cpix.Version)
	noRules.UsageRules = nil
	for name, c := range map[string]struct {
		body []byte
		want int
	}{
		"not xml":          {[]byte("hello"), 400},
		"json":             {[]byte(`{"cid":"x"}`), 400},
		"no content id":    {noCID.Marshal(), 422},
		"two keys no rule": {noRules.Marshal(), 422},
	} {
		if resp, b := post(t, srv.URL, h, c.body); resp.StatusCode != c.want {
			t.Errorf("%s: HTTP %d (%s), want %d", name, resp.StatusCode, b, c.want)
		}
	}
	resp, err := http.Get(srv.URL + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v", err)
	}
}

func utf16le(b []byte) []byte {
	var out []byte
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] == 0 {
			out = append(out, b[i])
		}
	}
	return out
}
