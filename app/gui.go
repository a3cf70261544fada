package app

import (
	"fmt"
	"strings"

	"drmpack/packager"
	"drmpack/packager/cenc"
	"drmpack/packager/errcode"
	"drmpack/settings"
)

// GUIChoices are what the main window decides for one packaging run; everything else comes from
// the saved settings.
type GUIChoices struct {
	OutDir string
	DRM    []string // output types as the check boxes name them, lower case: "dash"
	// Key is the Key field: one or more [TYPE=]KID:KEY[:IV] in hex, separated by spaces, commas
	// or new lines, until the key store exists.
	Key string
	// MultiKey asks for a key per track type for adaptive titles.
	MultiKey bool
}

// GUI is what the window needs from the app layer: the saved settings, the log file, and the
// turning of the window's choices into job options. It never touches Fyne, so the CLI's build
// (which links this package) stays free of cgo.
type GUI struct {
	// Log receives every line the log view shows; nil (lines discarded) when the log folder is
	// unusable, which Warnings then says.
	Log *LogFile
	// Warnings are problems found while opening, for the window to show in its log view: the
	// window still works without a settings file or a log file.
	Warnings []string

	settings    settings.Settings
	settingsErr error
	preview     previewServer
}

// OpenGUI loads the settings and opens the log file for a window session.
func OpenGUI() *GUI {
	g := &GUI{}
	// Load returns the defaults along with its error, so a broken settings file still leaves a
	// usable window.
	g.settings, g.settingsErr = settings.Load()
	if g.settingsErr != nil {
		g.Warnings = append(g.Warnings, fmt.Sprintf("Settings file unreadable, using defaults: %v", g.settingsErr))
	}
	log, err := OpenLog()
	if err != nil {
		g.Warnings = append(g.Warnings, fmt.Sprintf("Log file unavailable, lines are not saved: %v", err))
	}
	g.Log = log
	return g
}

// Settings returns the settings the session started with (with any remembered destination).
func (g *GUI) Settings() settings.Settings { return g.settings }

// Options builds the job options and the queue's concurrency for a run: the saved settings, as the
// CLI reads them, with the window's destination, DRM types and keys. Errors carry the manual's
// code 1102 and say which field to fix.
func (g *GUI) Options(c GUIChoices) (packager.Options, int, error) {
	opts := settingsOptions(g.settings)
	opts.OutDir = strings.TrimSpace(c.OutDir)
	if opts.OutDir == "" {
		// Unlike the CLI there is no meaningful current folder to fall back on.
		return opts, 0, errcode.New(errcode.InvalidArgument, "choose a Destination Folder")
	}
	if len(c.DRM) == 0 {
		return opts, 0, errcode.New(errcode.InvalidArgument, "check a DRM Type (NCG, DASH, HLS)")
	}
	var err error
	if opts.DRM, err = parseDRM(strings.Join(c.DRM, ",")); err != nil {
		return opts, 0, err
	}
	opts.MultiKey = c.MultiKey
	if opts.Scheme, err = cenc.ParseScheme(g.settings.Scheme); err != nil {
		return opts, 0, errcode.New(errcode.InvalidArgument, "settings: %v", err)
	}
	kc, err := keyConfigFromSettings(g.settings)
	if err != nil {
		return opts, 0, errcode.Wrap(errcode.InvalidArgument, err, "settings")
	}
	// Keys typed into the window win over the configured key source (local store by default).
	if fields := strings.FieldsFunc(c.Key, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}); len(fields) > 0 {
		kc.Source, kc.RawKeys = sourceRaw, fields
	}
	if opts.KeySource, err = kc.keySource(); err != nil {
		// The raw source words its errors for the --key flag; the window has a Key field
		// instead. The messages never echo key digits, so they are safe to show and log.
		e := errcode.From(err)
		e.Info = strings.Replace(e.Info, "--key #", "Key field: key #", 1)
		return opts, 0, e
	}
	if opts.CIDSource, err = cidSource(g.settings.CIDCallbackURL, g.settings.CIDCallbackMethod, kc.Timeout); err != nil {
		return opts, 0, err
	}
	return opts, g.settings.Concurrency, nil
}

// RememberOutDir saves dir as the default destination for the next session. A settings file that
// could not be read is left alone, so the user's broken file is not replaced by defaults.
func (g *GUI) RememberOutDir(dir string) error {
	if g.settingsErr != nil || dir == g.settings.OutDir {
		return nil
	}
	s := g.settings
	s.OutDir = dir
	if err := settings.Save(s); err != nil {
		return err
	}
	g.settings = s
	return nil
}

// Close closes the log file.
func (g *GUI) Close() error {
	g.preview.stop()
	return g.Log.Close()
}
