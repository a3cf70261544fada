package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"drmpack/app"
	"drmpack/packager"
	"drmpack/settings"
)

// The PlayReady header spec's public test vector, as the app's CLI tests use it.
const (
	testKey    = "3a54452ba2d2cad16bd879cdd47ab05b"
	testRawKey = "6bac8ec30ee3379f3d21290b3a2bc9c3:" + testKey
)

// newTestWindow opens the main window in a headless test app, wired to the real app layer as
// main.go wires it, with settings, secrets and log file in temporary folders.
func newTestWindow(t *testing.T) *MainWindow {
	t.Helper()
	t.Setenv("DRMPACK_CONFIG_DIR", t.TempDir())
	t.Setenv("DRMPACK_LOG_DIR", t.TempDir())
	t.Setenv("DRMPACK_SECRETS", "file") // never the developer's keychain
	a := test.NewTempApp(t)
	session := app.OpenGUI()
	loop := &uiLoop{wake: make(chan struct{}, 1)}
	t.Cleanup(func() { session.Close() })
	w := NewMainWindow(a, Deps{
		Options: func(c Choices) (packager.Options, int, error) {
			return session.Options(app.GUIChoices{OutDir: c.OutDir, DRM: c.DRM, Key: c.Key, MultiKey: c.MultiKey})
		},
		LogLine:        session.Log.Line,
		OutDir:         session.Settings().OutDir,
		RememberOutDir: session.RememberOutDir,
		Warnings:       session.Warnings,
		SettingsFields: session.SettingsFields,
		SaveSettings:   session.SaveSettings,
		About:          session.About,
		Do:             loop.do,
	})
	uiLoops.Store(w, loop)
	t.Cleanup(func() {
		// A test may have closed the window itself (closing during a run); closing twice panics.
		if slices.Contains(a.Driver().AllWindows(), w.Window) {
			w.Window.Close()
		}
	})
	return w
}

