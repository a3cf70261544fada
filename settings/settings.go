// Package settings loads and saves the user's packaging defaults and knows where the app keeps its
// configuration and log files on each operating system.
package settings

import (
	"drmpack/internal/atomicfile"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Settings are the defaults the GUI edits and the CLI starts from; flags override them.
type Settings struct {
	OutDir string   `json:"outDir,omitempty"`
	DRM    []string `json:"drm,omitempty"` // default output types
	// Key source: local (default), pallycon, cpix or raw; the secrets that go with them (Packager
	// Key, enc-token, KMS header) are kept by Secret/SetSecret, never in this file.
	KeySource         string  `json:"keySource,omitempty"`
	SiteID            string  `json:"siteId,omitempty"`
	KMSURL            string  `json:"kmsUrl,omitempty"`
	KMSTimeout        float64 `json:"kmsTimeout,omitempty"` // seconds per attempt
	CIDCallbackURL    string  `json:"cidCallbackUrl,omitempty"`
	CIDCallbackMethod string  `json:"cidCallbackMethod,omitempty"` // GET or POST
	SegmentDuration   float64 `json:"segmentDuration,omitempty"`   // seconds
	Scheme            string  `json:"scheme,omitempty"`            // cenc | cbcs
	PlayReadyLAURL    string  `json:"playReadyLaUrl,omitempty"`
	WidevineProvider  string  `json:"widevineProvider,omitempty"`
	Concurrency       int     `json:"concurrency,omitempty"`
}

// Defaults are the values used where the settings file is silent.
func Defaults() Settings {
	return Settings{SegmentDuration: 6, Scheme: "cenc", WidevineProvider: "drmpack", Concurrency: 1}
}

// withDefaults fills the zero fields of s from Defaults.
func (s Settings) withDefaults() Settings {
	d := Defaults()
	if s.SegmentDuration <= 0 {
		s.SegmentDuration = d.SegmentDuration
	}
	if s.Scheme == "" {
		s.Scheme = d.Scheme
	}
	if s.WidevineProvider == "" {
		s.WidevineProvider = d.WidevineProvider
	}
	if s.Concurrency <= 0 {
		s.Concurrency = d.Concurrency
	}
	return s
}

// ConfigDir is drmpack's folder in the user's configuration directory; DRMPACK_CONFIG_DIR
// overrides it (tests, portable installs).
func ConfigDir() (string, error) {
	if d := os.Getenv("DRMPACK_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "drmpack"), nil
}

// LogDir is where the rotating log file lives: ~/Library/Logs/drmpack on macOS,
// %LocalAppData%\drmpack\logs on Windows, $XDG_STATE_HOME/drmpack (~/.local/state/drmpack) elsewhere.
// DRMPACK_LOG_DIR overrides it.
func LogDir() (string, error) {
	if d := os.Getenv("DRMPACK_LOG_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Logs", "drmpack"), nil
	case "windows":
		if la := os.Getenv("LOCALAPPDATA"); la != "" {
			return filepath.Join(la, "drmpack", "logs"), nil
		}
		return filepath.Join(home, "AppData", "Local", "drmpack", "logs"), nil
	}
	if st := os.Getenv("XDG_STATE_HOME"); st != "" {
		return filepath.Join(st, "drmpack"), nil
	}
	return filepath.Join(home, ".local", "state", "drmpack"), nil
}

func path() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "settings.json"), nil
}

// Load reads the settings file; a missing file gives the defaults.
func Load() (Settings, error) {
	p, err := path()
	if err != nil {
		return Defaults(), err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Defaults(), nil
	}
	if err != nil {
		return Defaults(), err
	}
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return Defaults(), err
	}
	return s.withDefaults(), nil
}

// Save writes the settings file atomically (a crash never leaves half a file).
func Save(s Settings) error {
	p, err := path()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(p, append(b, '\n'), 0o600)
}

// Field is one entry of a settings form (the window's Setting dialog): what it edits, how it is
// labelled, and its current value. Secret fields never carry their value: Value is empty and
// IsSet says whether one is stored.
type Field struct {
	Name     string // the `drmpack settings` name, e.g. "site-id"
	Label    string
	Help     string
	Value    string
	Secret   bool
	IsSet    bool
	Choices  []string // a closed list (a select), when not empty
	Advanced bool     // shown in the dialog's Advanced part
}
