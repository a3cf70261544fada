// Package kmstest imitates key services for tests: a server speaking the vendor's CPIX KMS
// dialect, with KIDs of its own and selectable failures.
package kmstest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"drmpack/packager/cpix"
	"drmpack/packager/keys"
	"drmpack/packager/pssh"
)

// Vendor imitates the vendor's CPIX KMS dialect (shared/spec/test-vectors.md): the token in the path, SPEKE v1 requests, KIDs it
// derives itself, ASCII explicit IVs, its own prefixes. mode picks a failure.
type Vendor struct {
	// Mode picks a failure: "" answers; "json" a JSON error body with status 200; "500" an HTTP
	// 500; "slow" answers after 2 s; "drop" closes the connection mid-answer; "flaky" answers
	// 503 once, then normally; "no-rules" answers without usage rules.
	Mode        string
	SiteID      string
	PackagerKey string
	Attempts    atomic.Int32 // requests received
	LastBody    atomic.Value // []byte of the last request
}

// Derive is how the imitation derives KIDs and keys: the first 16 bytes of SHA-256 over parts.
func Derive(parts ...string) []byte {
	h := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return h[:16]
}

func (v *Vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := v.Attempts.Add(1)
	token := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	var cred struct {
		SiteID    string `json:"site_id"`
		AccessKey string `json:"access_key"`
	}
	raw, _ := base64.StdEncoding.DecodeString(token)
	if json.Unmarshal(raw, &cred) != nil || cred.SiteID != v.SiteID || cred.AccessKey != v.PackagerKey {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"error_code":"4001","error_message":"invalid enc-token %s"}`, token)
		return
	}
	body, _ := io.ReadAll(r.Body)
	v.LastBody.Store(body)
	switch {
	case v.Mode == "json":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"error_code":"5001","error_message":"CID not allowed for this site"}`)
		return
	case v.Mode == "500":
		http.Error(w, "internal error: database unavailable (access_key="+cred.AccessKey+")", 500)
		return
	case v.Mode == "flaky" && n == 1:
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case v.Mode == "slow":
		time.Sleep(2 * time.Second)
	case v.Mode == "drop":
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<cpix:CPIX"))
		conn.Close()
		return
	}
	req, err := cpix.Parse(body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	cid := req.ID
	var out strings.Builder
	out.WriteString(`<?xml version="1.0" encoding="UTF-8"?><c:CPIX xmlns:c="urn:dashif:org:cpix" xmlns:k="urn:ietf:params:xml:ns:keyprov:pskc" id="` + cid + `"><c:ContentKeyList>`)
	typeOf := map[keys.KID]string{}
	for _, u := range req.UsageRules {
		typeOf[u.KID] = u.IntendedTrackType
	}
	var drm, rules strings.Builder
	for _, ck := range req.ContentKeys {
		tt := typeOf[ck.KID]
		kid := Derive("kid", cid, tt)
		kidUUID := keys.KID(kid).UUID()
		fmt.Fprintf(&out, `<c:ContentKey kid="%s" explicitIV="%s"><c:Data><k:Secret><k:PlainValue>%s</k:PlainValue></k:Secret></c:Data></c:ContentKey>`,
			kidUUID, base64.StdEncoding.EncodeToString([]byte("IV" + tt + "_ascii_iv_16")[:16]), base64.StdEncoding.EncodeToString(Derive("key", cid, tt)))
		for _, ds := range req.DRMSystems {
			if ds.KID != ck.KID {
				continue
			}
			fmt.Fprintf(&drm, `<c:DRMSystem kid="%s" systemId="%s">`, kidUUID, strings.ToUpper(ds.SystemID.String()))
			switch ds.SystemID {
			case pssh.Widevine:
				// The service's own Widevine data: provider "inkaentworks" and a track_type field.
				data := append([]byte{0x08, 0x01, 0x12, 0x10}, kid...)
				data = append(data, 0x1a, 0x0c)
				data = append(data, "inkaentworks"...)
				data = append(data, 0x2a, byte(len(tt)))
				data = append(data, tt...)
				fmt.Fprintf(&drm, `<c:PSSH>%s</c:PSSH>`, base64.StdEncoding.EncodeToString(pssh.Box(pssh.Widevine, data)))
			case pssh.FairPlay:
				uri := "skd://" + cid + "/" + keys.KID(kid).Hex()
				fmt.Fprintf(&drm, `<c:URIExtXKey>%s</c:URIExtXKey><c:HLSSignalingData playlist="media">%s</c:HLSSignalingData>`,
					base64.StdEncoding.EncodeToString([]byte(uri)), base64.StdEncoding.EncodeToString([]byte(`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="`+uri+`",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`)))
			case pssh.NCG:
				fmt.Fprintf(&drm, `<c:URIExtXKey>%s</c:URIExtXKey>`, base64.StdEncoding.EncodeToString([]byte("ncg-cek-"+tt)))
			}
			drm.WriteString(`</c:DRMSystem>`)
		}
		fmt.Fprintf(&rules, `<c:ContentKeyUsageRule kid="%s" intendedTrackType="%s"/>`, kidUUID, tt)
	}
	out.WriteString(`</c:ContentKeyList><c:DRMSystemList>` + drm.String() + `</c:DRMSystemList>`)
	if v.Mode != "no-rules" {
		out.WriteString(`<c:ContentKeyUsageRuleList>` + rules.String() + `</c:ContentKeyUsageRuleList>`)
	}
	out.WriteString(`</c:CPIX>`)
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, out.String())
}
