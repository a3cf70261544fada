package server

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"drmpack/packager/demux"
	"drmpack/packager/dims"
	"drmpack/packager/errcode"
	"drmpack/packager/hls"
	"drmpack/packager/transform"
)

// route dispatches a resolved request: the original itself (possibly trimmed or with its header
// moved up front), an HLS file under an HLS keyword, or a DIMS image under the DIMS keyword.
func (s *Server) route(w *response, r *http.Request, req *request) error {
	if len(req.rest) == 0 {
		return s.serveOriginal(w, r, req)
	}
	ext := strings.ToLower(path.Ext(req.source))
	switch kw := req.rest[0]; {
	case s.cfg.MP4HLS.Active && kw == s.cfg.MP4HLS.Keyword && ext == ".mp4":
		return s.serveHLS(w, r, req, &s.cfg.MP4HLS)
	case s.cfg.MP3HLS.Active && kw == s.cfg.MP3HLS.Keyword && ext == ".mp3":
		return s.serveHLS(w, r, req, &s.cfg.MP3HLS)
	case s.cfg.Dims.Active && kw == s.cfg.Dims.Keyword:
		return s.serveDims(w, r, req)
	}
	return httpError{http.StatusNotFound, "not found"}
}

// trimming is the configuration that applies to the original's extension, if any.
func (s *Server) trimming(source string) *Trimming {
	var t *Trimming
	switch strings.ToLower(path.Ext(source)) {
	case ".mp4":
		t = &s.cfg.MP4Trimming
	case ".m4a":
		t = &s.cfg.M4ATrimming
	case ".mp3":
		t = &s.cfg.MP3Trimming
	}
	if t == nil || !t.On {
		return nil
	}
	return t
}

// trim is what a request's trimming parameters ask for.
type trim struct {
	opts  transform.Options
	canon string // canonical ranges, for cache keys: the same cut however it was asked for
	query string // the parameters as given, to carry them into segment URIs
}

// trimOf reads the trimming parameters; nil when trimming is off for the file or the request
// names no range (start after end means none, as in the manual). The multi-trimming parameter
// wins over start and end.
func (s *Server) trimOf(req *request) (*trim, error) {
	t := s.trimming(req.source)
	if t == nil {
		return nil, nil
	}
	tr := &trim{opts: transform.Options{AllTracks: t.AllTracks, MaxRatio: t.MaxRatio}}
	given := url.Values{}
	if req.query.Has(t.MultiParam) {
		v := req.query.Get(t.MultiParam)
		rs, err := transform.ParseRanges(v)
		if err != nil {
			return nil, err
		}
		tr.opts.Ranges = rs
		given.Set(t.MultiParam, v)
	} else if req.query.Has(t.StartParam) || req.query.Has(t.EndParam) {
		rg, err := transform.StartEnd(req.query.Get(t.StartParam), req.query.Get(t.EndParam))
		if err != nil {
			return nil, err
		}
		if rg.Start >= rg.End {
			return nil, nil
		}
		tr.opts.Ranges = []transform.Range{rg}
		for _, k := range []string{t.StartParam, t.EndParam} {
			if req.query.Has(k) {
				given.Set(k, req.query.Get(k))
			}
		}
	} else {
		return nil, nil
	}
	parts := make([]string, len(tr.opts.Ranges))
	for i, rg := range tr.opts.Ranges {
		parts[i] = rg.String()
	}
	tr.canon = strings.Join(parts, ",")
	tr.query = given.Encode()
	return tr, nil
}

// CacheKey is the manual's caching key of a request for an original: its path and query string
// without the trimming parameters of the file's type (only when trimming is on for it), so
// "/video.mp4?tag=3277&start=30&end=100&date=20130726" is "/video.mp4?tag=3277&date=20130726".
// Other parameters keep their order.
func (s *Server) CacheKey(source, rawQuery string) string {
	key := source
	t := s.trimming(source)
	var kept []string
	for _, kv := range strings.Split(rawQuery, "&") {
		name, _, _ := strings.Cut(kv, "=")
		if n, err := url.QueryUnescape(name); kv == "" || err == nil && t != nil && (n == t.StartParam || n == t.EndParam || n == t.MultiParam) {
			continue
		}
		kept = append(kept, kv)
	}
	if len(kept) > 0 {
		key += "?" + strings.Join(kept, "&")
	}
	return key
}

// sourceKey names an original's version: its cache key plus size and modification time, so a
// replaced file is derived afresh.
func (s *Server) sourceKey(req *request) string {
	return fmt.Sprintf("%s\x00%d\x00%d", s.CacheKey(req.source, req.rawQuery), req.info.Size(), req.info.ModTime().UnixNano())
}

