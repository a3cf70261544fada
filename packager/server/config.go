package server

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"drmpack/packager/dims"
	"drmpack/packager/errcode"
	"drmpack/packager/hls"
	"drmpack/packager/transform"
)

// Config is the media server manual's <Server><VHostDefault> settings that drmpack serves, plus
// drmpack's own <Cache> and <Limits> (documented in the README). The zero values of the manual's
// elements are its defaults: every operation OFF or Inactive.
type Config struct {
	UpfrontMP4                            bool // <UpfrontMP4Header>ON
	UpfrontM4A                            bool // <UpfrontM4AHeader>ON
	MP4Trimming, M4ATrimming, MP3Trimming Trimming
	MP4HLS, MP3HLS                        HLS
	Dims                                  *dims.Config // <Options><Dims>
	Cache                                 CacheConfig
	Limits                                Limits
	// Warnings are the configuration's elements and attributes this server does not know, and
	// settings that cannot take effect (an MP3HLS keyword shared with MP4HLS): reported at
	// start-up rather than ignored silently.
	Warnings []string
}

// Trimming is one of <MP4Trimming>, <M4ATrimming>, <MP3Trimming>.
type Trimming struct {
	On         bool
	StartParam string // default "start"
	EndParam   string // default "end"
	MultiParam string // default "trimming"
	AllTracks  bool
	MaxRatio   int // percent, default 50, at most 100
}

// HLS is <MP4HLS> or <MP3HLS>.
type HLS struct {
	Active         bool   // Status="Active"
	Keyword        string // default "mp4hls" / "mp3hls"
	Index          string // <Index>, default index.m3u8
	IndexVersion   int    // <Index Ver>, 3 or 1, default 3
	Alternates     bool   // <Index Alternates>
	Sequence       int    // default 0
	Duration       time.Duration
	AlternatesName string // default playlist.m3u8
}

// CacheConfig bounds the derived-object cache (drmpack's <Cache MemoryMB DiskMB Dir>): memory
// always; segments and images also on disk when Dir and DiskMB are set.
type CacheConfig struct {
	MemoryBytes int64 // default 256 MB
	DiskBytes   int64
	Dir         string // a folder of the server's own: its *.drmpack-cache files are removed at start
}

// Limits protect the server (drmpack's <Limits>).
type Limits struct {
	HeavyRequests int           // concurrent derivations (HLS, trimming analysis, DIMS); default 2×CPUs
	HeavyWait     time.Duration // how long a derivation waits for a slot before 503; default 2 s
	MaxURLBytes   int           // request target length, default 8192
}

// DefaultConfig is the manual's defaults.
func DefaultConfig() *Config {
	trim := Trimming{StartParam: "start", EndParam: "end", MultiParam: "trimming", MaxRatio: transform.DefaultMaxRatio}
	h := HLS{Index: hls.IndexName, IndexVersion: 3, Duration: hls.DefaultDuration, AlternatesName: hls.AlternatesName}
	c := &Config{MP4Trimming: trim, M4ATrimming: trim, MP3Trimming: trim, MP4HLS: h, MP3HLS: h, Dims: dims.DefaultConfig()}
	c.MP4HLS.Keyword, c.MP3HLS.Keyword = "mp4hls", "mp3hls"
	c.Cache.MemoryBytes = 256 << 20
	c.Limits = Limits{HeavyWait: 2 * time.Second, MaxURLBytes: 8192}
	return c
}

// node is an XML element with its attributes, text and children, in document order.
type node struct {
	Name     string
	Attrs    []xml.Attr
	Text     string
	Children []*node
}

