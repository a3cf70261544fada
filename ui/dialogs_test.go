package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"drmpack/settings"
)

func TestSettingDialogSavesSettingsAndKeepsThePackagerKeySecret(t *testing.T) {
	w := newTestWindow(t)
	test.Tap(w.settingsButton)
	d := w.settingsOpen
	if d == nil {
		t.Fatal("Setting did not open the dialog")
	}
	const pk = "packager-key-from-the-dialog-0123456789"
	test.Type(d.widgets["site-id"].(*widget.Entry), "DEMO")
	test.Type(d.widgets["packager-key"].(*widget.Entry), pk)
	d.widgets["key-source"].(*widget.Select).SetSelected("pallycon")
	seg := d.widgets["segment-duration"].(*widget.Entry)
	seg.SetText("abc")
	w.confirmSettings(d)
	if !strings.Contains(d.status.Text, "Segment duration") {
		t.Fatalf("invalid duration accepted; status %q", d.status.Text)
	}
	if s, _ := settings.Load(); s.SiteID != "" {
		t.Fatal("a refused form saved some of its values")
	}
	seg.SetText("4")
	w.confirmSettings(d)
	if d.status.Text != "" && !strings.Contains(w.log.String(), "Settings saved") {
		t.Fatalf("valid form refused: %q", d.status.Text)
	}
	s, err := settings.Load()
	if err != nil || s.SiteID != "DEMO" || s.KeySource != "pallycon" || s.SegmentDuration != 4 {
		t.Fatalf("saved %+v, %v", s, err)
	}
	if v, _ := settings.Secret(settings.SecretPackagerKey); v != pk {
		t.Fatal("the Packager Key was not stored as a secret")
	}
	b, _ := os.ReadFile(filepath.Join(os.Getenv("DRMPACK_CONFIG_DIR"), "settings.json"))
	if strings.Contains(string(b), pk) || strings.Contains(w.log.String(), pk) {
		t.Fatal("the Packager Key reached settings.json or the log view")
	}
	// Reopened, the dialog shows the key as stored, never its value.
	test.Tap(w.settingsButton)
	e := w.settingsOpen.widgets["packager-key"].(*widget.Entry)
	if e.Text != "" || !strings.Contains(e.PlaceHolder, "stored") {
		t.Fatalf("reopened Packager Key field: text %q placeholder %q", e.Text, e.PlaceHolder)
	}
	if got := w.settingsOpen.widgets["site-id"].(*widget.Entry).Text; got != "DEMO" {
		t.Fatalf("reopened Site ID %q", got)
	}
}

func TestAboutNamesTheNCGContainerAndTheFiles(t *testing.T) {
	w := newTestWindow(t)
	text := w.deps.About()
	for _, want := range []string{"not the vendor's format", "settings.json", "drmpack.log", "keystore.db", "github.com/Eyevinn/mp4ff — MIT"} {
		if !strings.Contains(text, want) {
			t.Errorf("About lacks %q:\n%s", want, text)
		}
	}
	test.Tap(w.about) // opens without panicking
}
