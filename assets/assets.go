// Package assets holds the files the application ships with: the window icon (also named in
// FyneApp.toml for `fyne package`) and, next to it, the sample the README's first command packages.
package assets

import _ "embed"

// Icon is the application icon, 512×512 PNG.
//
//go:embed icon.png
var Icon []byte
