// Package ui is drmpack's Fyne window: the packager manual's main screen (file list, destination,
// DRM types, packaging with progress, log view). It drives the engine only through
// packager.Queue and its events, and gets everything else (job options, the log file, saved
// settings) from Deps, so it runs headless in tests with fyne.io/fyne/v2/test.
package ui

import (
	"net/url"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"drmpack/packager"
	"drmpack/settings"
)

// Choices are what the window decides for one packaging run.
type Choices struct {
	OutDir string
	DRM    []string // checked output types, as packager names them ("dash")
	Key    string   // the Key field as typed
	// MultiKey asks for a key per track type (AUDIO, SD, HD, UHD1, UHD2) for adaptive titles.
	MultiKey bool
}

// Deps is what the window needs from the rest of the application. Only Options is required.
type Deps struct {
	// Options turns the window's choices into job options and the number of jobs run at once.
	// Its error is shown in the log view and the run does not start.
	Options func(Choices) (packager.Options, int, error)
	// LogLine receives every line the log view shows, plus status changes, for the log file.
	LogLine func(string)
	// OutDir is the destination folder shown at start (the saved default).
	OutDir string
	// RememberOutDir saves the destination of a started run as the next session's default.
	RememberOutDir func(string) error
	// Warnings are problems found while starting up, shown first in the log view.
	Warnings []string
	// SettingsFields and SaveSettings back the Setting dialog (both nil: no Setting button).
	// SaveSettings validates all values and saves none when one is wrong.
	SettingsFields func() []settings.Field
	SaveSettings   func(map[string]string) error
	// About is the About dialog's text.
	About func() string
	// Preview serves a destination folder (the origin server, started once) and returns the
	// URL of its preview page, which the window opens in the browser. Nil: no Preview button.
	Preview func(outDir string) (string, error)
	// Do runs f on the UI goroutine later, in call order. Nil means fyne.Do. Tests give one of
	// their own: the test driver runs fyne.Do at once on the calling goroutine, so the queue's
	// goroutines would redraw widgets concurrently with each other and with the test.
	Do func(f func())
}

// MainWindow is the packaging workstation's main window.
type MainWindow struct {
	Window fyne.Window
	deps   Deps

	outDir *widget.Entry
	browse *widget.Button

	settingsButton, about *widget.Button
	settingsOpen          *settingsDialog // the Setting dialog last opened

	addFile, addFolder                      *widget.Button
	removeFile, removeAll, removeSuccessful *widget.Button
	fileOptions                             *widget.Button
	fileOptionsOpen                         *fileOptionsDialog // the File Options dialog last opened

	drmNCG, drmDASH, drmHLS *widget.Check
	// adaptive groups the list's rows into titles by their Title column; multiKey asks for a key
	// per track type.
	adaptive, multiKey    *widget.Check
	key                   *widget.Entry
	packageButton, cancel *widget.Button
	preview               *widget.Button

	files    *fileTable
	progress *widget.ProgressBar
	// progressLabel says which file of the run is being packaged ("File 2 of 5").
	progressLabel *widget.Label

	log *logView

	rows     []*fileRow
	selected *fileRow // the row Remove File removes; nil when none
	run      *packagingRun
	// lastDir is where the Add File and Add Folder dialogs open: the folder of the last file added.
	lastDir string

	closeAfterRun bool // the user closed the window during a run

	// onRunFinished, when set (tests), is called on the UI goroutine after a run's last event.
	onRunFinished func()
}

// NewMainWindow builds the main window in a; show it with Window.ShowAndRun.
func NewMainWindow(a fyne.App, deps Deps) *MainWindow {
	if deps.Do == nil {
		deps.Do = fyne.Do
	}
	w := &MainWindow{Window: a.NewWindow("drmpack: DRM Packager"), deps: deps}
	w.build(a)
	for _, s := range deps.Warnings {
		w.logLine(s)
	}
	w.Window.SetContent(w.layout())
	w.Window.Resize(fyne.NewSize(1100, 760))
	w.Window.SetOnDropped(w.dropped)
	w.Window.SetCloseIntercept(w.closeRequested)
	w.updateControls()
	return w
}

