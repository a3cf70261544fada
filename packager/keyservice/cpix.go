package keyservice

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"drmpack/packager/cpix"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/pssh"
)

// CPIX is a keys.Source for a DASH-IF CPIX 2.3 (SPEKE v2) key server: drmpack's own
// `kms serve` or any other.
type CPIX struct {
	URL       string
	Header    http.Header // extra headers, e.g. authorisation
	Transport Transport
}

// Keys asks the server for one key per track type with signalling for req.Systems.
func (c *CPIX) Keys(ctx context.Context, req keys.Request) (keys.Set, error) {
	header := c.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-Speke-Version", "2.0")
	doc, sent := newRequest(req, false)
	return exchange(ctx, c.Transport, "CPIX key server", postXML(c.URL, header, doc.Marshal()), req, sent)
}

// newRequest builds the CPIX request for req: a fresh KID per track type, a DRMSystem per key and
// system with empty elements naming the wanted signalling, and a usage rule per key. speke1
// selects the SPEKE v1 form (content ID in the root id attribute, URIExtXKey requested).
func newRequest(req keys.Request, speke1 bool) (*cpix.Document, map[keys.KID]keys.TrackType) {
	doc := &cpix.Document{}
	if speke1 {
		doc.ID = req.CID
	} else {
		doc.ContentID, doc.Version = req.CID, cpix.Version
	}
	types := req.TrackTypes
	if len(types) == 0 {
		types = []keys.TrackType{keys.HD}
	}
	scheme := req.Scheme
	if scheme == "" {
		scheme = "cenc"
	}
	sent := map[keys.KID]keys.TrackType{}
	for _, t := range types {
		var kid keys.KID
		rand.Read(kid[:])
		if t == keys.AnyTrack {
			t = keys.HD
		}
		sent[kid] = t
		doc.ContentKeys = append(doc.ContentKeys, cpix.ContentKey{KID: kid, Scheme: scheme})
		for _, sys := range req.Systems {
			ds := cpix.DRMSystem{KID: kid, SystemID: sys}
			switch sys {
			case pssh.FairPlay:
				ds.URIExtXKey, ds.HLSMedia, ds.HLSMaster = []byte{}, []byte{}, []byte{}
			case pssh.NCG:
				ds.URIExtXKey = []byte{}
			default:
				ds.PSSH, ds.ContentProtectionData = []byte{}, []byte{}
			}
			doc.DRMSystems = append(doc.DRMSystems, ds)
		}
		doc.UsageRules = append(doc.UsageRules, cpix.UsageRule{KID: kid, IntendedTrackType: string(t)})
	}
	return doc, sent
}

// exchange posts a request and turns the answer into keys for every requested track type.
func exchange(ctx context.Context, t Transport, what string, newReq requestBuilder, req keys.Request, sent map[keys.KID]keys.TrackType) (keys.Set, error) {
	resp, err := t.do(ctx, what, newReq)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(resp.body)
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') || strings.Contains(resp.contentType, "json") {
		return nil, errcode.New(errcode.ServerError, "%s answered with an error: %s", what, t.excerpt(body))
	}
	doc, err := cpix.Parse(body)
	if err != nil {
		if errors.Is(err, cpix.ErrNotCPIX) {
			return nil, errcode.New(errcode.ServerError, "%s did not answer CPIX: %s", what, t.excerpt(body))
		}
		return nil, errcode.New(errcode.ServerError, "%s answered a malformed CPIX document: %s", what, t.redact(err.Error()))
	}
	set, err := keysFrom(doc, req, sent)
	if err != nil {
		return nil, errcode.New(errcode.ServerError, "%s: %s", what, t.redact(err.Error()))
	}
	return set, nil
}