// touch creates empty files in a new temporary folder and returns their paths.
func touch(t *testing.T, names ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func fileURIs(paths ...string) []fyne.URI {
	var uris []fyne.URI
	for _, p := range paths {
		uris = append(uris, storage.NewFileURI(p))
	}
	return uris
}

// listText renders the file list as the table shows it, one "Idx|File Name|Status|Title|Options|File Path"
// line per row.
func listText(w *MainWindow) string {
	var lines []string
	for i, r := range w.rows {
		var cells []string
		for c := range fileColumns {
			if c == colTitle && !w.adaptive.Checked {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, cellText(i, r, c))
		}
		lines = append(lines, strings.Join(cells, "|"))
	}
	return strings.Join(lines, "\n")
}

// uiLoop stands in for the real driver's event loop, which the test driver does not have (it
// runs fyne.Do at once on the caller's goroutine, so the queue's goroutines would redraw widgets
// concurrently). Functions given to do wait, in order, until the test goroutine, playing the UI
// goroutine, pumps them.
type uiLoop struct {
	mu      sync.Mutex
	pending []func()
	wake    chan struct{}
}

// uiLoops finds a test window's loop.
var uiLoops sync.Map // *MainWindow → *uiLoop

func (l *uiLoop) do(f func()) {
	l.mu.Lock()
	l.pending = append(l.pending, f)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// runPending runs what is scheduled, including what that schedules in turn.
func (l *uiLoop) runPending() {
	for {
		l.mu.Lock()
		if len(l.pending) == 0 {
			l.mu.Unlock()
			return
		}
		f := l.pending[0]
		l.pending = l.pending[1:]
		l.mu.Unlock()
		f()
	}
}

// pumpUntil plays the UI goroutine until done is closed, then runs what is still scheduled (a
// final log redraw).
func pumpUntil(t *testing.T, w *MainWindow, done <-chan struct{}) {
	t.Helper()
	v, _ := uiLoops.Load(w)
	l := v.(*uiLoop)
	deadline := time.After(3 * time.Minute)
	for {
		l.runPending()
		select {
		case <-done:
			l.runPending()
			return
		case <-l.wake:
		case <-deadline:
			t.Fatalf("packaging did not finish; log:\n%s", w.log)
		}
	}
}

// runPackaging presses DRM Packaging and plays the UI goroutine until the run ends.
func runPackaging(t *testing.T, w *MainWindow) {
	t.Helper()
	done := make(chan struct{})
	w.onRunFinished = func() { close(done) }
	test.Tap(w.packageButton)
	pumpUntil(t, w, done)
}

func TestDropAddsMediaFiles(t *testing.T) {
	w := newTestWindow(t)
	if !w.removeAll.Disabled() || !w.packageButton.Disabled() {
		t.Fatal("Remove All and DRM Packaging should be disabled with an empty list")
	}
	paths := touch(t, "movie one.mp4", "한글 노래.MP3", "audio.m4a")
	w.dropped(fyne.NewPos(10, 10), fileURIs(paths...))

	want := strings.Join([]string{
		"1|movie one.mp4|Ready|||" + paths[0],
		"2|한글 노래.MP3|Ready|||" + paths[1],
		"3|audio.m4a|Ready|||" + paths[2],
	}, "\n")
	if got := listText(w); got != want {
		t.Fatalf("list:\n%s\nwant:\n%s", got, want)
	}
	if w.removeAll.Disabled() || w.packageButton.Disabled() {
		t.Fatal("Remove All and DRM Packaging should be enabled once files are listed")
	}
	if got := w.progressLabel.Text; got != "3 files: 3 Ready" {
		t.Fatalf("progress label %q", got)
	}

	// The same file again is refused, not listed twice.
	w.dropped(fyne.Position{}, fileURIs(paths[0]))
	if len(w.rows) != 3 || !strings.Contains(w.log.String(), "Already in the list: "+paths[0]) {
		t.Fatalf("duplicate: %d rows, log:\n%s", len(w.rows), w.log)
	}
}

func TestRefusesFilesDASHCannotPackage(t *testing.T) {
	w := newTestWindow(t)
	paths := touch(t, "notes.txt")
	w.dropped(fyne.Position{}, fileURIs(paths...))
	if len(w.rows) != 0 {
		t.Fatalf("a .txt was listed:\n%s", listText(w))
	}
	if log := w.log.String(); !strings.Contains(log, "Refused notes.txt: DASH packages only MP4, M4A and MP3 files") {
		t.Fatalf("no visible reason in the log view:\n%s", log)
	}

	missing := filepath.Join(t.TempDir(), "gone.mp4")
	w.dropped(fyne.Position{}, fileURIs(missing))
	if len(w.rows) != 0 || !strings.Contains(w.log.String(), "Refused "+missing) {
		t.Fatalf("a missing file was not refused visibly:\n%s", w.log)
	}
}

func TestDroppedFolderAddsItsMediaFiles(t *testing.T) {
	w := newTestWindow(t)
	paths := touch(t, "b.mp4", "a.mp3", "cover.jpg")
	if err := os.Mkdir(filepath.Join(filepath.Dir(paths[0]), "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.dropped(fyne.Position{}, fileURIs(filepath.Dir(paths[0])))
	want := "1|a.mp3|Ready|||" + paths[1] + "\n2|b.mp4|Ready|||" + paths[0]
	if got := listText(w); got != want {
		t.Fatalf("list:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(w.log.String(), "skipped 1 that are not MP4, M4A or MP3") {
		t.Fatalf("skipped file not reported:\n%s", w.log)
	}
}

func TestRemoveFileRemoveAllRemoveSuccessful(t *testing.T) {
	w := newTestWindow(t)
	paths := touch(t, "1.mp4", "2.mp4", "3.mp4", "4.mp4")
	w.dropped(fyne.Position{}, fileURIs(paths...))
	w.rows[0].status = packager.Succeed
	w.rows[2].status = packager.Succeed
	w.rows[3].status = packager.Failed
	w.updateControls()

	test.Tap(w.removeSuccessful)
	want := "1|2.mp4|Ready|||" + paths[1] + "\n2|4.mp4|Failed|||" + paths[3]
	if got := listText(w); got != want {
		t.Fatalf("after Remove Successful File:\n%s\nwant:\n%s", got, want)
	}
	if !w.removeSuccessful.Disabled() {
		t.Fatal("Remove Successful File stays enabled with no Succeed row")
	}

	if !w.removeFile.Disabled() {
		t.Fatal("Remove File is enabled with nothing selected")
	}
	w.files.table.Select(widget.TableCellID{Row: 1, Col: colName})
	test.Tap(w.removeFile)
	if got := listText(w); got != "1|2.mp4|Ready|||"+paths[1] {
		t.Fatalf("after Remove File on row 2:\n%s", got)
	}
	if !w.removeFile.Disabled() {
		t.Fatal("Remove File stays enabled after its row is gone")
	}

	test.Tap(w.removeAll)
	if len(w.rows) != 0 || !w.removeAll.Disabled() {
		t.Fatalf("after Remove All: %d rows", len(w.rows))
	}
}

// TestNCGDASHAndHLSInOneRun ticks all three DRM types, packages the sample with the local key
// store (no key typed), and then protects a non-media file with NCG alone.
func TestNCGDASHAndHLSInOneRun(t *testing.T) {
	w := newTestWindow(t)
	sample, err := filepath.Abs(filepath.Join("..", "assets", "sample.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	test.Tap(w.drmNCG)
	test.Tap(w.drmHLS)
	if !w.drmNCG.Checked || !w.drmDASH.Checked || !w.drmHLS.Checked {
		t.Fatal("the three DRM types cannot all be checked")
	}
	w.dropped(fyne.Position{}, fileURIs(sample))
	out := t.TempDir()
	w.outDir.SetText(out)
	runPackaging(t, w)
	if w.rows[0].status != packager.Succeed {
		t.Fatalf("status %s; log:\n%s", w.rows[0].status, w.log)
	}
	for _, p := range []string{"sample/dash/stream.mpd", "sample/hls/index.m3u8", "sample/packaging.json", "sample.mp4.ncg"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Fatalf("output: %v", err)
		}
	}
	if !strings.Contains(w.log.String(), "NCG+DASH+HLS Packaging start (") {
		t.Fatalf("log:\n%s", w.log)
	}

	// NCG alone takes any file, which DASH would refuse.
	test.Tap(w.removeAll)
	test.Tap(w.drmDASH)
	test.Tap(w.drmHLS)
	doc := filepath.Join(t.TempDir(), "notes 한글.txt")
	os.WriteFile(doc, []byte("not media at all"), 0o644)
	w.dropped(fyne.Position{}, fileURIs(doc))
	if len(w.rows) != 1 {
		t.Fatalf("NCG alone refused a text file; log:\n%s", w.log)
	}
	runPackaging(t, w)
	if w.rows[0].status != packager.Succeed {
		t.Fatalf("status %s; log:\n%s", w.rows[0].status, w.log)
	}
	if _, err := os.Stat(filepath.Join(out, "notes 한글.txt.ncg")); err != nil {
		t.Fatal(err)
	}
}

func TestStatusColours(t *testing.T) {
	want := map[packager.Status]fyne.ThemeColorName{
		packager.Ready:   theme.ColorNamePlaceHolder,
		packager.Waiting: theme.ColorNamePrimary,
		packager.Start:   theme.ColorNamePrimary,
		packager.Succeed: theme.ColorNameSuccess,
		packager.Failed:  theme.ColorNameError,
	}
	for s, c := range want {
		if got := statusColor(s); got != c {
			t.Errorf("%s: colour %s, want %s", s, got, c)
		}
	}
}

func TestPackagingNeedsDestinationAndAWellFormedKey(t *testing.T) {
	w := newTestWindow(t)
	w.dropped(fyne.Position{}, fileURIs(touch(t, "a.mp4")...))

	test.Tap(w.packageButton)
	if w.run != nil || !strings.Contains(w.log.String(), "DRM Packaging not started: 1102: choose a Destination Folder") {
		t.Fatalf("started without a destination; log:\n%s", w.log)
	}
	w.outDir.SetText(t.TempDir())
	test.Type(w.key, "1234:5678")
	test.Tap(w.packageButton)
	if w.run != nil || !strings.Contains(w.log.String(), "Key field: key #1: KID must be 32 hex digits") {
		t.Fatalf("started with a malformed key; log:\n%s", w.log)
	}
	if w.rows[0].status != packager.Ready {
		t.Fatalf("status %s after refused starts", w.rows[0].status)
	}
}

// TestPackagesSampleThroughTheQueue is a real run: the bundled sample is packaged into DASH-CENC
// by the engine behind the window, and the list, progress, log view and log file show it.
func TestPackagesSampleThroughTheQueue(t *testing.T) {
	w := newTestWindow(t)
	sample, err := filepath.Abs(filepath.Join("..", "assets", "sample.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	w.dropped(fyne.Position{}, fileURIs(sample))
	out := t.TempDir()
	w.outDir.SetText(out)
	test.Type(w.key, testRawKey)

	runPackaging(t, w)

	if got, want := listText(w), "1|sample.mp4|Succeed|||"+sample; got != want {
		t.Fatalf("list %q, want %q; log:\n%s", got, want, w.log)
	}
	cell := w.files.table.CreateCell()
	w.files.table.UpdateCell(widget.TableCellID{Row: 0, Col: colStatus}, cell)
	if seg := cell.(*widget.RichText).Segments[0].(*widget.TextSegment); seg.Text != "Succeed" || seg.Style.ColorName != theme.ColorNameSuccess {
		t.Fatalf("status cell shows %q in %s, want Succeed in green", seg.Text, seg.Style.ColorName)
	}
	log := w.log.String()
	for _, s := range []string{"DASH Packaging start (", "Parsing media file sample.mp4", "Succeed packaging sample.mp4",
		"DRM Packaging finished: 1 succeeded, 0 failed (of 1)"} {
		if !strings.Contains(log, s) {
			t.Fatalf("log view lacks %q:\n%s", s, log)
		}
	}
	if w.progress.Value != 1 || w.progressLabel.Text != "Done: 1 succeeded, 0 failed" {
		t.Fatalf("progress %.2f, label %q", w.progress.Value, w.progressLabel.Text)
	}
	if w.run != nil || !w.cancel.Disabled() || !w.packageButton.Disabled() || w.removeSuccessful.Disabled() {
		t.Fatal("controls not back to idle after the run (nothing left to package, one Succeed row)")
	}
	for _, p := range []string{"dash/stream.mpd", "packaging.json"} {
		if _, err := os.Stat(filepath.Join(out, "sample", p)); err != nil {
			t.Fatalf("output: %v", err)
		}
	}

	logFile, err := os.ReadFile(filepath.Join(os.Getenv("DRMPACK_LOG_DIR"), app.LogName))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Succeed packaging sample.mp4", "[1/1] " + sample + ": Succeed"} {
		if !strings.Contains(string(logFile), s) {
			t.Fatalf("log file lacks %q:\n%s", s, logFile)
		}
	}
	if strings.Contains(string(logFile)+log, testKey) {
		t.Fatal("the content key appears in a log")
	}
	if s, err := settings.Load(); err != nil || s.OutDir != out {
		t.Fatalf("destination not remembered: %q, %v", s.OutDir, err)
	}
}

// TestFailedFileIsShownAndRetried: a file the engine cannot package turns red with the manual's
// XML block in the log, and the next press packages it again.
func TestFailedFileIsShownAndRetried(t *testing.T) {
	w := newTestWindow(t)
	bogus := filepath.Join(t.TempDir(), "not really.mp4")
	if err := os.WriteFile(bogus, []byte("this is text, not an MP4 file"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.dropped(fyne.Position{}, fileURIs(bogus))
	w.outDir.SetText(t.TempDir())
	test.Type(w.key, testRawKey)

	runPackaging(t, w)
	if w.rows[0].status != packager.Failed {
		t.Fatalf("status %s; log:\n%s", w.rows[0].status, w.log)
	}
	log := w.log.String()
	for _, s := range []string{"Failed file : " + bogus, "<PallyconPackager>", "<RESULT>", "</STACKTRACE>"} {
		if !strings.Contains(log, s) {
			t.Fatalf("log view lacks %q:\n%s", s, log)
		}
	}
	if w.packageButton.Disabled() {
		t.Fatal("DRM Packaging should stay available to retry a Failed file")
	}
	runPackaging(t, w)
	if n := strings.Count(w.log.String(), "Failed file : "+bogus); n != 2 {
		t.Fatalf("the failed file was packaged %d times, want 2", n)
	}
}

// TestFileDialogsOpen taps the three buttons that open file dialogs. Sizing a Fyne file dialog
// before showing it panics, which only a real tap finds.
func TestFileDialogsOpen(t *testing.T) {
	w := newTestWindow(t)
	w.outDir.SetText(t.TempDir())
	w.dropped(fyne.Position{}, fileURIs(touch(t, "a.mp4")...)) // so the dialogs start in its folder
	overlays := w.Window.Canvas().Overlays()
	for _, b := range []*widget.Button{w.addFile, w.addFolder, w.browse} {
		test.Tap(b)
		top := overlays.Top()
		if top == nil {
			t.Fatalf("%s opened no dialog", b.Text)
		}
		sized := false
		for _, o := range test.LaidOutObjects(top) {
			sized = sized || o.Size() == dialogSize
		}
		if !sized {
			t.Fatalf("%s: no part of the dialog is %v; it opened at its minimum size", b.Text, dialogSize)
		}
		overlays.Remove(top)
	}
}
