// Package keyservice talks to remote key services: DASH-IF CPIX 2.3 / SPEKE v2 servers, the
// vendor's CPIX KMS dialect, and the gateway callback that names content IDs.
package keyservice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"drmpack/packager/errcode"
)

// Transport is how the clients reach a service: the HTTP client, how long one attempt may take,
// and how many attempts a transient failure (no connection, timeout, HTTP 502/503/504) gets.
type Transport struct {
	Client   *http.Client // nil: http.DefaultClient
	Timeout  time.Duration
	Attempts int
	// Backoff is the wait before the second attempt; it doubles for each further one.
	Backoff time.Duration
	// Secrets are strings that must never appear in an error (tokens, keys): they are replaced
	// by [redacted] in the INFO of every error the clients return.
	Secrets []string
}

// Defaults for Transport's zero values.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultAttempts = 3
	DefaultBackoff  = 500 * time.Millisecond
	// maxResponse bounds what is read of an answer: a CPIX response for a title is kilobytes.
	maxResponse = 4 << 20
	// maxInfoBody is how much of an error body goes into an error's INFO.
	maxInfoBody = 600
)

// requestBuilder makes a fresh request for each attempt (a body reader is consumed by a try).
type requestBuilder func(context.Context) (*http.Request, error)

// response is a service's answer to one request.
type response struct {
	status      int
	contentType string
	body        []byte
}

// do sends the request built by newReq, retrying transient failures with exponential backoff
// and jitter. Errors are *errcode.Error: RequestFailed (2001) when no answer came, ServerError
// (2002) when the service answered with an error status. what names the service in INFO.
func (t Transport) do(ctx context.Context, what string, newReq requestBuilder) (*response, error) {
	attempts := max(t.Attempts, 1)
	if t.Attempts == 0 {
		attempts = DefaultAttempts
	}
	backoff := t.Backoff
	if backoff == 0 {
		backoff = DefaultBackoff
	}
	var lastErr *errcode.Error
	for i := range attempts {
		if i > 0 {
			wait := backoff<<(i-1) + rand.N(backoff/2+1)
			select {
			case <-ctx.Done():
				return nil, lastErr
			case <-time.After(wait):
			}
		}
		resp, err := t.once(ctx, newReq)
		if err == nil && resp.status == http.StatusOK {
			return resp, nil
		}
		if err != nil {
			lastErr = errcode.New(errcode.RequestFailed, "%s: no answer after %d attempt(s): %s", what, i+1, t.redact(err.Error()))
		} else {
			lastErr = errcode.New(errcode.ServerError, "%s answered HTTP %d: %s", what, resp.status, t.excerpt(resp.body))
			if !transientStatus(resp.status) {
				return nil, lastErr
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func transientStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable ||
		code == http.StatusGatewayTimeout || code == http.StatusTooManyRequests || code == http.StatusInternalServerError
}

// once makes one attempt. Transport errors are described without the URL (it may hold a token).
func (t Transport) once(ctx context.Context, newReq requestBuilder) (*response, error) {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := newReq(ctx)
	if err != nil {
		return nil, err
	}
	client := t.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, describeTransportError(err, timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, describeTransportError(err, timeout)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	return &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}, nil
}

func describeTransportError(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer within %s", timeout)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("the connection closed before a complete answer")
	}
	return err
}

// redact removes the configured secrets from s.
func (t Transport) redact(s string) string {
	for _, secret := range t.Secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// excerpt makes an error body fit for INFO: secrets removed, control characters replaced,
// white space collapsed, cut to maxInfoBody bytes.
func (t Transport) excerpt(body []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, t.redact(s))
	if s == "" {
		return "(empty body)"
	}
	if len(s) > maxInfoBody {
		s = strings.ToValidUTF8(s[:maxInfoBody], "") + "…"
	}
	return s
}

// postXML returns a request builder posting body to u with headers.
func postXML(u string, header http.Header, body []byte) requestBuilder {
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, errors.New("invalid service URL")
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/xml")
		return req, nil
	}
}
