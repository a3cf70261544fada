package keyservice

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"drmpack/internal/kmstest"
	"drmpack/packager/cpix"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/keystore"
	"drmpack/packager/kms"
	"drmpack/packager/pssh"
)

const (
	siteID      = "DEMO"
	packagerKey = "PK0123456789abcdefPK0123456789abcdefPK0123456789abcdefPK01234567"
)

func vendorClient(t *testing.T, mode string) (*PallyCon, *kmstest.Vendor) {
	t.Helper()
	v := &kmstest.Vendor{Mode: mode, SiteID: siteID, PackagerKey: packagerKey}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	token, err := EncToken(siteID, packagerKey)
	if err != nil {
		t.Fatal(err)
	}
	return &PallyCon{URL: srv.URL + "/v2/cpix/pallycon/getKey/{enc-token}", EncToken: token,
		Transport: Transport{Timeout: 500 * time.Millisecond, Backoff: 10 * time.Millisecond, Secrets: []string{packagerKey}}}, v
}

var request = keys.Request{CID: "movie-7", TrackTypes: []keys.TrackType{keys.HD, keys.Audio},
	Systems: []pssh.SystemID{pssh.Widevine, pssh.PlayReady, pssh.FairPlay, pssh.NCG}, Scheme: "cbcs"}

func TestVendorKMSKeysAreMappedByTrackType(t *testing.T) {
	c, v := vendorClient(t, "")
	set, err := c.Keys(context.Background(), request)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range request.TrackTypes {
		k, err := set.For(tt)
		if err != nil {
			t.Fatal(err)
		}
		if k.KID != keys.KID(kmstest.Derive("kid", "movie-7", string(tt))) || k.Key != keys.Secret(kmstest.Derive("key", "movie-7", string(tt))) {
			t.Errorf("%s: not the service's derived KID and key", tt)
		}
		if string(k.IV) != ("IV" + string(tt) + "_ascii_iv_16")[:16] {
			t.Errorf("%s: IV %q, want the 16 ASCII bytes as sent", tt, k.IV)
		}
		if box := k.PSSH[pssh.Widevine]; !bytes.Contains(box, []byte("inkaentworks")) {
			t.Errorf("%s: the service's Widevine pssh was not kept", tt)
		}
		if _, ok := k.PSSH[pssh.PlayReady]; ok {
			t.Errorf("%s: a PlayReady pssh appeared that the service did not send", tt)
		}
		if !strings.HasPrefix(k.FairPlayURI, "skd://movie-7/") || !strings.HasPrefix(k.HLSSignaling["media"], "#EXT-X-KEY:METHOD=SAMPLE-AES") {
			t.Errorf("%s: FairPlay %q %q", tt, k.FairPlayURI, k.HLSSignaling)
		}
		if string(k.NCGKey) != "ncg-cek-"+string(tt) {
			t.Errorf("%s: NCG key not taken from URIExtXKey", tt)
		}
	}
	// The request is the vendor's dialect: the CID in the root id, a DRMSystem per key × DRM,
	// usage rules by track type.
	req, err := cpix.Parse(v.LastBody.Load().([]byte))
	if err != nil {
		t.Fatal(err)
	}
	if req.ID != "movie-7" || req.Version != "" || len(req.ContentKeys) != 2 || len(req.DRMSystems) != 8 || len(req.UsageRules) != 2 {
		t.Fatalf("request %+v", req)
	}
	if req.ContentKeys[0].Scheme != "cbcs" || req.UsageRules[1].IntendedTrackType != "AUDIO" {
		t.Fatalf("request keys %+v rules %+v", req.ContentKeys, req.UsageRules)
	}
}

