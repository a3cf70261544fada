package server

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// request is a request target resolved against the root: the original file it names, what
// follows the file in the path (a keyword and its arguments) and the query parameters from every
// place the manual allows them.
type request struct {
	source  string      // slash-separated path of the original, relative to the root
	info    os.FileInfo // the original's
	rest    []string    // path segments after the original
	rawRest []string    // the same, still escaped (DIMS recipes decode their own)
	query   url.Values
	// rawQuery is every query string of the target joined with "&", in order (the caching key
	// keeps the non-trimming parameters as they were written).
	rawQuery string
}

// keywords are the path keywords in force, which may follow a query string
// ("/video.mp4?start=0&end=60/mp4hls/index.m3u8").
func (s *Server) keywords() []string {
	var k []string
	if s.cfg.MP4HLS.Active {
		k = append(k, s.cfg.MP4HLS.Keyword)
	}
	if s.cfg.MP3HLS.Active {
		k = append(k, s.cfg.MP3HLS.Keyword)
	}
	if s.cfg.Dims.Active {
		k = append(k, s.cfg.Dims.Keyword)
	}
	return k
}

// splitTarget separates a request target into its path and its query strings. The manual lets
// trimming parameters stand before a keyword, which a URL parser reads as part of the query:
// a query holding "/KEYWORD/" continues the path there, and may itself end with a query.
func splitTarget(escapedPath, rawQuery string, keywords []string) (string, []string) {
	cut := -1
	for _, k := range keywords {
		if i := strings.Index(rawQuery, "/"+k+"/"); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return escapedPath, []string{rawQuery}
	}
	tail, after, _ := strings.Cut(rawQuery[cut:], "?")
	return escapedPath + tail, []string{rawQuery[:cut], after}
}

// parseRequest resolves r's target. Traversal (".." segments, encoded or not), NUL and
// backslashes are refused before any file is touched; os.Root refuses symbolic links out of the
// root.
func (s *Server) parseRequest(r *http.Request) (*request, error) {
	p, queries := splitTarget(r.URL.EscapedPath(), r.URL.RawQuery, s.keywords())
	var segs, rawSegs []string
	for _, raw := range strings.Split(p, "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return nil, httpError{http.StatusBadRequest, "malformed path escape"}
		}
		switch {
		case seg == "":
			continue
		case seg == "." || seg == ".." || strings.ContainsAny(seg, "\x00\\") || strings.Contains(seg, "/"):
			return nil, httpError{http.StatusBadRequest, "path segment refused"}
		}
		segs, rawSegs = append(segs, seg), append(rawSegs, raw)
	}
	q := url.Values{}
	var raws []string
	for _, raw := range queries {
		if raw != "" {
			raws = append(raws, raw)
		}
		v, err := url.ParseQuery(raw)
		if err != nil {
			return nil, httpError{http.StatusBadRequest, "malformed query string"}
		}
		for k, vs := range v {
			q[k] = append(q[k], vs...)
		}
	}
	// The original is the first prefix of the path that is a file.
	for i := range segs {
		name := strings.Join(segs[:i+1], "/")
		fi, err := s.root.Stat(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, httpError{http.StatusNotFound, "not found"}
			}
			return nil, httpError{http.StatusForbidden, "forbidden"}
		}
		if fi.Mode().IsRegular() {
			return &request{source: name, info: fi, rest: segs[i+1:], rawRest: rawSegs[i+1:], query: q, rawQuery: strings.Join(raws, "&")}, nil
		}
		if !fi.IsDir() {
			return nil, httpError{http.StatusForbidden, "forbidden"}
		}
	}
	return nil, httpError{http.StatusNotFound, "not found"}
}

// escapedSource is the original's URL path.
func (req *request) escapedSource() string {
	segs := strings.Split(req.source, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}