func (w *MainWindow) build(a fyne.App) {
	w.outDir = widget.NewEntry()
	w.outDir.SetPlaceHolder("Folder that receives <title>/dash/…, <title>/hls/…, <name>.ncg")
	w.outDir.SetText(w.deps.OutDir)
	w.browse = widget.NewButtonWithIcon("Browse", theme.FolderOpenIcon(), w.browseOutDir)
	w.settingsButton = widget.NewButtonWithIcon("Setting", theme.SettingsIcon(), w.showSettings)
	if w.deps.SettingsFields == nil {
		w.settingsButton.Hide()
	}
	w.about = widget.NewButtonWithIcon("About", theme.HelpIcon(), w.showAbout)

	w.addFile = widget.NewButtonWithIcon("Add File", theme.FileIcon(), w.showAddFile)
	w.addFolder = widget.NewButtonWithIcon("Add Folder", theme.FolderIcon(), w.showAddFolder)
	w.removeFile = widget.NewButtonWithIcon("Remove File", theme.ContentRemoveIcon(), w.removeSelected)
	w.removeAll = widget.NewButtonWithIcon("Remove All", theme.DeleteIcon(), w.removeAllRows)
	w.removeSuccessful = widget.NewButtonWithIcon("Remove Successful File", theme.ConfirmIcon(), w.removeSucceededRows)
	w.fileOptions = widget.NewButtonWithIcon("File Options", theme.DocumentCreateIcon(), w.showFileOptions)

	// The manual's three DRM types, combinable. NCG is drmpack's own container (the About dialog
	// and the README say so): the vendor's NCG byte format is not public.
	w.drmNCG = widget.NewCheck("NCG (drmpack container)", func(bool) { w.updateControls() })
	w.drmDASH = widget.NewCheck("DASH", func(bool) { w.updateControls() })
	w.drmDASH.Checked = true
	w.drmHLS = widget.NewCheck("HLS", func(bool) { w.updateControls() })
	w.adaptive = widget.NewCheck("Adaptive-Streaming", func(bool) { w.files.refresh() })
	w.multiKey = widget.NewCheck("Multi-key", nil)

	w.key = widget.NewPasswordEntry()
	w.key.SetPlaceHolder("Optional KID:KEY (hex; [TYPE=] prefix, several allowed). Empty: the key source in Settings (local key store)")

	w.packageButton = widget.NewButtonWithIcon("DRM Packaging", theme.MediaPlayIcon(), w.startPackaging)
	w.packageButton.Importance = widget.HighImportance
	w.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), w.cancelRun)
	w.preview = widget.NewButtonWithIcon("Preview", theme.VisibilityIcon(), func() { w.openPreview(a) })
	if w.deps.Preview == nil {
		w.preview.Hide()
	}

	w.files = newFileTable(func() []*fileRow { return w.rows }, func() bool { return w.adaptive.Checked }, w.selectRow)
	w.progress = widget.NewProgressBar()
	w.progressLabel = widget.NewLabel("")
	w.progressLabel.Truncation = fyne.TextTruncateEllipsis
	w.log = newLogView(a.Clipboard(), w.deps.Do)
}

