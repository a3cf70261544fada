package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"drmpack/packager"
	"drmpack/packager/transform"
)

// fileRow is one line of the file list. It outlives packaging runs: a Failed row is packaged
// again by the next run, a Succeed row is not.
type fileRow struct {
	path   string
	status packager.Status
	// trim and faststart are the row's media operations (File Options), applied before DASH and
	// HLS packaging; NCG protects the file as it is.
	trim      transform.Request
	faststart bool
	// title is the adaptive title the row belongs to; empty means the default, the file name
	// without a rendition suffix (packager.RenditionTitle).
	title string
}

// effectiveTitle is the row's adaptive title.
func (r *fileRow) effectiveTitle() string {
	if r.title != "" {
		return r.title
	}
	return packager.RenditionTitle(r.path)
}

// optionsSummary is the list's Options cell: the row's media operations in short.
func (r *fileRow) optionsSummary() string {
	var parts []string
	switch {
	case strings.TrimSpace(r.trim.Trimming) != "":
		parts = append(parts, "multi-trim "+r.trim.Trimming)
	case r.trim.Start != "" || r.trim.End != "":
		parts = append(parts, "trim "+r.trim.Start+"–"+r.trim.End)
	}
	if r.trim.AllTracks {
		parts = append(parts, "all tracks")
	}
	if r.faststart {
		parts = append(parts, "header upfront")
	}
	return strings.Join(parts, ", ")
}

// mediaExtensions are the inputs DASH and HLS take (the manual: MP4 and MP3 only; M4A is MP4
// audio). Anything else is refused when the file is added rather than failing later in a run.
var mediaExtensions = []string{".mp4", ".m4a", ".mp3"}

func isMedia(path string) bool {
	return slices.Contains(mediaExtensions, strings.ToLower(filepath.Ext(path)))
}

// dialogSize is large enough for the file dialogs' path entry and list; without an explicit size
// Fyne opens them at their minimum, where the entries are too narrow to use.
var dialogSize = fyne.NewSize(860, 580)

// dropped adds files and folders dragged onto the window.
func (w *MainWindow) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() != "file" {
			w.logLine(fmt.Sprintf("Refused %s: only local files can be packaged", u.String()))
			continue
		}
		paths = append(paths, u.Path())
	}
	w.addPaths(paths)
}

// AddFiles adds files and folders to the list as Add File and drag-and-drop do, refusing with a
// logged reason what cannot be packaged. main uses it for the paths the program was started with
// (a file manager's "Open with").
func (w *MainWindow) AddFiles(paths []string) { w.addPaths(paths) }

// addPaths adds files, and the files directly inside folders, to the list in the order given.
// Every refusal is logged with its reason, so nothing silently fails to appear.
func (w *MainWindow) addPaths(paths []string) {
	for _, p := range paths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			w.logLine(fmt.Sprintf("Refused %s: %v", p, unwrapPathError(err)))
		case fi.IsDir():
			w.addFolderFiles(p)
		default:
			w.addFilePath(p)
		}
	}
	w.files.refresh()
	w.updateControls()
}

// addFilePath adds one regular file, or logs why it cannot be added.
func (w *MainWindow) addFilePath(path string) bool {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if w.acceptsOnlyMedia() && !isMedia(path) {
		w.logLine(fmt.Sprintf("Refused %s: DASH packages only MP4, M4A and MP3 files (%s)",
			filepath.Base(path), strings.Join(mediaExtensions, ", ")))
		return false
	}
	if slices.ContainsFunc(w.rows, func(r *fileRow) bool { return r.path == path }) {
		w.logLine(fmt.Sprintf("Already in the list: %s", path))
		return false
	}
	w.rows = append(w.rows, &fileRow{path: path, status: packager.Ready})
	w.lastDir = filepath.Dir(path)
	return true
}