// fileTag is a strong validator of the original's version.
func fileTag(req *request) string {
	return fmt.Sprintf("%x-%x", req.info.Size(), req.info.ModTime().UnixNano())
}

// derivedTag is the ETag of something derived from the original by op.
func derivedTag(req *request, op string) string {
	h := fnv.New64a()
	io.WriteString(h, op)
	return fmt.Sprintf(`"%s-%x"`, fileTag(req), h.Sum64())
}

// open opens the original for reading.
func (s *Server) open(req *request) (io.ReaderAt, io.Closer, error) {
	f, err := s.root.Open(req.source)
	if err != nil {
		return nil, nil, errcode.Wrap(errcode.FileAccess, err, req.source)
	}
	if s.source != nil {
		return s.source(f), f, nil
	}
	return f, f, nil
}

// serveOriginal answers the original, trimmed when asked and allowed, or with its header moved
// up front when that is on for its type; otherwise as it is.
func (s *Server) serveOriginal(w *response, r *http.Request, req *request) error {
	tr, err := s.trimOf(req)
	if err != nil {
		return err
	}
	var plan *transform.Plan
	var op string
	switch {
	case tr != nil:
		op = "trim\x00" + tr.canon
		key := s.sourceKey(req) + "\x00" + op
		v, hit, err := s.cache.get(key, s.heavyWork(func() (any, int64, error) {
			m, err := s.media(req)
			if err != nil {
				return nil, 0, err
			}
			p, _, err := transform.Trim(m, tr.opts)
			if err != nil {
				return nil, 0, err
			}
			return p, planFootprint(p), nil
		}))
		if err != nil {
			return err
		}
		plan = v.(*transform.Plan)
		w.cache = hitMiss(hit)
	case s.upfront(req.source):
		op = "upfront"
		key := s.sourceKey(req) + "\x00" + op
		v, hit, err := s.cache.get(key, s.heavyWork(func() (any, int64, error) {
			src, c, err := s.open(req)
			if err != nil {
				return nil, 0, err
			}
			defer c.Close()
			p, moved, err := transform.Faststart(src, req.info.Size())
			if err != nil || !moved {
				// The manual serves files it cannot analyse unchanged.
				return (*transform.Plan)(nil), 64, nil
			}
			return p, planFootprint(p), nil
		}))
		if err != nil {
			return err
		}
		plan = v.(*transform.Plan)
		w.cache = hitMiss(hit)
	}
	src, c, err := s.open(req)
	if err != nil {
		return err
	}
	defer c.Close()
	if ct := contentType(req.source); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if plan == nil {
		w.Header().Set("ETag", `"`+fileTag(req)+`"`)
		rs, ok := src.(io.ReadSeeker) // the *os.File itself, which net/http sends with sendfile
		if !ok {
			rs = io.NewSectionReader(src, 0, req.info.Size())
		}
		http.ServeContent(w, r, req.source, req.info.ModTime(), rs)
		return nil
	}
	w.Header().Set("ETag", derivedTag(req, op))
	http.ServeContent(w, r, req.source, req.info.ModTime(), plan.Open(src))
	return nil
}

func hitMiss(hit bool) string {
	if hit {
		return "hit"
	}
	return "miss"
}

// planFootprint is the memory a plan holds: its regenerated header bytes and part list.
func planFootprint(p *transform.Plan) int64 { return p.Size() - p.SourceBytes() + 1024 }

func (s *Server) upfront(source string) bool {
	switch strings.ToLower(path.Ext(source)) {
	case ".mp4":
		return s.cfg.UpfrontMP4
	case ".m4a":
		return s.cfg.UpfrontM4A
	}
	return false
}

