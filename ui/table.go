package ui

import (
	"path/filepath"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"drmpack/packager"
)

// fileColumns are the manual's file list columns. File Path has no fixed width: it takes what
// the window leaves, since paths are the longest and most variable text.
var fileColumns = []struct {
	title string
	width float32
}{
	{"Idx", 48},
	{"File Name", 260},
	{"Status", 90},
	{"Title", 140},
	{"Options", 170},
	{"File Path", 0},
}

const (
	colIdx = iota
	colName
	colStatus
	colTitle
	colOptions
	colPath
)

// minPathWidth keeps File Path readable in a narrow window (the table scrolls sideways then).
const minPathWidth = 240

// fileTable is the file list: a table with a header row whose last column stretches.
type fileTable struct {
	table  *widget.Table
	holder *fyne.Container
	rows   func() []*fileRow
}

// showTitles says whether the Title column is filled (Adaptive-Streaming is checked).
func newFileTable(rows func() []*fileRow, showTitles func() bool, onSelect func(*fileRow)) *fileTable {
	t := &fileTable{rows: rows}
	t.table = widget.NewTable(
		func() (int, int) { return len(rows()), len(fileColumns) },
		func() fyne.CanvasObject {
			// A RichText rather than a Label: a Label's Importance colours offer only the
			// disabled grey for Ready, too faint to read; a text segment takes any theme colour.
			cell := widget.NewRichText(&widget.TextSegment{Text: "Succeed", Style: widget.RichTextStyleInline})
			cell.Truncation = fyne.TextTruncateEllipsis
			return cell
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			rs := rows()
			if id.Row < 0 || id.Row >= len(rs) {
				return
			}
			cell := o.(*widget.RichText)
			seg := cell.Segments[0].(*widget.TextSegment)
			seg.Text = cellText(id.Row, rs[id.Row], id.Col)
			if id.Col == colTitle && !showTitles() {
				seg.Text = ""
			}
			seg.Style = widget.RichTextStyleInline
			if id.Col == colStatus {
				seg.Style.ColorName = statusColor(rs[id.Row].status)
				seg.Style.TextStyle.Bold = true
			}
			cell.Refresh()
		},
	)
	t.table.ShowHeaderRow = true
	t.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(fileColumns) {
			o.(*widget.Label).SetText(fileColumns[id.Col].title)
		}
	}
	t.table.OnSelected = func(id widget.TableCellID) {
		if rs := rows(); id.Row >= 0 && id.Row < len(rs) {
			onSelect(rs[id.Row])
		}
	}
	for i, c := range fileColumns[:colPath] {
		t.table.SetColumnWidth(i, c.width)
	}
	t.holder = container.New(&stretchLastColumn{table: t.table}, t.table)
	return t
}

func (t *fileTable) object() fyne.CanvasObject { return t.holder }
func (t *fileTable) refresh()                  { t.table.Refresh() }
func (t *fileTable) unselect()                 { t.table.UnselectAll() }

// cellText is what the list shows in column col for the row at index i.
func cellText(i int, r *fileRow, col int) string {
	switch col {
	case colIdx:
		return strconv.Itoa(i + 1)
	case colName:
		return filepath.Base(r.path)
	case colStatus:
		return string(r.status)
	case colTitle:
		return r.effectiveTitle()
	case colOptions:
		return r.optionsSummary()
	case colPath:
		return r.path
	}
	return ""
}

// statusColor colours a status with theme colours, so dark and light themes both work: Ready
// grey, Waiting and Start blue (the primary colour), Succeed green, Failed red.
func statusColor(s packager.Status) fyne.ThemeColorName {
	switch s {
	case packager.Waiting, packager.Start:
		return theme.ColorNamePrimary
	case packager.Succeed:
		return theme.ColorNameSuccess
	case packager.Failed:
		return theme.ColorNameError
	}
	return theme.ColorNamePlaceHolder
}

// stretchLastColumn lays out a table to fill its space and widens its last column to the width
// the fixed columns leave; Fyne tables size columns only explicitly.
type stretchLastColumn struct {
	table *widget.Table
}

func (l *stretchLastColumn) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	padding := theme.Padding()
	fixed := padding // slack for the vertical scroll bar's overlap
	for _, c := range fileColumns[:colPath] {
		fixed += c.width + padding
	}
	// SetColumnWidth refreshes only when the width changes.
	l.table.SetColumnWidth(colPath, max(size.Width-fixed, minPathWidth))
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *stretchLastColumn) MinSize(objects []fyne.CanvasObject) fyne.Size {
	return objects[0].MinSize()
}
