package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// maxLogLines bounds the text the log view holds: Fyne's text renderer re-reads the whole text for
// every row on each update (cost grows with the square of the lines; profiled at ~20 ms per update
// for 1,000 lines), so the view keeps the most recent lines and the log file keeps everything.
const maxLogLines = 300

// logView shows the engine's log lines and XML error blocks in a disabled multi-line entry: Fyne's
// read-only text, which can still be selected and copied (drag, Ctrl+C, right-click Copy and
// Select all) but not edited. A selectable label would do too, but re-measures its text about
// three times slower, which shows during runs that log hundreds of lines.
type logView struct {
	clipboard fyne.Clipboard
	do        func(func()) // schedules on the UI goroutine (Deps.Do)
	entries   []string     // lines and multi-line blocks, each kept whole
	lineCount int          // text lines in entries
	trimmed   bool         // older entries were dropped from the view
	// flushQueued is set while a redraw of the text is queued on the UI goroutine; appends made
	// meanwhile ride along with it instead of each re-measuring the whole text.
	flushQueued bool

	text   *widget.Entry
	holder fyne.CanvasObject
}

func newLogView(clipboard fyne.Clipboard, do func(func())) *logView {
	v := &logView{clipboard: clipboard, do: do}
	v.text = widget.NewMultiLineEntry()
	v.text.TextStyle = fyne.TextStyle{Monospace: true}
	v.text.Disable()
	removeLogs := widget.NewButtonWithIcon("Remove Logs", theme.ContentClearIcon(), v.clear)
	copyLogs := widget.NewButtonWithIcon("Copy Logs", theme.ContentCopyIcon(), v.copyAll)
	header := container.NewBorder(nil, nil, boldLabel("Log"), container.NewHBox(copyLogs, removeLogs))
	v.holder = container.NewBorder(header, nil, nil, nil, container.NewThemeOverride(v.text, readableDisabledTheme{}))
	return v
}

// readableDisabledTheme draws disabled text in the normal text colour, so the read-only log is
// as legible as the rest of the window instead of greyed out.
type readableDisabledTheme struct{}

func (readableDisabledTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	base := fyne.CurrentApp().Settings().Theme()
	if n == theme.ColorNameDisabled {
		n = theme.ColorNameForeground
	}
	return base.Color(n, v)
}

func (readableDisabledTheme) Font(s fyne.TextStyle) fyne.Resource {
	return fyne.CurrentApp().Settings().Theme().Font(s)
}

func (readableDisabledTheme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return fyne.CurrentApp().Settings().Theme().Icon(n)
}

func (readableDisabledTheme) Size(n fyne.ThemeSizeName) float32 {
	return fyne.CurrentApp().Settings().Theme().Size(n)
}

func (v *logView) object() fyne.CanvasObject { return v.holder }

// append adds a line (or a multi-line block, kept whole) and scrolls to it. It runs on the UI
// goroutine; the text is redrawn once per batch of appends, because during a run hundreds of
// lines can arrive faster than the text can be re-measured for each.
func (v *logView) append(s string) {
	s = strings.TrimRight(s, "\n")
	v.entries = append(v.entries, s)
	v.lineCount += strings.Count(s, "\n") + 1
	drop := 0
	for v.lineCount > maxLogLines && drop < len(v.entries)-1 {
		v.lineCount -= strings.Count(v.entries[drop], "\n") + 1
		drop++
	}
	if drop > 0 {
		v.entries = append(v.entries[:0], v.entries[drop:]...)
		v.trimmed = true
	}
	if !v.flushQueued {
		v.flushQueued = true
		// Queued behind the events already waiting, so a burst is drawn once at its end.
		v.do(v.flush)
	}
}

func (v *logView) flush() {
	v.flushQueued = false
	text := v.String()
	if v.trimmed {
		text = "… earlier lines are in the log file\n" + text
	}
	v.text.SetText(text)
	// The entry scrolls to keep its (hidden, since disabled) cursor in view: putting it on the
	// last line follows the newest output.
	v.text.CursorRow, v.text.CursorColumn = strings.Count(text, "\n"), 0
	v.text.Refresh()
}

// String is the text of the entries the view holds.
func (v *logView) String() string { return strings.Join(v.entries, "\n") }

// clear is Remove Logs: it empties the view only; the log file keeps its lines.
func (v *logView) clear() {
	v.entries, v.lineCount, v.trimmed = nil, 0, false
	v.text.SetText("")
}

// copyAll puts the whole log on the clipboard, for pasting into a ticket.
func (v *logView) copyAll() {
	v.clipboard.SetContent(v.String())
}