func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{Name: t.Name.Local, Attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// attr returns the attribute named name (the manual's names; matched case-insensitively).
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// configReader walks the tree, reporting what it does not know and failing on bad values.
type configReader struct {
	cfg  *Config
	errs []string
}

func (r *configReader) warn(format string, args ...any) {
	r.cfg.Warnings = append(r.cfg.Warnings, fmt.Sprintf(format, args...))
}

func (r *configReader) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// known reports attributes of n outside names and returns n's children by name, reporting
// unknown children (path is n's place, for the messages); of repeated children the last counts.
func (r *configReader) known(n *node, path string, attrs []string, children ...string) map[string]*node {
	for _, a := range n.Attrs {
		if !containsFold(attrs, a.Name.Local) {
			r.warn("%s: unknown attribute %s (ignored)", path, a.Name.Local)
		}
	}
	byName := map[string]*node{}
	for _, c := range n.Children {
		if !containsFold(children, c.Name) {
			r.warn("%s: unknown element <%s> (ignored)", path, c.Name)
			continue
		}
		byName[c.Name] = c
	}
	return byName
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// ParseConfig reads a server.xml. Unknown elements and attributes become Warnings; a value the
// manual does not allow is an InvalidArgument error naming the element.
func ParseConfig(data []byte) (*Config, error) {
	root, err := parseTree(data)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, "server configuration is not XML: %v", err)
	}
	cfg := DefaultConfig()
	r := &configReader{cfg: cfg}
	if root.Name != "Server" {
		return nil, errcode.New(errcode.InvalidArgument, "server configuration: the root element is <%s>, want <Server>", root.Name)
	}
	top := r.known(root, "Server", nil, "VHostDefault", "Cache", "Limits")
	if c := top["Cache"]; c != nil {
		r.cache(c)
	}
	if l := top["Limits"]; l != nil {
		r.limits(l)
	}
	if v := top["VHostDefault"]; v != nil {
		sections := r.known(v, "VHostDefault", nil, "Media", "Options")
		if m := sections["Media"]; m != nil {
			r.media(m)
		}
		if o := sections["Options"]; o != nil {
			opts := r.known(o, "Options", nil, "Dims")
			if d := opts["Dims"]; d != nil {
				r.dims(d, data)
			}
		}
	}
	if len(r.errs) > 0 {
		return nil, errcode.New(errcode.InvalidArgument, "server configuration: %s", strings.Join(r.errs, "; "))
	}
	if cfg.MP3HLS.Active && cfg.MP4HLS.Active && cfg.MP3HLS.Keyword == cfg.MP4HLS.Keyword {
		cfg.MP3HLS.Active = false
		r.warn("MP3HLS: Keyword %q is MP4HLS's; as the manual says, MP3HLS does not run", cfg.MP3HLS.Keyword)
	}
	return cfg, nil
}

// LoadConfig reads a server.xml file; a relative Composite File is relative to its folder.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errcode.Wrap(errcode.FileAccess, err, "server configuration")
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	for _, c := range cfg.Dims.Composites {
		if !filepath.IsAbs(c.File) {
			c.File = filepath.Join(filepath.Dir(path), c.File)
		}
	}
	return cfg, nil
}

func (r *configReader) media(m *node) {
	el := r.known(m, "Media", nil, "UpfrontMP4Header", "UpfrontM4AHeader", "MP4Trimming", "M4ATrimming", "MP3Trimming", "MP4HLS", "MP3HLS")
	for name, dst := range map[string]*bool{"UpfrontMP4Header": &r.cfg.UpfrontMP4, "UpfrontM4AHeader": &r.cfg.UpfrontM4A} {
		if n := el[name]; n != nil {
			r.known(n, name, nil)
			*dst = r.onOff(name, n.Text)
		}
	}
	for name, dst := range map[string]*Trimming{"MP4Trimming": &r.cfg.MP4Trimming, "M4ATrimming": &r.cfg.M4ATrimming, "MP3Trimming": &r.cfg.MP3Trimming} {
		if n := el[name]; n != nil {
			r.trimming(name, n, dst)
		}
	}
	for name, dst := range map[string]*HLS{"MP4HLS": &r.cfg.MP4HLS, "MP3HLS": &r.cfg.MP3HLS} {
		if n := el[name]; n != nil {
			r.hls(name, n, dst)
		}
	}
}

func (r *configReader) cache(n *node) {
	r.known(n, "Cache", []string{"MemoryMB", "DiskMB", "Dir"})
	if v, ok := n.attr("MemoryMB"); ok {
		r.cfg.Cache.MemoryBytes = r.number("Cache MemoryMB", v, 0, 1<<20) << 20
	}
	if v, ok := n.attr("DiskMB"); ok {
		r.cfg.Cache.DiskBytes = r.number("Cache DiskMB", v, 0, 1<<30) << 20
	}
	if v, ok := n.attr("Dir"); ok {
		r.cfg.Cache.Dir = v
	}
	if (r.cfg.Cache.Dir == "") != (r.cfg.Cache.DiskBytes == 0) {
		r.fail("Cache: DiskMB and Dir go together")
	}
}

func (r *configReader) limits(n *node) {
	r.known(n, "Limits", []string{"HeavyRequests", "HeavyWaitMs", "MaxURLBytes"})
	if v, ok := n.attr("HeavyRequests"); ok {
		r.cfg.Limits.HeavyRequests = int(r.number("Limits HeavyRequests", v, 1, 4096))
	}
	if v, ok := n.attr("HeavyWaitMs"); ok {
		r.cfg.Limits.HeavyWait = time.Duration(r.number("Limits HeavyWaitMs", v, 0, 600_000)) * time.Millisecond
	}
	if v, ok := n.attr("MaxURLBytes"); ok {
		r.cfg.Limits.MaxURLBytes = int(r.number("Limits MaxURLBytes", v, 256, 1<<20))
	}
}

// number reads a whole number within [lo, hi].
func (r *configReader) number(where, s string, lo, hi int64) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		r.fail("%s %q is not a whole number from %d to %d", where, s, lo, hi)
		return lo
	}
	return v
}