// media is the original's sample index, shared by every derivation of the same version. The
// index keeps the file open for the segments read through it; an evicted index's file is
// closed by the garbage collector once no response uses it any more.
func (s *Server) media(req *request) (*demux.Media, error) {
	key := fmt.Sprintf("index\x00%s\x00%d\x00%d", req.source, req.info.Size(), req.info.ModTime().UnixNano())
	v, _, err := s.cache.get(key, func() (any, int64, error) {
		src, c, err := s.open(req)
		if err != nil {
			return nil, 0, err
		}
		m, err := demux.OpenReaderAt(src, req.info.Size(), req.source)
		if err != nil {
			c.Close()
			return nil, 0, errcode.New(errcode.InvalidArgument, "%s cannot be analysed: %v", req.source, err)
		}
		var n int64
		for _, t := range m.Tracks {
			n += int64(len(t.Samples)) * 32
		}
		return m, n + 4096, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*demux.Media), nil
}

// serveHLS answers KEYWORD/Index, KEYWORD/AlternatesName and KEYWORD/N.ts of an original,
// trimmed first when the request carries trimming parameters and trimming is on.
func (s *Server) serveHLS(w *response, r *http.Request, req *request, h *HLS) error {
	if len(req.rest) != 2 {
		return httpError{http.StatusNotFound, "not found"}
	}
	tr, err := s.trimOf(req)
	if err != nil {
		return err
	}
	op := "hls\x00" + h.Keyword
	suffix := ""
	if tr != nil {
		op += "\x00" + tr.canon
		suffix = "?" + tr.query
	}
	key := s.sourceKey(req) + "\x00" + op
	base := req.escapedSource() + "/" + url.PathEscape(h.Keyword) + "/"
	v, hit, err := s.cache.get(key, s.heavyWork(func() (any, int64, error) {
		m, err := s.media(req)
		if err != nil {
			return nil, 0, err
		}
		if tr != nil {
			_, sel, err := transform.Trim(m, tr.opts)
			if err != nil {
				return nil, 0, err
			}
			m = sel.Media()
		}
		opts := hls.Options{Duration: h.Duration, Sequence: h.Sequence, IndexVersion: h.IndexVersion, Alternates: h.Alternates}
		od, err := hls.NewOnDemand(m, opts, func(seq int) string {
			if seq < 0 {
				return base + url.PathEscape(h.AlternatesName) + suffix
			}
			return base + strconv.Itoa(seq) + ".ts" + suffix
		})
		if err != nil {
			return nil, 0, err
		}
		return od, int64(len(od.Index())*2 + 64*od.Segments()), nil
	}))
	if err != nil {
		return err
	}
	od := v.(*hls.OnDemand)
	w.cache = hitMiss(hit)
	name := req.rest[1]
	var body []byte
	switch {
	case name == h.Index:
		body = []byte(od.Index())
	case name == h.AlternatesName && h.Alternates:
		text, _ := od.Playlist()
		body = []byte(text)
	case strings.HasSuffix(name, ".ts"):
		seq, err := strconv.Atoi(strings.TrimSuffix(name, ".ts"))
		if err != nil || seq < 0 || strconv.Itoa(seq) != strings.TrimSuffix(name, ".ts") {
			return httpError{http.StatusNotFound, "not found"}
		}
		v, hit, err := s.cache.get(key+"\x00"+name, s.heavyWork(func() (any, int64, error) {
			seg, err := od.Segment(seq)
			return blob{contentType(name), seg}, int64(len(seg)), err
		}))
		if err != nil {
			return err
		}
		body = v.(blob).data
		w.cache = hitMiss(hit)
	default:
		return httpError{http.StatusNotFound, "not found"}
	}
	w.Header().Set("Content-Type", contentType(name))
	w.Header().Set("ETag", derivedTag(req, op+"\x00"+name))
	http.ServeContent(w, r, name, req.info.ModTime(), bytes.NewReader(body))
	return nil
}

// serveDims answers an image derived by a DIMS recipe. A failure answers as OnFailure says:
// 500 with the manual's sentence, or 302 to the original.
func (s *Server) serveDims(w *response, r *http.Request, req *request) error {
	cfg := s.cfg.Dims
	recipe := "/" + strings.Join(req.rawRest[1:], "/") + "/"
	op := "dims\x00" + recipe
	// The manual ignores a query before the DIMS keyword: the key is the path's.
	v, hit, err := s.cache.get(fmt.Sprintf("%s\x00%d\x00%d\x00%s", req.source, req.info.Size(), req.info.ModTime().UnixNano(), op), s.heavyWork(func() (any, int64, error) {
		if req.info.Size() > cfg.MaxSourceSize {
			return nil, 0, &dims.Error{Reason: dims.TooLarge, Redirect: cfg.Redirect}
		}
		src, c, err := s.open(req)
		if err != nil {
			return nil, 0, &dims.Error{Reason: dims.NotDownloaded, Redirect: cfg.Redirect}
		}
		defer c.Close()
		data := make([]byte, req.info.Size())
		if n, err := src.ReadAt(data, 0); n < len(data) && err != nil {
			return nil, 0, &dims.Error{Reason: dims.NotDownloaded, Redirect: cfg.Redirect}
		}
		out, ct, err := dims.Process(data, recipe, cfg)
		if err != nil {
			return nil, 0, err
		}
		return blob{ct, out}, int64(len(out)), nil
	}))
	var de *dims.Error
	if errors.As(err, &de) {
		if de.Redirect {
			http.Redirect(w, r, req.escapedSource(), http.StatusFound)
			return nil
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, de.Error())
		return nil
	}
	if err != nil {
		return err
	}
	img := v.(blob)
	w.cache = hitMiss(hit)
	w.Header().Set("Content-Type", img.contentType)
	w.Header().Set("ETag", derivedTag(req, op))
	http.ServeContent(w, r, "", req.info.ModTime(), bytes.NewReader(img.data))
	return nil
}