func TestEncTokenIsBase64JSON(t *testing.T) {
	tok, _ := EncToken("DEMO", "abc")
	raw, _ := base64.StdEncoding.DecodeString(tok)
	if string(raw) != `{"site_id":"DEMO","access_key":"abc"}` {
		t.Fatalf("token decodes to %s", raw)
	}
	if _, err := EncToken("", "abc"); err == nil {
		t.Fatal("token without Site ID")
	}
	p := PallyCon{EncToken: "T0K"}
	if p.endpoint() != "https://kms.pallycon.com/v2/cpix/pallycon/getKey/T0K" {
		t.Fatal(p.endpoint())
	}
	p.URL = "http://127.0.0.1:9/getKey"
	if p.endpoint() != "http://127.0.0.1:9/getKey/T0K" {
		t.Fatal(p.endpoint())
	}
}

// assertCode checks a failure's code and that its INFO holds want and no secret.
func assertCode(t *testing.T, err error, code errcode.Code, want string, secrets ...string) {
	t.Helper()
	var e *errcode.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not coded", err)
	}
	if e.Code != code || !strings.Contains(e.Info, want) {
		t.Fatalf("got %d %q, want %d containing %q", e.Code, e.Info, code, want)
	}
	for _, s := range secrets {
		if strings.Contains(e.Info, s) || strings.Contains(e.Report(), s) {
			t.Fatalf("INFO reveals a secret: %s", e.Info)
		}
	}
}

func TestVendorKMSFailures(t *testing.T) {
	token, _ := EncToken(siteID, packagerKey)
	cases := []struct {
		mode     string
		code     errcode.Code
		info     string
		attempts int32
	}{
		{"json", errcode.ServerError, "CID not allowed for this site", 1},
		{"500", errcode.ServerError, "HTTP 500: internal error: database unavailable", 3},
		{"slow", errcode.RequestFailed, "no answer within 500ms", 3},
		{"drop", errcode.RequestFailed, "closed before a complete answer", 3},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			cl, v := vendorClient(t, c.mode)
			_, err := cl.Keys(context.Background(), request)
			assertCode(t, err, c.code, c.info, packagerKey, token)
			if got := v.Attempts.Load(); got != c.attempts {
				t.Errorf("%d attempts, want %d", got, c.attempts)
			}
		})
	}
	t.Run("wrong packager key", func(t *testing.T) {
		cl, _ := vendorClient(t, "")
		cl.EncToken, _ = EncToken(siteID, "wrong-key-wrong-key")
		_, err := cl.Keys(context.Background(), request)
		assertCode(t, err, errcode.ServerError, "invalid enc-token [redacted]", "wrong-key-wrong-key", cl.EncToken)
	})
	t.Run("flaky", func(t *testing.T) {
		cl, v := vendorClient(t, "flaky")
		if _, err := cl.Keys(context.Background(), request); err != nil || v.Attempts.Load() != 2 {
			t.Fatalf("a 503 then an answer: %v after %d attempts", err, v.Attempts.Load())
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		cl := &PallyCon{URL: "http://" + addr + "/getKey/", EncToken: token, Transport: Transport{Timeout: time.Second, Backoff: time.Millisecond}}
		_, err := cl.Keys(context.Background(), request)
		assertCode(t, err, errcode.RequestFailed, "connection refused", token)
	})
	t.Run("no usage rules", func(t *testing.T) {
		// Without rules the request's order decides: the service answers in that order.
		cl, _ := vendorClient(t, "no-rules")
		set, err := cl.Keys(context.Background(), request)
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := set.For(keys.Audio); k.KID != keys.KID(kmstest.Derive("kid", "movie-7", "AUDIO")) {
			t.Fatal("order mapping failed")
		}
	})
}

