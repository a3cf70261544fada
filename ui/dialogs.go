package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"drmpack/packager"
	"drmpack/packager/transform"
)

// settingsDialog is the manual's Setting screen: Site ID, Packager Key (masked) and Confirm, with
// the key source, KMS, CID callback, licence URL and packaging defaults under Advanced.
type settingsDialog struct {
	dialog *dialog.CustomDialog
	// inputs reads each field's value as the user left it.
	inputs map[string]func() string
	// widgets are the form's inputs by field name, for tests.
	widgets map[string]fyne.CanvasObject
	status  *widget.Label
}

// showSettings opens the Setting dialog; Confirm saves through Deps.SaveSettings and closes it,
// or shows why the values were refused and stays open.
func (w *MainWindow) showSettings() {
	if w.deps.SettingsFields == nil || w.deps.SaveSettings == nil {
		return
	}
	d := &settingsDialog{inputs: map[string]func() string{}, widgets: map[string]fyne.CanvasObject{}}
	basic, advanced := widget.NewForm(), widget.NewForm()
	for _, f := range w.deps.SettingsFields() {
		var input fyne.CanvasObject
		switch {
		case f.Secret:
			e := widget.NewPasswordEntry()
			e.SetPlaceHolder("not set")
			if f.IsSet {
				e.SetPlaceHolder("stored (type to replace)")
			}
			input, d.inputs[f.Name] = e, func() string { return e.Text }
		case len(f.Choices) > 0:
			s := widget.NewSelect(f.Choices, nil)
			s.Selected = f.Value
			input, d.inputs[f.Name] = s, func() string { return s.Selected }
		default:
			e := widget.NewEntry()
			e.SetText(f.Value)
			input, d.inputs[f.Name] = e, func() string { return e.Text }
		}
		d.widgets[f.Name] = input
		item := widget.NewFormItem(f.Label, input)
		item.HintText = f.Help
		if f.Advanced {
			advanced.AppendItem(item)
		} else {
			basic.AppendItem(item)
		}
	}
	d.status = widget.NewLabel("")
	d.status.Wrapping = fyne.TextWrapWord
	d.status.Importance = widget.DangerImportance
	more := widget.NewAccordion(widget.NewAccordionItem("Advanced", advanced))
	confirm := widget.NewButton("Confirm", func() { w.confirmSettings(d) })
	confirm.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { d.dialog.Hide() })
	content := container.NewVBox(basic, more, d.status)
	d.dialog = dialog.NewCustomWithoutButtons("Setting", container.NewVScroll(content), w.Window)
	d.dialog.SetButtons([]fyne.CanvasObject{cancel, confirm})
	d.dialog.Resize(fyne.NewSize(640, 560))
	w.settingsOpen = d
	d.dialog.Show()
}

func (w *MainWindow) confirmSettings(d *settingsDialog) {
	values := map[string]string{}
	for name, read := range d.inputs {
		values[name] = read()
	}
	if err := w.deps.SaveSettings(values); err != nil {
		d.status.SetText("Not saved: " + err.Error())
		return
	}
	d.dialog.Hide()
	w.logLine("Settings saved")
}

// showAbout shows the version, where files live, the NCG statement and the licences.
func (w *MainWindow) showAbout() {
	text := "drmpack"
	if w.deps.About != nil {
		text = w.deps.About()
	}
	body := widget.NewLabel(text)
	body.Wrapping = fyne.TextWrapWord
	body.Selectable = true
	d := dialog.NewCustom("About drmpack", "Close", container.NewVScroll(body), w.Window)
	d.Resize(fyne.NewSize(640, 520))
	d.Show()
}

// fileOptionsDialog edits one row's media operations: the server manual's trimming,
// multi-trimming and header upfront, validated as the CLI validates --start/--end/--trimming.
type fileOptionsDialog struct {
	dialog                                *dialog.CustomDialog
	title, start, end, trimming, maxRatio *widget.Entry
	allTracks, faststart                  *widget.Check
	status                                *widget.Label
	row                                   *fileRow
}

func (w *MainWindow) showFileOptions() {
	row := w.selected
	if row == nil || w.run != nil {
		return
	}
	d := &fileOptionsDialog{row: row}
	entry := func(text, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(text)
		e.SetPlaceHolder(placeholder)
		return e
	}
	d.title = entry(row.title, packager.RenditionTitle(row.path)+" (Adaptive-Streaming groups rows by title)")
	d.start = entry(row.trim.Start, "seconds; empty: the file's start")
	d.end = entry(row.trim.End, "seconds; empty: the file's end")
	d.trimming = entry(row.trim.Trimming, "e.g. 0-30,210-270,525-555 (wins over start/end)")
	d.maxRatio = entry(row.trim.MaxRatio, "percent, default 50")
	d.allTracks = widget.NewCheck("Trim every track (not only audio and video)", nil)
	d.allTracks.Checked = row.trim.AllTracks
	d.faststart = widget.NewCheck("Header upfront (moov before mdat)", nil)
	d.faststart.Checked = row.faststart
	d.status = widget.NewLabel("")
	d.status.Wrapping = fyne.TextWrapWord
	d.status.Importance = widget.DangerImportance
	form := widget.NewForm(widget.NewFormItem("Title", d.title),
		widget.NewFormItem("Start", d.start), widget.NewFormItem("End", d.end),
		widget.NewFormItem("Multi-trimming", d.trimming), widget.NewFormItem("Max ratio", d.maxRatio))
	note := widget.NewLabel("Applied before DASH and HLS packaging; NCG protects the whole file as it is.")
	note.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(widget.NewLabel(filepath.Base(row.path)), form, d.allTracks, d.faststart, note, d.status)
	confirm := widget.NewButton("Confirm", func() { w.confirmFileOptions(d) })
	confirm.Importance = widget.HighImportance
	d.dialog = dialog.NewCustomWithoutButtons("File Options", content, w.Window)
	d.dialog.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", func() { d.dialog.Hide() }), confirm})
	d.dialog.Resize(fyne.NewSize(560, 420))
	w.fileOptionsOpen = d
	d.dialog.Show()
}

func (w *MainWindow) confirmFileOptions(d *fileOptionsDialog) {
	req := transform.Request{Start: strings.TrimSpace(d.start.Text), End: strings.TrimSpace(d.end.Text),
		Trimming: strings.TrimSpace(d.trimming.Text), MaxRatio: strings.TrimSpace(d.maxRatio.Text), AllTracks: d.allTracks.Checked}
	if _, err := req.Options(); err != nil {
		d.status.SetText(err.Error())
		return
	}
	d.row.trim, d.row.faststart, d.row.title = req, d.faststart.Checked, strings.TrimSpace(d.title.Text)
	d.dialog.Hide()
	w.files.refresh()
	if s := d.row.optionsSummary(); s != "" {
		w.logLine(fmt.Sprintf("File options of %s: %s", filepath.Base(d.row.path), s))
	}
}