func (r *configReader) onOff(where, s string) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ON":
		return true
	case "OFF", "":
		return false
	}
	r.fail("%s: %q is neither ON nor OFF", where, s)
	return false
}

func (r *configReader) trimming(name string, n *node, t *Trimming) {
	r.known(n, name, []string{"StartParam", "EndParam", "MultiParam", "AllTracks", "MaxRatio"})
	t.On = r.onOff(name, n.Text)
	for attr, dst := range map[string]*string{"StartParam": &t.StartParam, "EndParam": &t.EndParam, "MultiParam": &t.MultiParam} {
		if v, ok := n.attr(attr); ok {
			if v == "" || strings.ContainsAny(v, "&=?/#") {
				r.fail("%s %s %q is not a query parameter name", name, attr, v)
			}
			*dst = v
		}
	}
	if v, ok := n.attr("AllTracks"); ok {
		t.AllTracks = r.onOff(name+" AllTracks", v)
	}
	if v, ok := n.attr("MaxRatio"); ok {
		p, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
		if err != nil || p < 0 || p > 100 {
			r.fail("%s MaxRatio %q is not 0-100 (percent)", name, v)
		}
		t.MaxRatio = p
	}
	if t.StartParam == t.EndParam || t.MultiParam == t.StartParam || t.MultiParam == t.EndParam {
		r.fail("%s: StartParam, EndParam and MultiParam must differ", name)
	}
}

func (r *configReader) hls(name string, n *node, h *HLS) {
	el := r.known(n, name, []string{"Status", "Keyword"}, "Index", "Sequence", "Duration", "AlternatesName")
	if v, ok := n.attr("Status"); ok {
		switch strings.ToLower(v) {
		case "active":
			h.Active = true
		case "inactive":
			h.Active = false
		default:
			r.fail("%s Status %q is neither Active nor Inactive", name, v)
		}
	}
	if v, ok := n.attr("Keyword"); ok {
		if !validSegment(v) {
			r.fail("%s Keyword %q is empty or not a plain path segment", name, v)
		}
		h.Keyword = v
	}
	if ix := el["Index"]; ix != nil {
		r.known(ix, name+" Index", []string{"Ver", "Alternates"})
		if v := strings.TrimSpace(ix.Text); v != "" {
			h.Index = v
		}
		if v, ok := ix.attr("Ver"); ok {
			if v != "1" && v != "3" {
				r.fail("%s Index Ver %q is neither 1 nor 3", name, v)
			}
			h.IndexVersion, _ = strconv.Atoi(v)
		}
		if v, ok := ix.attr("Alternates"); ok {
			h.Alternates = r.onOff(name+" Index Alternates", v)
		}
	}
	if s := el["Sequence"]; s != nil {
		r.known(s, name+" Sequence", nil)
		h.Sequence = int(r.number(name+" Sequence", strings.TrimSpace(s.Text), 0, 1<<30))
	}
	if d := el["Duration"]; d != nil {
		r.known(d, name+" Duration", nil)
		v, err := strconv.ParseFloat(strings.TrimSpace(d.Text), 64)
		if err != nil || !(v > 0 && v <= 3600) {
			r.fail("%s Duration %q is not a number of seconds (0-3600]", name, d.Text)
		}
		h.Duration = time.Duration(v * float64(time.Second))
	}
	if a := el["AlternatesName"]; a != nil {
		r.known(a, name+" AlternatesName", nil)
		h.AlternatesName = strings.TrimSpace(a.Text)
	}
	if !validSegment(h.Index) || !validSegment(h.AlternatesName) || h.Index == h.AlternatesName || strings.HasSuffix(h.Index, ".ts") {
		r.fail("%s: Index %q and AlternatesName %q must be two different file names", name, h.Index, h.AlternatesName)
	}
}

// validSegment reports a name usable as one URL path segment.
func validSegment(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/?#%\\\x00")
}

// dims checks <Dims>' structure for unknown names, then lets package dims read its values.
func (r *configReader) dims(d *node, data []byte) {
	r.known(d, "Dims", []string{"Status", "Keyword", "MaxSourceSize", "OnFailure", "FirstFrameOnly"}, "Composite", "ByOriginal")
	for _, c := range d.Children {
		switch c.Name {
		case "Composite":
			r.known(c, "Dims Composite", []string{"Name", "File", "Gravity", "Geometry", "Dissolve"})
		case "ByOriginal":
			r.known(c, "Dims ByOriginal", []string{"Name"}, "Condition")
			for _, cond := range c.Children {
				if cond.Name == "Condition" {
					r.known(cond, "Dims ByOriginal Condition", []string{"Width", "Height"})
				}
			}
		}
	}
	cfg, err := dims.ParseConfig(data)
	if err != nil {
		r.fail("%v", err)
		return
	}
	r.cfg.Dims = cfg
}