func TestCPIXClientAgainstKMSServe(t *testing.T) {
	st, err := keystore.Open(filepath.Join(t.TempDir(), "ks.db"), bytes.Repeat([]byte{3}, keystore.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&kms.Server{Store: st, Token: "s3cret-token", Signaling: kms.Signalling{WidevineProvider: "drmpack"}})
	defer srv.Close()
	c := &CPIX{URL: srv.URL + "/cpix", Header: http.Header{"Authorization": {"Bearer s3cret-token"}}, Transport: Transport{Secrets: []string{"s3cret-token"}}}
	set, err := c.Keys(context.Background(), request)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := st.Entries("movie-7")
	if len(stored) != 2 || len(set) != 2 {
		t.Fatalf("stored %d, got %d", len(stored), len(set))
	}
	for _, e := range stored {
		k, _ := set.For(e.TrackType)
		if k.KID != e.Key.KID || k.Key != e.Key.Key || k.PSSH[pssh.Widevine] == nil || k.PSSH[pssh.PlayReady] == nil || !strings.HasPrefix(k.FairPlayURI, "skd://") {
			t.Fatalf("%s: answer does not match the store or lacks signalling", e.TrackType)
		}
	}
	c.Header = nil
	_, err = c.Keys(context.Background(), request)
	assertCode(t, err, errcode.ServerError, "HTTP 401", "s3cret-token")
}

func TestCIDCallback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var file string
		if r.Method == http.MethodPost {
			var v struct {
				File string `json:"file"`
				Size int64  `json:"size"`
			}
			json.NewDecoder(r.Body).Decode(&v)
			file = v.File
			if v.Size != 1234 {
				http.Error(w, "size missing", 400)
				return
			}
		} else {
			file = r.URL.Query().Get("file")
			if r.URL.Query().Get("size") != "1234" {
				http.Error(w, "size missing", 400)
				return
			}
		}
		switch file {
		case "plain.mp4":
			io.WriteString(w, "cid-plain\n")
		case "json.mp4":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"cid":"제목-1"}`)
		case "badjson.mp4":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x"}`)
		case "unsafe.mp4":
			io.WriteString(w, "a/b?c")
		case "slow.mp4":
			time.Sleep(time.Second)
		default:
			http.Error(w, "unknown file "+file, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	for _, method := range []string{"GET", "POST"} {
		cb := &CIDCallback{URL: srv.URL + "/cid?site=1", Method: method, Transport: Transport{Timeout: 300 * time.Millisecond, Attempts: 1}}
		if cid, err := cb.CID(context.Background(), "plain.mp4", 1234); err != nil || cid != "cid-plain" {
			t.Fatalf("%s plain: %q %v", method, cid, err)
		}
		if cid, err := cb.CID(context.Background(), "json.mp4", 1234); err != nil || cid != "제목-1" {
			t.Fatalf("%s json: %q %v", method, cid, err)
		}
		_, err := cb.CID(context.Background(), "badjson.mp4", 1234)
		assertCode(t, err, errcode.ServerError, `without a "cid"`)
		_, err = cb.CID(context.Background(), "unsafe.mp4", 1234)
		assertCode(t, err, errcode.InvalidArgument, "contains '/'")
		_, err = cb.CID(context.Background(), "missing.mp4", 1234)
		assertCode(t, err, errcode.ServerError, "HTTP 404: unknown file missing.mp4")
		_, err = cb.CID(context.Background(), "slow.mp4", 1234)
		assertCode(t, err, errcode.RequestFailed, "no answer within 300ms")
	}
}

func TestPSSHPayloadsAreWrapped(t *testing.T) {
	payload := []byte{0x08, 0x01, 0x12, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for name, ds := range map[string]cpix.DRMSystem{
		"box":            {SystemID: pssh.Widevine, PSSH: pssh.Box(pssh.Widevine, payload)},
		"bare payload":   {SystemID: pssh.Widevine, PSSH: payload},
		"in CPD":         {SystemID: pssh.Widevine, ContentProtectionData: payload},
		"CPD is MPD XML": {SystemID: pssh.Widevine, PSSH: payload, ContentProtectionData: []byte("<cenc:pssh>x</cenc:pssh>")},
	} {
		var k keys.Key
		if err := addSignalling(&k, ds); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(k.PSSH[pssh.Widevine], pssh.Box(pssh.Widevine, payload)) {
			t.Errorf("%s: pssh %x", name, k.PSSH[pssh.Widevine])
		}
	}
	var k keys.Key
	if err := addSignalling(&k, cpix.DRMSystem{SystemID: pssh.PlayReady, PSSH: pssh.Box(pssh.Widevine, payload)}); err == nil {
		t.Fatal("a Widevine box in the PlayReady entry was accepted")
	}
}
