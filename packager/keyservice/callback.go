package keyservice

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

// CIDCallback asks a gateway callback page for the content ID of each file.
//
// The contract (drmpack's own; the vendor's is not public):
//   - GET  URL?file=NAME&size=BYTES, or
//   - POST URL with the JSON body {"file": NAME, "size": BYTES};
//   - the answer is HTTP 200 with the content ID as plain text (one line), or as the JSON object
//     {"cid": "…"} (Content-Type application/json, or a body that starts with '{').
//
// No answer is error 2001, another status or an unreadable answer 2002, and a content ID that
// fails keys.ValidateCID 1102.
type CIDCallback struct {
	URL       string
	Method    string // GET (default) or POST
	Transport Transport
}

// CID returns the content ID the callback names for a file (its base name and size).
func (c *CIDCallback) CID(ctx context.Context, file string, size int64) (string, error) {
	resp, err := c.Transport.do(ctx, "CID callback", func(ctx context.Context) (*http.Request, error) {
		if strings.EqualFold(c.Method, http.MethodPost) {
			body, _ := json.Marshal(map[string]any{"file": file, "size": size})
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}
		u, err := url.Parse(c.URL)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		q.Set("file", file)
		q.Set("size", strconv.FormatInt(size, 10))
		u.RawQuery = q.Encode()
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	})
	if err != nil {
		return "", err
	}
	body := bytes.TrimSpace(resp.body)
	cid := string(body)
	if strings.Contains(resp.contentType, "json") || bytes.HasPrefix(body, []byte("{")) {
		var v struct {
			CID *string `json:"cid"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.CID == nil {
			return "", errcode.New(errcode.ServerError, "CID callback answered JSON without a \"cid\" string: %s", c.Transport.excerpt(body))
		}
		cid = *v.CID
	} else if strings.ContainsAny(cid, "\r\n") {
		return "", errcode.New(errcode.ServerError, "CID callback answered more than one line: %s", c.Transport.excerpt(body))
	}
	if err := keys.ValidateCID(cid); err != nil {
		return "", errcode.New(errcode.InvalidArgument, "CID callback for %s: %v", file, err)
	}
	return cid, nil
}
