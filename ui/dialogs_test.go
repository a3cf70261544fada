package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"drmpack/packager"
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

// TestFileOptionsTrimTheRowBeforePackaging: a row's File Options are validated as the CLI
// validates them, shown in the list, and applied to that row's job only.
func TestFileOptionsTrimTheRowBeforePackaging(t *testing.T) {
	w := newTestWindow(t)
	sample, _ := filepath.Abs(filepath.Join("..", "assets", "sample.mp4"))
	w.dropped(fyne.Position{}, fileURIs(sample))
	w.selectRow(w.rows[0])
	test.Tap(w.fileOptions)
	d := w.fileOptionsOpen
	if d == nil {
		t.Fatal("File Options did not open")
	}
	test.Type(d.trimming, "0-2,x-4")
	w.confirmFileOptions(d)
	if !strings.Contains(d.status.Text, "x-4") || w.rows[0].trim.Trimming != "" {
		t.Fatalf("bad range accepted; status %q", d.status.Text)
	}
	d.trimming.SetText("2-5")
	d.faststart.SetChecked(true)
	w.confirmFileOptions(d)
	if got := cellText(0, w.rows[0], colOptions); got != "multi-trim 2-5, header upfront" {
		t.Fatalf("Options cell %q", got)
	}
	w.outDir.SetText(t.TempDir())
	runPackaging(t, w)
	if w.rows[0].status != packager.Succeed || !strings.Contains(w.log.String(), "Trimmed to 2.000-5.000 s") {
		t.Fatalf("status %s; log:\n%s", w.rows[0].status, w.log)
	}
}

// TestClosingDuringARunAsksThenCancelsCleanly: the close box asks first; confirmed, the run is
// cancelled and leaves no staging folder or half-written title behind.
func TestClosingDuringARunAsksThenCancelsCleanly(t *testing.T) {
	w := newTestWindow(t)
	sample, _ := filepath.Abs(filepath.Join("..", "assets", "sample.mp4"))
	dir := t.TempDir()
	var inputs []string
	for i := range 6 {
		p := filepath.Join(dir, fmt.Sprintf("copy %d.mp4", i))
		b, _ := os.ReadFile(sample)
		os.WriteFile(p, b, 0o644)
		inputs = append(inputs, p)
	}
	w.dropped(fyne.Position{}, fileURIs(inputs...))
	out := t.TempDir()
	w.outDir.SetText(out)
	done := make(chan struct{})
	w.onRunFinished = func() { close(done) }
	test.Tap(w.packageButton)
	w.closeRequested()
	if w.closeAfterRun {
		t.Fatal("closing during a run did not ask first")
	}
	w.closeConfirmed(true)
	pumpUntil(t, w, done)
	if !strings.Contains(w.log.String(), "Closing: cancelling the running packaging first") {
		t.Fatalf("log:\n%s", w.log)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".drmpack-") {
			t.Fatalf("staging folder %s left behind", e.Name())
		}
		if _, err := os.Stat(filepath.Join(out, e.Name(), "packaging.json")); err != nil {
			t.Fatalf("%s is incomplete", e.Name())
		}
	}
	if len(entries) == len(inputs) {
		t.Fatal("every file finished: the cancel was not exercised")
	}
}

// TestAThousandFiles: a folder of 1,000 files enters the list at once, and a run of all of them
// reaches Succeed with the window in a consistent state.
func TestAThousandFiles(t *testing.T) {
	w := newTestWindow(t)
	dir := t.TempDir()
	for i := range 1000 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc %04d.txt", i)), []byte(fmt.Sprint("file ", i)), 0o644)
	}
	test.Tap(w.drmDASH) // NCG alone: any file, and fast
	test.Tap(w.drmNCG)
	w.dropped(fyne.Position{}, fileURIs(dir))
	if len(w.rows) != 1000 || cellText(999, w.rows[999], colName) != "doc 0999.txt" {
		t.Fatalf("%d rows, want 1000 in name order", len(w.rows))
	}
	out := t.TempDir()
	w.outDir.SetText(out)
	test.Type(w.key, testRawKey)
	runPackaging(t, w)
	for i, r := range w.rows {
		if r.status != packager.Succeed {
			t.Fatalf("row %d: %s", i+1, r.status)
		}
	}
	if w.progressLabel.Text != "Done: 1000 succeeded, 0 failed" {
		t.Fatalf("label %q", w.progressLabel.Text)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2000 { // 1,000 .ncg files + 1,000 title folders
		t.Fatalf("%d entries in the output folder", len(entries))
	}
}

// TestAdaptiveStreamingGroupsRowsByTitle: with Adaptive-Streaming, rows whose titles match (the
// default strips rendition suffixes; File Options can set one) become one adaptive title; all
// its rows end Succeed together and the title holds one master playlist.
func TestAdaptiveStreamingGroupsRowsByTitle(t *testing.T) {
	w := newTestWindow(t)
	sample, _ := filepath.Abs(filepath.Join("..", "assets", "sample.mp4"))
	b, _ := os.ReadFile(sample)
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"film_720p.mp4", "film_360p.mp4", "other.mp4"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, b, 0o644)
		files = append(files, p)
	}
	test.Tap(w.drmHLS)
	test.Tap(w.adaptive)
	w.dropped(fyne.Position{}, fileURIs(files...))
	if got := listText(w); !strings.Contains(got, "|film|") || !strings.Contains(got, "|other|") {
		t.Fatalf("Title column:\n%s", got)
	}
	// File Options can move a row into another title.
	w.selectRow(w.rows[2])
	test.Tap(w.fileOptions)
	w.fileOptionsOpen.title.SetText("film")
	w.confirmFileOptions(w.fileOptionsOpen)
	out := t.TempDir()
	w.outDir.SetText(out)
	runPackaging(t, w)
	for _, r := range w.rows {
		if r.status != packager.Succeed {
			t.Fatalf("%s: %s; log:\n%s", r.path, r.status, w.log)
		}
	}
	if w.progressLabel.Text != "Done: 1 succeeded, 0 failed" {
		t.Fatalf("label %q (want one title job)", w.progressLabel.Text)
	}
	for _, p := range []string{"film/dash/stream.mpd", "film/hls/index.m3u8"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Fatal(err)
		}
	}
}
