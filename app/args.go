package app

import (
	"strings"

	"drmpack/packager/errcode"
)

// flagSpec declares one command-line flag. Bool flags take no value; repeated flags accumulate.
type flagSpec struct {
	names    []string // "--drm", "-o", ...
	bool     bool
	repeated bool
	help     string
	value    string // placeholder in help, e.g. "LIST"
}

// parsedArgs is the result of parsing: flag values by their first name, and positional args.
type parsedArgs struct {
	values     map[string][]string
	positional []string
}

func (p parsedArgs) has(name string) bool { return len(p.values[name]) > 0 }

func (p parsedArgs) get(name string) string {
	if v := p.values[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// parseArgs implements the manual's argument errors: an unknown flag is 1102 (invalid argument),
// a flag without its value is 1103 (wrong number of arguments). "--name=value", "--name value"
// and flags after positional arguments are accepted; "--" ends the flags.
func parseArgs(args []string, specs []flagSpec) (parsedArgs, error) {
	byName := map[string]*flagSpec{}
	for i := range specs {
		for _, n := range specs[i].names {
			byName[n] = &specs[i]
		}
	}
	p := parsedArgs{values: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.positional = append(p.positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			p.positional = append(p.positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		spec, ok := byName[name]
		if !ok {
			return p, errcode.New(errcode.InvalidArgument, "unknown flag %s (see drmpack help)", name)
		}
		key := spec.names[0]
		if spec.bool {
			if hasValue && value != "true" && value != "false" {
				return p, errcode.New(errcode.InvalidArgument, "%s takes no value", name)
			}
			if !hasValue || value == "true" {
				p.values[key] = append(p.values[key], "true")
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) || (strings.HasPrefix(args[i+1], "-") && len(args[i+1]) > 1) {
				return p, errcode.New(errcode.ArgumentCount, "%s needs a value (%s)", name, spec.value)
			}
			i++
			value = args[i]
		}
		if !spec.repeated && p.has(key) {
			return p, errcode.New(errcode.InvalidArgument, "%s given twice", name)
		}
		p.values[key] = append(p.values[key], value)
	}
	return p, nil
}
