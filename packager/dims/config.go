package dims

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Config is the manual's <Dims> element. Status and Keyword only matter to a server routing
// URLs; Process ignores them.
type Config struct {
	Active         bool   // Status="Active" (default Inactive: the manual disables DIMS unless configured)
	Keyword        string // default "dims", the keyword of the manual's examples
	MaxSourceSize  int64  // bytes; the attribute is in MB, default 10
	Redirect       bool   // OnFailure="redirect" (default "message")
	FirstFrameOnly bool   // default OFF; a recipe's firstframeonly overrides it
	// MaxPixels refuses decompression bombs: the original's width×height (times its frame count
	// for an animated GIF) and every intermediate size may not exceed it. Not in the manual; a
	// 10 MB file can otherwise declare a 65535×65535 canvas. Default DefaultMaxPixels.
	MaxPixels  int64
	Composites map[string]*Composite
	ByOriginal map[string][]Condition

	overlays *overlayCache
}

// DefaultMaxPixels is 100 megapixels: above any camera sensor the workstation meets, and about
// 400 MB of RGBA while being processed.
const DefaultMaxPixels = 100_000_000

// Composite is one <Composite> preset: File drawn onto the image at Gravity, moved inwards by
// X, Y (pixels, or percent of the image's width/height when XPercent/YPercent), with Dissolve
// percent opacity on top of the file's own alpha.
type Composite struct {
	File               string
	Gravity            string // nw n ne w c e sw s se; default c
	X, Y               int
	XPercent, YPercent bool
	Dissolve           int // 0-100, default 50
}

// Condition is one <Condition> of a <ByOriginal>: Recipe applies when the original's width is
// below Width and its height below Height; a zero attribute is not tested, so a condition
// without attributes always applies.
type Condition struct {
	Width, Height int
	Recipe        *Recipe
}

// DefaultConfig is the configuration with every attribute at the manual's default.
func DefaultConfig() *Config {
	return &Config{
		Keyword:       "dims",
		MaxSourceSize: 10 << 20,
		MaxPixels:     DefaultMaxPixels,
		Composites:    map[string]*Composite{},
		ByOriginal:    map[string][]Condition{},
		overlays:      &overlayCache{m: map[string]*image.RGBA{}},
	}
}

type xmlDims struct {
	Status         *string `xml:"Status,attr"`
	Keyword        *string `xml:"Keyword,attr"`
	MaxSourceSize  *string `xml:"MaxSourceSize,attr"`
	OnFailure      *string `xml:"OnFailure,attr"`
	FirstFrameOnly *string `xml:"FirstFrameOnly,attr"`
	Composites     []struct {
		Name     string  `xml:"Name,attr"`
		File     string  `xml:"File,attr"`
		Gravity  *string `xml:"Gravity,attr"`
		Geometry *string `xml:"Geometry,attr"`
		Dissolve *string `xml:"Dissolve,attr"`
	} `xml:"Composite"`
	ByOriginal []struct {
		Name       string `xml:"Name,attr"`
		Conditions []struct {
			Width  *string `xml:"Width,attr"`
			Height *string `xml:"Height,attr"`
			Recipe string  `xml:",chardata"`
		} `xml:"Condition"`
	} `xml:"ByOriginal"`
}

// ParseConfig reads the first <Dims> element in data, wherever it is nested (server.xml's
// <Server><VHostDefault><Options>, a vhost's <Options>, or on its own). Without one, the
// defaults apply. Unknown attributes (the manual's examples carry port="8500") are ignored.
func ParseConfig(data []byte) (*Config, error) {
	cfg := DefaultConfig()
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return cfg, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dims config: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Dims" {
			var x xmlDims
			if err := dec.DecodeElement(&x, &se); err != nil {
				return nil, fmt.Errorf("dims config: %w", err)
			}
			if err := cfg.apply(&x); err != nil {
				return nil, fmt.Errorf("dims config: %w", err)
			}
			return cfg, nil
		}
	}
}

// LoadConfig reads a configuration file; a relative Composite File is taken relative to the
// file's folder.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	for _, c := range cfg.Composites {
		if !filepath.IsAbs(c.File) {
			c.File = filepath.Join(filepath.Dir(path), c.File)
		}
	}
	return cfg, nil
}