// layout arranges the manual's screen: destination and list buttons on top, the file list, the
// DRM choices with the packaging controls and progress under it, and the log view at the bottom
// behind a movable divider.
func (w *MainWindow) layout() fyne.CanvasObject {
	destination := container.NewBorder(nil, nil, boldLabel("Destination Folder"), w.browse, w.outDir)
	listButtons := container.NewBorder(nil, nil, container.NewHBox(w.addFile, w.addFolder, widget.NewSeparator(),
		w.removeFile, w.removeAll, w.removeSuccessful, widget.NewSeparator(), w.fileOptions), container.NewHBox(w.settingsButton, w.about))
	top := container.NewVBox(destination, listButtons)

	drmRow := container.NewHBox(boldLabel("DRM Type"), w.drmNCG, w.drmDASH, w.drmHLS, widget.NewSeparator(), w.adaptive, w.multiKey)
	keyRow := container.NewBorder(nil, nil, boldLabel("Key"), container.NewHBox(w.packageButton, w.cancel, w.preview), w.key)
	// The label gets a fixed width so the bar does not jump as its text changes.
	labelSize := widget.NewLabel("999 files: 99 Ready, 99 Succeed, 99 Failed").MinSize()
	progressRow := container.NewBorder(nil, nil,
		container.New(layout.NewGridWrapLayout(labelSize), w.progressLabel), nil, w.progress)
	controls := container.NewVBox(widget.NewSeparator(), drmRow, keyRow, progressRow)

	upper := container.NewBorder(top, controls, nil, nil, w.files.object())
	split := container.NewVSplit(upper, w.log.object())
	split.Offset = 0.62
	return split
}

func boldLabel(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// choices reads the window's current choices for a run.
func (w *MainWindow) choices() Choices {
	c := Choices{OutDir: w.outDir.Text, Key: w.key.Text, MultiKey: w.multiKey.Checked}
	for _, d := range []struct {
		check *widget.Check
		drm   string
	}{{w.drmNCG, packager.DRMNCG}, {w.drmDASH, packager.DRMDash}, {w.drmHLS, packager.DRMHLS}} {
		if d.check.Checked {
			c.DRM = append(c.DRM, d.drm)
		}
	}
	return c
}

// acceptsOnlyMedia reports whether a checked DRM type limits inputs to audio and video files:
// DASH and HLS do (the manual's rule), NCG takes any file.
func (w *MainWindow) acceptsOnlyMedia() bool {
	return w.drmDASH.Checked || w.drmHLS.Checked
}

// updateControls enables each control for what the list and the run allow now.
func (w *MainWindow) updateControls() {
	running := w.run != nil
	setEnabled(w.removeFile, w.selected != nil)
	setEnabled(w.fileOptions, w.selected != nil && !running)
	setEnabled(w.removeAll, len(w.rows) > 0)
	setEnabled(w.removeSuccessful, w.countStatus(packager.Succeed) > 0)
	setEnabled(w.packageButton, !running && len(w.packagableRows()) > 0)
	setEnabled(w.cancel, running)
	if !running {
		w.progressLabel.SetText(w.idleSummary())
	}
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// logLine shows one line (or multi-line block) in the log view and writes it to the log file.
// openPreview opens the browser on the preview page of the destination folder.
func (w *MainWindow) openPreview(a fyne.App) {
	link, err := w.deps.Preview(w.outDir.Text)
	if err == nil {
		var u *url.URL
		if u, err = url.Parse(link); err == nil {
			w.logLine("Preview: " + link)
			err = a.OpenURL(u)
		}
	}
	if err != nil {
		w.logLine("Preview failed: " + err.Error())
	}
}

func (w *MainWindow) logLine(s string) {
	w.log.append(s)
	if w.deps.LogLine != nil {
		w.deps.LogLine(s)
	}
}

// closeRequested closes the window. During a run it first asks; confirmed, it cancels the run
// and waits for its jobs to remove their partial output (finishRun then closes), so quitting
// never leaves half-written titles behind.
func (w *MainWindow) closeRequested() {
	if w.run == nil {
		w.Window.Close()
		return
	}
	dialog.ShowConfirm("Packaging is running", "Cancel the running packaging and close drmpack?\nFiles not yet finished leave no output.",
		w.closeConfirmed, w.Window)
}

// closeConfirmed is the answer to closeRequested's question.
func (w *MainWindow) closeConfirmed(yes bool) {
	if !yes || w.run == nil {
		if yes {
			w.Window.Close()
		}
		return
	}
	w.closeAfterRun = true
	w.logLine("Closing: cancelling the running packaging first")
	w.run.queue.CancelAll()
}

// isDir reports whether path is an existing folder.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
