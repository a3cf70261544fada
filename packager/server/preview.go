package server

import (
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/ncg"
)

// PreviewPrefix is where the preview pages live; a folder of that name in the root is hidden.
const PreviewPrefix = "/_preview/"

//go:embed preview
var previewFiles embed.FS

var previewPage = template.Must(template.ParseFS(previewFiles, "preview/page.html"))

// previewAssets are the player scripts scripts/preview-assets.sh copies from npm.
var previewAssets, _ = fs.Sub(previewFiles, "preview/assets")

// previewable is a packaged title's playable output, relative to the root.
type previewable struct {
	manifest string // "TITLE/dash/stream.mpd" or "TITLE/hls/index.m3u8"
	player   string // shaka or hls
}

// findOutput returns what /_preview/TITLE plays: DASH (with shaka-player, which takes ClearKey
// keys) when the title has it, else HLS (with hls.js: clear or AES-128).
func (s *Server) findOutput(title string) (previewable, bool) {
	for _, p := range []previewable{{title + "/dash/stream.mpd", "shaka"}, {title + "/hls/index.m3u8", "hls"}} {
		if fi, err := s.root.Stat(p.manifest); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return previewable{}, false
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}

// servePreview answers PreviewPrefix: the list of packaged titles, a title's player page, a
// player page for any manifest path (/_preview/video.mp4/mp4hls/index.m3u8?start=0&end=60), or
// the player scripts.
func (s *Server) servePreview(w *response, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, PreviewPrefix)
	if name, ok := strings.CutPrefix(rest, "assets/"); ok {
		if strings.Contains(name, "/") {
			return httpError{http.StatusNotFound, "not found"}
		}
		http.ServeFileFS(w, r, previewAssets, name)
		return nil
	}
	if name, ok := strings.CutPrefix(rest, "ncg/"); ok {
		return s.serveNCG(w, r, name)
	}
	title := strings.Trim(rest, "/")
	for _, seg := range strings.Split(title, "/") {
		if seg == ".." || seg == "." || strings.ContainsAny(seg, "\x00\\") {
			return httpError{http.StatusBadRequest, "path segment refused"}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	data := struct {
		Title   string
		Links   []string
		Config  template.JS
		Script  string
		Missing bool
	}{Title: title}
	if title == "" {
		data.Title = "packaged titles"
		entries, _ := fs.ReadDir(s.root.FS(), ".")
		for _, e := range entries {
			_, ok := s.findOutput(e.Name())
			if ok && e.IsDir() || e.Type().IsRegular() && path.Ext(e.Name()) == ".ncg" {
				data.Links = append(data.Links, PreviewPrefix+url.PathEscape(e.Name()))
			}
		}
		sort.Strings(data.Links)
		return previewPage.Execute(w, data)
	}
	out, ok := s.findOutput(title)
	manifestURL := escapePath(out.manifest)
	switch ext := path.Ext(title); {
	case ext == ".ncg":
		// drmpack's whole-file container, decrypted on the fly for a plain <video>.
		out = previewable{manifest: title, player: "video"}
		manifestURL = PreviewPrefix + "ncg" + escapePath(title)
	case ext == ".mpd" || ext == ".m3u8":
		// Any manifest the server answers, derived ones included, with their query.
		out = previewable{manifest: title, player: map[string]string{".mpd": "shaka", ".m3u8": "hls"}[ext]}
		manifestURL = escapePath(title)
		if r.URL.RawQuery != "" {
			manifestURL += "?" + r.URL.RawQuery
		}
	case !ok:
		return httpError{http.StatusNotFound, "no dash/stream.mpd or hls/index.m3u8 under " + title}
	}
	cfg := map[string]any{"manifest": manifestURL, "player": out.player}
	if out.player == "shaka" && s.PreviewKeys != nil && loopback(r.RemoteAddr) {
		if cid := s.titleCID(title); cid != "" {
			if keys, err := s.PreviewKeys(cid); err == nil && len(keys) > 0 {
				cfg["clearKeys"] = keys
			}
		}
	}
	js, err := json.Marshal(cfg) // escapes <, > and &: safe inside the script element
	if err != nil {
		return err
	}
	data.Config = template.JS(js)
	data.Script = map[string]string{"shaka": "shaka-player.compiled.js", "hls": "hls.min.js"}[out.player]
	if data.Script != "" {
		_, err = fs.Stat(previewAssets, data.Script)
		data.Missing = err != nil
	}
	data.Links = []string{escapePath(out.manifest)}
	return previewPage.Execute(w, data)
}

// titleCID reads the content ID from a title's packaging.json.
func (s *Server) titleCID(title string) string {
	b, err := fs.ReadFile(s.root.FS(), path.Join(title, "packaging.json"))
	if err != nil {
		return ""
	}
	var p struct {
		CID string `json:"cid"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.CID
}

// loopback reports a client on this machine: only such a client is given ClearKey keys.
func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveNCG answers PreviewPrefix+"ncg/"+name: the plaintext of an NCG file, decrypted chunk by
// chunk as ranges are read, for loopback clients of a server that has the key store's keys.
func (s *Server) serveNCG(w *response, r *http.Request, name string) error {
	if s.PreviewKeys == nil || !loopback(r.RemoteAddr) {
		return httpError{http.StatusForbidden, "NCG previews are for this machine, with --preview-keys"}
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == ".." || seg == "." || strings.ContainsAny(seg, "\x00\\") {
			return httpError{http.StatusBadRequest, "path segment refused"}
		}
	}
	f, err := s.root.Open(name)
	if err != nil {
		return httpError{http.StatusNotFound, "not found"}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return httpError{http.StatusNotFound, "not found"}
	}
	h, _, err := ncg.ReadHeader(f, fi.Size())
	if err != nil {
		return err
	}
	pairs, err := s.PreviewKeys(h.CID)
	if err != nil {
		return errcode.Wrap(errcode.Unexpected, err, "key store")
	}
	var key keys.Secret
	raw, err := hex.DecodeString(pairs[h.KID.Hex()])
	if err != nil || len(raw) != len(key) {
		return errcode.New(errcode.NoPrivateKey, "no key for KID %s (content ID %q) in the local key store", h.KID.UUID(), h.CID)
	}
	copy(key[:], raw)
	plain, err := ncg.Open(f, fi.Size(), key)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", h.MediaType)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, h.Name, fi.ModTime(), io.NewSectionReader(plain, 0, plain.Size()))
	return nil
}