func (cfg *Config) apply(x *xmlDims) error {
	if x.Status != nil {
		switch strings.ToLower(*x.Status) {
		case "active":
			cfg.Active = true
		case "inactive":
		default:
			return fmt.Errorf("Status %q is neither Active nor Inactive", *x.Status)
		}
	}
	if x.Keyword != nil {
		if *x.Keyword == "" || strings.Contains(*x.Keyword, "/") {
			return fmt.Errorf("Keyword %q is empty or has a '/'", *x.Keyword)
		}
		cfg.Keyword = *x.Keyword
	}
	if x.MaxSourceSize != nil {
		mb, err := strconv.Atoi(*x.MaxSourceSize)
		if err != nil || mb <= 0 || mb > 1<<20 {
			return fmt.Errorf("MaxSourceSize %q is not a number of MB", *x.MaxSourceSize)
		}
		cfg.MaxSourceSize = int64(mb) << 20
	}
	if x.OnFailure != nil {
		switch strings.ToLower(*x.OnFailure) {
		case "message":
		case "redirect":
			cfg.Redirect = true
		default:
			return fmt.Errorf("OnFailure %q is neither message nor redirect", *x.OnFailure)
		}
	}
	if x.FirstFrameOnly != nil {
		on, err := parseOnOff(*x.FirstFrameOnly)
		if err != nil {
			return fmt.Errorf("FirstFrameOnly: %w", err)
		}
		cfg.FirstFrameOnly = on
	}
	for _, xc := range x.Composites {
		if xc.Name == "" || strings.Contains(xc.Name, "/") || cfg.Composites[xc.Name] != nil {
			return fmt.Errorf("Composite Name %q is empty, has a '/' or is repeated", xc.Name)
		}
		if xc.File == "" {
			return fmt.Errorf("Composite %q has no File", xc.Name)
		}
		c := &Composite{File: xc.File, Gravity: "c", Dissolve: 50}
		if xc.Gravity != nil {
			c.Gravity = strings.ToLower(*xc.Gravity)
			if _, ok := gravities[c.Gravity]; !ok {
				return fmt.Errorf("Composite %q: Gravity %q is not one of nw n ne w c e sw s se", xc.Name, *xc.Gravity)
			}
		}
		if xc.Geometry != nil {
			if !c.parseGeometry(*xc.Geometry) {
				return fmt.Errorf("Composite %q: Geometry %q is not {+-}x{+-}y", xc.Name, *xc.Geometry)
			}
		}
		if xc.Dissolve != nil {
			d, err := strconv.Atoi(*xc.Dissolve)
			if err != nil || d < 0 || d > 100 {
				return fmt.Errorf("Composite %q: Dissolve %q is not 0-100", xc.Name, *xc.Dissolve)
			}
			c.Dissolve = d
		}
		cfg.Composites[xc.Name] = c
	}
	for _, xb := range x.ByOriginal {
		if xb.Name == "" || strings.Contains(xb.Name, "/") || cfg.ByOriginal[xb.Name] != nil {
			return fmt.Errorf("ByOriginal Name %q is empty, has a '/' or is repeated", xb.Name)
		}
		conds := []Condition{}
		for i, xc := range xb.Conditions {
			var c Condition
			var err error
			if c.Width, err = conditionSize(xc.Width); err != nil {
				return fmt.Errorf("ByOriginal %q condition %d: Width %w", xb.Name, i+1, err)
			}
			if c.Height, err = conditionSize(xc.Height); err != nil {
				return fmt.Errorf("ByOriginal %q condition %d: Height %w", xb.Name, i+1, err)
			}
			if c.Recipe, err = ParseRecipe(strings.TrimSpace(xc.Recipe)); err != nil {
				return fmt.Errorf("ByOriginal %q condition %d: %q: %s", xb.Name, i+1, xc.Recipe, err.(*Error).Detail)
			}
			for _, cmd := range c.Recipe.cmds {
				// A condition is chosen after the original is decoded, too late to change how
				// many frames are read, and nesting could recurse forever.
				if cmd.name == "byoriginal" || cmd.name == "firstframeonly" {
					return fmt.Errorf("ByOriginal %q condition %d: %s is not allowed in a condition", xb.Name, i+1, cmd.name)
				}
				if cmd.name == "composite" && cfg.Composites[cmd.arg] == nil {
					return fmt.Errorf("ByOriginal %q condition %d: no Composite named %q", xb.Name, i+1, cmd.arg)
				}
			}
			conds = append(conds, c)
		}
		cfg.ByOriginal[xb.Name] = conds
	}
	return nil
}

func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is neither ON nor OFF", s)
}

func conditionSize(s *string) (int, error) {
	if s == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil || n <= 0 || n > maxDimension {
		return 0, fmt.Errorf("%q is not a positive number of pixels", *s)
	}
	return n, nil
}

// parseGeometry reads the manual's Composite Geometry "{+-}x{+-}y", each number optionally
// followed by "%".
func (c *Composite) parseGeometry(s string) bool {
	if len(s) < 4 || s[0] != '+' && s[0] != '-' {
		return false
	}
	j := strings.IndexAny(s[1:], "+-") + 1
	if j == 0 {
		return false
	}
	var ok bool
	if c.X, c.XPercent, ok = signedPercent(s[:j]); !ok {
		return false
	}
	c.Y, c.YPercent, ok = signedPercent(s[j:])
	return ok
}

func signedPercent(s string) (int, bool, bool) {
	pct := strings.HasSuffix(s, "%")
	v, ok := parseSigned(strings.TrimSuffix(s, "%"))
	return v, pct, ok
}

// overlayCache keeps decoded Composite files: a server applies the same watermark to every
// request.
type overlayCache struct {
	mu sync.Mutex
	m  map[string]*image.RGBA
}
