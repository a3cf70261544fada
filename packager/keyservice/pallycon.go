package keyservice

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"drmpack/packager/keys"
)

// PallyConURL is the vendor's CPIX KMS endpoint; {enc-token} is replaced by the token.
const PallyConURL = "https://kms.pallycon.com/v2/cpix/pallycon/getKey/{enc-token}"

// PallyCon is a keys.Source for the vendor's CPIX KMS dialect: SPEKE v1 style requests posted to a
// URL that ends in the enc-token, answered with KIDs the service derives itself.
type PallyCon struct {
	// URL is the endpoint; "{enc-token}" in it is replaced by the token, otherwise the token is
	// appended as the last path segment. Empty: PallyConURL.
	URL string
	// EncToken is the pasted enc-token, or one made by EncToken from Site ID and Packager Key.
	EncToken  string
	Transport Transport
}

// EncToken builds the vendor's enc-token: standard base64 of the JSON object
// {"site_id":…,"access_key":…}.
func EncToken(siteID, packagerKey string) (string, error) {
	if siteID == "" || packagerKey == "" {
		return "", errors.New("the key service needs a Site ID and a Packager Key (or a pasted enc-token)")
	}
	b, err := json.Marshal(struct {
		SiteID    string `json:"site_id"`
		AccessKey string `json:"access_key"`
	}{siteID, packagerKey})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// endpoint is the request URL with the token in place.
func (p *PallyCon) endpoint() string {
	u := p.URL
	if u == "" {
		u = PallyConURL
	}
	token := url.PathEscape(p.EncToken)
	if strings.Contains(u, "{enc-token}") {
		return strings.ReplaceAll(u, "{enc-token}", token)
	}
	if strings.HasSuffix(u, "/"+token) {
		return u
	}
	return strings.TrimSuffix(u, "/") + "/" + token
}

// Keys requests one key per track type with signalling for req.Systems.
func (p *PallyCon) Keys(ctx context.Context, req keys.Request) (keys.Set, error) {
	t := p.Transport
	t.Secrets = append(append([]string(nil), t.Secrets...), p.EncToken, url.PathEscape(p.EncToken))
	doc, sent := newRequest(req, true)
	return exchange(ctx, t, "key service (KMS)", postXML(p.endpoint(), http.Header{}, doc.Marshal()), req, sent)
}
