package dims

import (
	"net/url"
	"strconv"
	"strings"
)

// command is one step of a recipe, e.g. {name: "resize", arg: "200x200"}.
type command struct {
	name string
	arg  string
	geo  geometry // crop, thumbnail, resize
	n    int      // quality
}

// Recipe is a parsed DIMS command path such as "/thumbnail/78x110/format/png/quality/50/".
// Commands run in the order written; format, quality, optimize and firstframeonly describe the
// output and apply wherever they stand (the last one of each kind wins).
type Recipe struct {
	cmds []command
}

// maxRecipeCommands bounds the work a single URL can ask for.
const maxRecipeCommands = 64

// takesArg lists the commands and whether each consumes the next path segment.
var takesArg = map[string]bool{
	"optimize":       false,
	"crop":           true,
	"thumbnail":      true,
	"resize":         true,
	"format":         true,
	"quality":        true,
	"composite":      true,
	"byoriginal":     true,
	"firstframeonly": true,
}

// ParseRecipe parses a command path. Segments are URL-decoded, so "50%25" is "50%"; a "%" that
// does not start a valid escape is kept as it is (a hand-typed "50%x30%25" is "50%x30%").
// Empty segments (leading, trailing or doubled slashes) are ignored. Any unknown command or
// bad argument is the manual's "invalid DIMS command" failure.
func ParseRecipe(path string) (*Recipe, error) {
	var segs []string
	for _, s := range strings.Split(path, "/") {
		if s == "" {
			continue
		}
		s = unescape(s)
		if strings.Contains(s, "/") {
			return nil, failf(ConvertFailed, "escaped slash in %q", s)
		}
		segs = append(segs, s)
	}
	r := &Recipe{}
	for i := 0; i < len(segs); i++ {
		name := strings.ToLower(segs[i])
		needArg, ok := takesArg[name]
		if !ok {
			return nil, failf(ConvertFailed, "unknown command %q", segs[i])
		}
		c := command{name: name}
		if needArg {
			if i+1 >= len(segs) {
				return nil, failf(ConvertFailed, "%s needs an argument", name)
			}
			i++
			c.arg = segs[i]
			if err := c.check(); err != nil {
				return nil, err
			}
		}
		if len(r.cmds) == maxRecipeCommands {
			return nil, failf(ConvertFailed, "more than %d commands", maxRecipeCommands)
		}
		r.cmds = append(r.cmds, c)
	}
	if len(r.cmds) == 0 {
		return nil, failf(ConvertFailed, "no command")
	}
	return r, nil
}

// unescape decodes the %XX escapes of s and keeps every other "%" as it is.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// check validates c.arg and fills in its parsed form.
func (c *command) check() error {
	bad := func() error { return failf(ConvertFailed, "bad %s argument %q", c.name, c.arg) }
	switch c.name {
	case "crop", "thumbnail", "resize":
		g, ok := parseGeometry(c.arg)
		if !ok || c.name == "crop" && !g.validForCrop() || c.name != "crop" && !g.validForSize() {
			return bad()
		}
		c.geo = g
	case "format":
		switch f := strings.ToLower(c.arg); f {
		case "png", "jpg", "gif":
			c.arg = f
		case "jpeg":
			c.arg = "jpg"
		default:
			return bad()
		}
	case "quality":
		n, err := strconv.Atoi(c.arg)
		if err != nil || n < 0 || n > 100 || c.arg[0] == '+' || c.arg[0] == '-' {
			return bad()
		}
		c.n = n
	case "firstframeonly":
		switch strings.ToLower(c.arg) {
		case "on":
			c.n = 1
		case "off":
			c.n = 0
		default:
			return bad()
		}
	case "composite", "byoriginal":
		// Names are checked against the configuration when the recipe runs.
	}
	return nil
}

// String renders the recipe in canonical form: lower-case commands, arguments escaped so that
// ParseRecipe reads back the same recipe.
func (r *Recipe) String() string {
	var b strings.Builder
	for _, c := range r.cmds {
		b.WriteString("/" + c.name)
		if c.arg != "" {
			b.WriteString("/" + url.PathEscape(c.arg))
		}
	}
	return b.String() + "/"
}