// keysFrom maps a response's keys to track types. Services may answer with KIDs of their own, so
// the response's usage rules decide; without rules, the request's KIDs, a single key (for every
// track) or the request's order do.
func keysFrom(doc *cpix.Document, req keys.Request, sent map[keys.KID]keys.TrackType) (keys.Set, error) {
	if len(doc.ContentKeys) == 0 {
		return nil, errors.New("the answer holds no ContentKey")
	}
	typeOf := map[keys.KID]keys.TrackType{}
	for _, r := range doc.UsageRules {
		if t, err := keys.ParseTrackType(r.IntendedTrackType); err == nil {
			typeOf[r.KID] = t
		}
	}
	var set keys.Set
	for i, ck := range doc.ContentKeys {
		k := keys.Key{KID: ck.KID}
		t, ok := typeOf[ck.KID]
		switch {
		case ok:
		case sent[ck.KID] != "":
			t = sent[ck.KID]
		case len(doc.ContentKeys) == 1:
			t = keys.AnyTrack
		case len(doc.ContentKeys) == len(req.TrackTypes):
			t = req.TrackTypes[i]
		default:
			return nil, fmt.Errorf("cannot tell which track type key %s is for (no intendedTrackType)", ck.KID.UUID())
		}
		k.TrackType = t
		if len(ck.Value) != 16 {
			return nil, fmt.Errorf("key %s is %d bytes, want 16", ck.KID.UUID(), len(ck.Value))
		}
		copy(k.Key[:], ck.Value)
		clear(ck.Value)
		k.IV = explicitIV(ck.ExplicitIV)
		for _, ds := range doc.DRMSystems {
			if ds.KID == ck.KID {
				if err := addSignalling(&k, ds); err != nil {
					return nil, err
				}
			}
		}
		set = append(set, k)
	}
	for _, t := range req.TrackTypes {
		if _, err := set.For(t); err != nil {
			return nil, fmt.Errorf("the answer has no key for track type %s", t)
		}
	}
	return set, nil
}

// explicitIV makes sense of an explicitIV attribute: 8 or 16 bytes are used as they are (some
// services send 16 ASCII characters: they are 16 opaque bytes all the same); 16 or 32 hex digits
// written as text are decoded; anything else is ignored and the packager picks the IV.
func explicitIV(b []byte) []byte {
	switch len(b) {
	case 8, 16:
		return b
	case 32:
		if iv, err := hex.DecodeString(string(b)); err == nil {
			return iv
		}
	}
	return nil
}

var uriAttribute = regexp.MustCompile(`URI="([^"]+)"`)

// addSignalling keeps what a DRMSystem entry brought: a pssh box (checked to be one, for the
// right system), FairPlay's key URI and HLS tags, the NCG key text.
func addSignalling(k *keys.Key, ds cpix.DRMSystem) error {
	switch ds.SystemID {
	case pssh.FairPlay:
		if len(ds.URIExtXKey) > 0 {
			k.FairPlayURI = strings.TrimSpace(string(ds.URIExtXKey))
		}
		for playlist, v := range map[string][]byte{"media": ds.HLSMedia, "master": ds.HLSMaster} {
			if len(v) == 0 {
				continue
			}
			if k.HLSSignaling == nil {
				k.HLSSignaling = map[string]string{}
			}
			k.HLSSignaling[playlist] = strings.TrimSpace(string(v))
			if m := uriAttribute.FindSubmatch(v); m != nil && k.FairPlayURI == "" {
				k.FairPlayURI = string(m[1])
			}
		}
	case pssh.NCG:
		k.NCGKey = keys.SecretText(strings.TrimSpace(string(ds.URIExtXKey)))
	default:
		box, err := psshFrom(ds)
		if err != nil || box == nil {
			return err
		}
		if k.PSSH == nil {
			k.PSSH = map[[16]byte][]byte{}
		}
		k.PSSH[ds.SystemID] = box
	}
	return nil
}

// psshFrom finds the pssh box in a DRMSystem: the PSSH element as a complete box, or — services
// differ — a bare payload in PSSH or ContentProtectionData that is wrapped into one. nil when the
// entry carries none (the engine then builds its own).
func psshFrom(ds cpix.DRMSystem) ([]byte, error) {
	for _, v := range [][]byte{ds.PSSH, ds.ContentProtectionData} {
		if len(v) == 0 || v[0] == '<' { // ContentProtectionData may be MPD XML: not a payload
			continue
		}
		sys, _, _, err := pssh.ParseBox(v)
		if err != nil {
			return pssh.Box(ds.SystemID, v), nil
		}
		if sys != ds.SystemID {
			return nil, fmt.Errorf("PSSH in the DRMSystem of %s is a box of %s", ds.SystemID, sys)
		}
		return v, nil
	}
	return nil, nil
}
