// Package server is drmpack's origin: it serves a folder over HTTP with the media server
// manual's URL API (trimming, multi-trimming, header upfront, MP4/MP3 HLS and DIMS derived on the
// fly from the originals), configured with the manual's server.xml elements.
package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"runtime"
	"strings"
	"time"

	"drmpack/packager/errcode"
)

// Server is an http.Handler over one root folder. It never serves outside the root: every file
// is opened through an os.Root, which refuses ".." and symbolic links leading out of it.
type Server struct {
	root  *os.Root
	cfg   *Config
	cache *cache
	heavy chan struct{}
	log   *slog.Logger
	// source, when set, wraps every file read for a response or an analysis (tests count the
	// bytes). Unwrapped plain files go out through sendfile.
	source func(io.ReaderAt) io.ReaderAt
	// PreviewKeys, when set, returns the KID→key pairs (hex) of a content ID, which the preview
	// page hands to the player as ClearKey keys, to clients on the loopback interface only.
	PreviewKeys func(cid string) (map[string]string, error)
}

// New serves dir with cfg (nil: the manual's defaults). accessLog receives one JSON line per
// request; nil discards them.
func New(dir string, cfg *Config, accessLog io.Writer) (*Server, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, errcode.Wrap(errcode.FileNotFound, err, "serve root")
	}
	if cfg.Limits.MaxURLBytes <= 0 {
		cfg.Limits.MaxURLBytes = DefaultConfig().Limits.MaxURLBytes
	}
	heavy := cfg.Limits.HeavyRequests
	if heavy <= 0 {
		heavy = 2 * runtime.NumCPU()
	}
	if accessLog == nil {
		accessLog = io.Discard
	}
	c := newCache(cfg.Cache.MemoryBytes)
	if cfg.Cache.Dir != "" && cfg.Cache.DiskBytes > 0 {
		if c.disk, err = newDiskTier(cfg.Cache.Dir, cfg.Cache.DiskBytes); err != nil {
			root.Close()
			return nil, errcode.Wrap(errcode.FileAccess, err, "cache folder")
		}
	}
	return &Server{
		root:  root,
		cfg:   cfg,
		cache: c,
		heavy: make(chan struct{}, heavy),
		log:   slog.New(slog.NewJSONHandler(accessLog, nil)),
	}, nil
}

// Close releases the root folder.
func (s *Server) Close() error { return s.root.Close() }

// errBusy is answered 503: every slot for heavy work stayed taken for Limits.HeavyWait.
var errBusy = errors.New("server busy")

// panicError is a computation that panicked, answered 500 instead of taking the server down.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("internal error: %v", p.v) }

// heavyWork runs f in one of the bounded slots for derivations.
func (s *Server) heavyWork(f func() (any, int64, error)) func() (any, int64, error) {
	return func() (any, int64, error) {
		t := time.NewTimer(s.cfg.Limits.HeavyWait)
		defer t.Stop()
		select {
		case s.heavy <- struct{}{}:
		case <-t.C:
			return nil, 0, errBusy
		}
		defer func() { <-s.heavy }()
		return f()
	}
}

// response records what was answered, for the access log.
type response struct {
	http.ResponseWriter
	status int
	bytes  int64
	cache  string // "hit" or "miss" for derived objects
}

func (w *response) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *response) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path for plain files.
func (w *response) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

// ServeHTTP answers GET and HEAD.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &response{ResponseWriter: rw}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.fail(w, panicError{p})
		}
		s.log.Info("request", "remote", r.RemoteAddr, "method", r.Method, "uri", truncate(r.RequestURI, 1024),
			"status", w.status, "bytes", w.bytes, "ms", float64(time.Since(start).Microseconds())/1000, "cache", w.cache)
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, httpError{http.StatusMethodNotAllowed, "only GET and HEAD"})
		return
	}
	if len(r.RequestURI) > s.cfg.Limits.MaxURLBytes {
		s.fail(w, httpError{http.StatusRequestURITooLong, fmt.Sprintf("request target longer than %d bytes", s.cfg.Limits.MaxURLBytes)})
		return
	}
	if strings.HasPrefix(r.URL.Path, PreviewPrefix) {
		if err := s.servePreview(w, r); err != nil {
			s.fail(w, err)
		}
		return
	}
	req, err := s.parseRequest(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := s.route(w, r, req); err != nil {
		s.fail(w, err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// httpError is a refusal with its status and a reason for the body.
type httpError struct {
	status int
	reason string
}

func (e httpError) Error() string { return e.reason }

// fail answers err: a status from its kind and a plain-text body with the manual's error code
// and INFO (which names files relative to the root only).
func (s *Server) fail(w *response, err error) {
	status := http.StatusInternalServerError
	body := ""
	var he httpError
	switch {
	case errors.As(err, &he):
		status, body = he.status, he.reason
	case errors.Is(err, errBusy):
		status, body = http.StatusServiceUnavailable, "busy: too many derivations in progress, retry shortly"
		w.Header().Set("Retry-After", "1")
	default:
		e := errcode.From(err)
		switch e.Code {
		case errcode.FileNotFound:
			status = http.StatusNotFound
		case errcode.InvalidArgument:
			status = http.StatusBadRequest
		}
		body = e.Error()
	}
	if w.status != 0 {
		return // the response has started; the access log shows its status
	}
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Content-Encoding"} {
		h.Del(k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, body)
}

// contentTypes are the media types of what the server serves; others come from the extension
// through mime (http.ServeContent).
var contentTypes = map[string]string{
	".mp4": "video/mp4", ".m4v": "video/mp4", ".m4a": "audio/mp4", ".mp3": "audio/mpeg",
	".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".mpd": "application/dash+xml",
	".m4s": "video/iso.segment", ".aac": "audio/aac", ".ncg": "application/octet-stream",
}

func contentType(name string) string { return contentTypes[strings.ToLower(path.Ext(name))] }