// addFolderFiles adds the files directly inside dir (the manual's Add Folder: not sub-folders).
// Files of the wrong type are summed up in one line instead of one refusal each, since a folder
// commonly holds subtitles, artwork and the like next to the media.
func (w *MainWindow) addFolderFiles(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.logLine(fmt.Sprintf("Refused folder %s: %v", dir, unwrapPathError(err)))
		return
	}
	var added, skipped int
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if w.acceptsOnlyMedia() && !isMedia(p) {
			skipped++
			continue
		}
		if w.addFilePath(p) {
			added++
		}
	}
	line := fmt.Sprintf("Added %d file(s) from %s", added, dir)
	if skipped > 0 {
		line += fmt.Sprintf("; skipped %d that are not MP4, M4A or MP3", skipped)
	}
	w.logLine(line)
	w.lastDir = dir
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// showAddFile opens the file dialog. Fyne's dialog picks one file at a time; drag-and-drop and
// Add Folder add many.
func (w *MainWindow) showAddFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			w.logLine(fmt.Sprintf("Add File: %v", err))
			return
		}
		if r == nil {
			return // dismissed
		}
		r.Close() // only the path is needed; the engine opens the file itself
		w.dropped(fyne.Position{}, []fyne.URI{r.URI()})
	}, w.Window)
	if w.acceptsOnlyMedia() {
		d.SetFilter(storage.NewExtensionFileFilter(mediaExtensions))
	}
	w.startDialogIn(w.lastDir, d.SetLocation)
	showSized(d)
}

// showAddFolder opens the folder dialog and adds the folder's files.
func (w *MainWindow) showAddFolder() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			w.logLine(fmt.Sprintf("Add Folder: %v", err))
			return
		}
		if u != nil {
			w.dropped(fyne.Position{}, []fyne.URI{u})
		}
	}, w.Window)
	w.startDialogIn(w.lastDir, d.SetLocation)
	showSized(d)
}

// browseOutDir lets the user pick the destination folder.
func (w *MainWindow) browseOutDir() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			w.logLine(fmt.Sprintf("Browse: %v", err))
			return
		}
		if u != nil {
			w.outDir.SetText(u.Path())
		}
	}, w.Window)
	w.startDialogIn(strings.TrimSpace(w.outDir.Text), d.SetLocation)
	showSized(d)
}

// showSized shows a file or folder dialog at dialogSize. The order matters: FileDialog.Resize
// before Show dereferences the not yet built dialog and panics (Fyne 2.8.1).
func showSized(d *dialog.FileDialog) {
	d.Show()
	d.Resize(dialogSize)
}

// startDialogIn points a dialog at dir when it is an existing folder; otherwise Fyne's default
// (the home folder) is kept.
func (w *MainWindow) startDialogIn(dir string, setLocation func(fyne.ListableURI)) {
	if dir == "" || !isDir(dir) {
		return
	}
	if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
		setLocation(l)
	}
}

// selectRow remembers the row the table selected, for Remove File.
func (w *MainWindow) selectRow(r *fileRow) {
	w.selected = r
	w.updateControls()
}

// removeSelected is Remove File: the selected row leaves the list. A row still waiting or being
// packaged is cancelled first, so removing it also stops its work.
func (w *MainWindow) removeSelected() {
	if w.selected == nil {
		return
	}
	w.removeRows(func(r *fileRow) bool { return r == w.selected })
}

// removeAllRows is Remove All; a running packaging is cancelled with its rows.
func (w *MainWindow) removeAllRows() {
	w.removeRows(func(*fileRow) bool { return true })
}

// removeSucceededRows is Remove Successful File: rows whose status is Succeed leave the list.
func (w *MainWindow) removeSucceededRows() {
	w.removeRows(func(r *fileRow) bool { return r.status == packager.Succeed })
}

func (w *MainWindow) removeRows(remove func(*fileRow) bool) {
	for _, r := range w.rows {
		if remove(r) && w.run != nil {
			w.run.cancelRow(r)
		}
	}
	w.rows = slices.DeleteFunc(w.rows, remove)
	w.selected = nil
	w.files.unselect()
	w.files.refresh()
	w.updateControls()
}

// packagableRows are the rows a run packages: all but those already Succeed, so a second press
// after failures retries exactly the failed files.
func (w *MainWindow) packagableRows() []*fileRow {
	var out []*fileRow
	for _, r := range w.rows {
		if r.status != packager.Succeed {
			out = append(out, r)
		}
	}
	return out
}

func (w *MainWindow) countStatus(s packager.Status) int {
	n := 0
	for _, r := range w.rows {
		if r.status == s {
			n++
		}
	}
	return n
}

// idleSummary is the progress label between runs.
func (w *MainWindow) idleSummary() string {
	if len(w.rows) == 0 {
		return "No files yet: add or drop some"
	}
	var counts []string
	for _, st := range []packager.Status{packager.Ready, packager.Succeed, packager.Failed} {
		if n := w.countStatus(st); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	noun := "files"
	if len(w.rows) == 1 {
		noun = "file"
	}
	return fmt.Sprintf("%d %s: %s", len(w.rows), noun, strings.Join(counts, ", "))
}
