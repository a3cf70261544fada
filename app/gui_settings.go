package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"

	"drmpack/settings"
)

// settingsForm lists the window's Setting dialog: the manual's Site ID, Packager Key and, under
// Advanced, where keys and content IDs come from and the packaging defaults.
var settingsForm = []settings.Field{
	{Name: "site-id", Label: "Site ID", Help: "the key service's site ID"},
	{Name: "packager-key", Label: "Packager Key", Help: "kept in the OS keychain, never shown again", Secret: true},
	{Name: "key-source", Label: "Key source", Choices: keySources, Advanced: true,
		Help: "local: the embedded key store; pallycon: the key service (Site ID + Packager Key); cpix: a CPIX server"},
	{Name: "kms-url", Label: "KMS URL", Help: "key service endpoint override, or the CPIX server URL", Advanced: true},
	{Name: "kms-header", Label: "KMS header", Help: "Name: value sent to a CPIX server (kept in the keychain)", Secret: true, Advanced: true},
	{Name: "cid-callback-url", Label: "CID callback URL", Help: "asked for each file's content ID (empty: the file name)", Advanced: true},
	{Name: "cid-callback-method", Label: "CID callback method", Choices: []string{"GET", "POST"}, Advanced: true},
	{Name: "playready-la-url", Label: "Licence URL", Help: "PlayReady LA_URL written into the header", Advanced: true},
	{Name: "scheme", Label: "Encryption scheme", Choices: []string{"cenc", "cbcs"}, Advanced: true},
	{Name: "segment-duration", Label: "Segment duration (s)", Advanced: true},
	{Name: "concurrency", Label: "Files at once", Advanced: true},
}

// SettingsFields returns the Setting dialog's fields with their current values.
func (g *GUI) SettingsFields() []settings.Field {
	out := make([]settings.Field, len(settingsForm))
	for i, f := range settingsForm {
		entry := settingNames[f.Name]
		if f.Secret {
			v, _ := settings.Secret(entry.secret)
			f.IsSet = v != ""
			f.Help += "; stored in " + settings.SecretBackend()
		} else {
			f.Value = entry.get(&g.settings)
		}
		out[i] = f
	}
	return out
}

// SaveSettings validates and saves the dialog's values, as `drmpack settings set` would. An empty
// secret field leaves the stored secret as it is. Nothing is saved when any value is invalid.
func (g *GUI) SaveSettings(values map[string]string) error {
	s := g.settings
	var errs []error
	secrets := map[string]string{}
	for _, f := range settingsForm {
		v, ok := values[f.Name]
		if !ok {
			continue
		}
		entry := settingNames[f.Name]
		if f.Secret {
			if v != "" {
				secrets[entry.secret] = v
			}
			continue
		}
		if err := entry.set(&s, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", f.Label, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for name, v := range secrets {
		if err := settings.SetSecret(name, v); err != nil {
			return err
		}
	}
	if err := settings.Save(s); err != nil {
		return err
	}
	g.settings, g.settingsErr = settings.Load()
	return g.settingsErr
}

// directLicences names the licences of drmpack's direct dependencies (from their LICENSE files).
var directLicences = []struct{ module, licence string }{
	{"fyne.io/fyne/v2", "BSD-3-Clause"},
	{"github.com/Eyevinn/mp4ff", "MIT"},
	{"go.etcd.io/bbolt", "MIT"},
	{"github.com/zalando/go-keyring", "MIT"},
	{"gopkg.in/natefinch/lumberjack.v2", "MIT"},
	{"golang.org/x/image", "BSD-3-Clause"},
}

// About is the About dialog's text: version, where the files live, the NCG statement, licences.
func (g *GUI) About() string {
	var b strings.Builder
	fmt.Fprintf(&b, "drmpack %s — multi-DRM packaging workstation (DASH-CENC with Widevine and PlayReady, HLS, NCG)\n\n", version())
	config, _ := settings.ConfigDir()
	logs, _ := settings.LogDir()
	fmt.Fprintf(&b, "Settings: %s\nKey store: %s\nSecrets: %s\nLog file: %s\n\n",
		filepath.Join(config, "settings.json"), filepath.Join(config, "keystore.db"), settings.SecretBackend(), filepath.Join(logs, "drmpack.log"))
	b.WriteString("NCG: the vendor's NCG byte format is proprietary and not public. drmpack's NCG output is its own " +
		"documented whole-file container (docs/ncg-format.md), not the vendor's format, and does not play in the vendor's players.\n\n")
	b.WriteString("Licences of the libraries drmpack is built with:\n")
	for _, d := range directLicences {
		fmt.Fprintf(&b, "  %s — %s\n", d.module, d.licence)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(&b, "and %d modules they use (see go.sum); Go %s (BSD-3-Clause).\n", len(bi.Deps), bi.GoVersion)
	}
	return b.String()
}
