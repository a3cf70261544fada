// Package kms serves the local key store as a CPIX 2.3 key server (the SPEKE v1 dialect too) and
// writes the CPIX documents a licence service imports.
package kms

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"drmpack/packager/cpix"
	"drmpack/packager/keys"
	"drmpack/packager/keystore"
	"drmpack/packager/pssh"
)

// Signalling configures the DRM signalling the server prepares next to each key.
type Signalling struct {
	WidevineProvider string
	PlayReadyLAURL   string
}

// DefaultSystems are the DRM systems an export signals: DASH's two and HLS's FairPlay.
var DefaultSystems = []pssh.SystemID{pssh.Widevine, pssh.PlayReady, pssh.FairPlay}

// Export is the CPIX 2.3 document of every stored key of one content ID, with Widevine and
// PlayReady pssh boxes, FairPlay HLS signalling and a usage rule per track type.
func Export(entries []keystore.Entry, cid, scheme string, sig Signalling) (*cpix.Document, error) {
	doc := &cpix.Document{ContentID: cid, Version: cpix.Version}
	for _, e := range entries {
		if err := sig.add(doc, e.Key, cid, scheme, DefaultSystems); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// add appends key k, its signalling for systems and its usage rule to doc.
func (sig Signalling) add(doc *cpix.Document, k keys.Key, cid, scheme string, systems []pssh.SystemID) error {
	doc.ContentKeys = append(doc.ContentKeys, cpix.ContentKey{KID: k.KID, Scheme: scheme, Value: append([]byte(nil), k.Key[:]...)})
	for _, sys := range systems {
		ds := cpix.DRMSystem{KID: k.KID, SystemID: sys}
		switch sys {
		case pssh.Widevine, pssh.PlayReady:
			box, err := pssh.BoxFor(sys, k.KID, k.Key, pssh.Signalling{
				Scheme: scheme, Provider: sig.WidevineProvider, ContentID: cid, LAURL: sig.PlayReadyLAURL,
			})
			if err != nil {
				return err
			}
			ds.PSSH = box
			ds.ContentProtectionData = contentProtectionData(sys, box)
		case pssh.FairPlay:
			uri := k.KID.SKD()
			ds.URIExtXKey = []byte(uri)
			attrs := `METHOD=SAMPLE-AES,URI="` + uri + `",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`
			ds.HLSMedia = []byte("#EXT-X-KEY:" + attrs)
			ds.HLSMaster = []byte("#EXT-X-SESSION-KEY:" + attrs)
		case pssh.NCG:
			ds.URIExtXKey = []byte(k.Key.Hex())
		}
		doc.DRMSystems = append(doc.DRMSystems, ds)
	}
	doc.UsageRules = append(doc.UsageRules, cpix.UsageRule{KID: k.KID, IntendedTrackType: string(k.TrackType)})
	return nil
}

// contentProtectionData is the XML a packager puts inside the system's MPD ContentProtection
// element: the cenc:pssh, and for PlayReady the mspr:pro as well.
func contentProtectionData(sys pssh.SystemID, box []byte) []byte {
	s := "<cenc:pssh>" + base64.StdEncoding.EncodeToString(box) + "</cenc:pssh>"
	if sys == pssh.PlayReady {
		if _, _, data, err := pssh.ParseBox(box); err == nil {
			s += "<mspr:pro>" + base64.StdEncoding.EncodeToString(data) + "</mspr:pro>"
		}
	}
	return []byte(s)
}

// Server answers CPIX requests from the local store. Requests must carry the token as
// "Authorization: Bearer TOKEN", as an "X-API-Key" header, or as the last segment of the URL path
// (the vendor's getKey/{token} style).
type Server struct {
	Store     *keystore.Store
	Token     string
	Signaling Signalling
	// Log receives one line per answered request (content ID, track types, KIDs; never keys).
	Log func(format string, args ...any)
}

// maxRequest bounds a request body; a CPIX request for a title is a few kilobytes.
const maxRequest = 1 << 20

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/health" {
		io.WriteString(w, "ok\n")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="drmpack kms"`)
		http.Error(w, "missing or wrong token", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a CPIX document", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxRequest {
		http.Error(w, "request larger than 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	req, err := cpix.Parse(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, summary, err := s.answer(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	if v := r.Header.Get("X-Speke-Version"); v != "" {
		w.Header().Set("X-Speke-Version", v)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(resp.Marshal())
	if s.Log != nil {
		s.Log("CPIX request answered: %s", summary)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.Token == "" {
		return false
	}
	candidates := []string{r.Header.Get("X-API-Key"), r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]}
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		candidates = append(candidates, strings.TrimSpace(v))
	}
	for _, c := range candidates {
		if c != "" && subtle.ConstantTimeCompare([]byte(c), []byte(s.Token)) == 1 {
			return true
		}
	}
	return false
}

// errRequest marks requests the server understands but cannot answer (HTTP 422).
var errRequest = errors.New("unanswerable CPIX request")

// answer builds the response to req: the store's key for each requested key's track type (a new
// key adopts the request's KID), and signalling for each requested DRM system.
func (s *Server) answer(req *cpix.Document) (*cpix.Document, string, error) {
	cid := req.ContentID
	if cid == "" {
		cid = req.ID
	}
	if err := keys.ValidateCID(cid); err != nil {
		return nil, "", fmt.Errorf("%w: CPIX@contentId: %v", errRequest, err)
	}
	if len(req.ContentKeys) == 0 {
		return nil, "", fmt.Errorf("%w: no ContentKey", errRequest)
	}
	types := map[keys.KID]keys.TrackType{}
	for _, r := range req.UsageRules {
		t, err := keys.ParseTrackType(r.IntendedTrackType)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", errRequest, err)
		}
		types[r.KID] = t
	}
	systems := map[keys.KID][]pssh.SystemID{}
	for _, d := range req.DRMSystems {
		systems[d.KID] = append(systems[d.KID], d.SystemID)
	}
	resp := &cpix.Document{ID: req.ID, ContentID: req.ContentID, Version: req.Version}
	var summary []string
	for _, ck := range req.ContentKeys {
		t, ok := types[ck.KID]
		if !ok {
			if len(req.ContentKeys) > 1 {
				return nil, "", fmt.Errorf("%w: ContentKey %s has no ContentKeyUsageRule with an intendedTrackType", errRequest, ck.KID.UUID())
			}
			t = keys.HD
		}
		scheme := ck.Scheme
		if scheme == "" {
			scheme = "cenc"
		}
		proposed := ck.KID
		k, err := s.Store.Key(cid, t, &proposed)
		if err != nil {
			return nil, "", err
		}
		if err := s.Signaling.add(resp, k, cid, scheme, systems[ck.KID]); err != nil {
			return nil, "", err
		}
		summary = append(summary, fmt.Sprintf("%s %s", t, k.KID.UUID()))
	}
	return resp, fmt.Sprintf("content %q: %s", cid, strings.Join(summary, ", ")), nil
}
