package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"drmpack/packager"
)

// packagingRun is one press of DRM Packaging: a fresh queue holding the rows that were not yet
// Succeed. A queue per run keeps the list the window's own: rows removed from the list can never
// be picked up by a later Start, which a long-lived queue (it has no removal) would do.
type packagingRun struct {
	queue *packager.Queue
	rows  map[*packager.Job][]*fileRow // an adaptive title's job has several rows
	jobs  []*packager.Job              // in list order, to find another running job for the progress bar

	// Events wait in pending until the UI goroutine takes them all at once (see queueEvent).
	pendingMu   sync.Mutex
	pending     []packager.Event
	drainQueued bool

	// The rest is only touched on the UI goroutine.
	started, succeeded, failed int
	// current is the job the progress bar follows: the last one to start.
	current         *packager.Job
	currentProgress float64
}

// cancelRow cancels r's job if it belongs to this run.
func (r *packagingRun) cancelRow(row *fileRow) {
	for j, rows := range r.rows {
		if slices.Contains(rows, row) {
			r.queue.Cancel(j)
		}
	}
}

// startPackaging is DRM Packaging: it checks the choices, then queues every row not yet Succeed.
func (w *MainWindow) startPackaging() {
	if w.run != nil {
		return
	}
	todo := w.packagableRows()
	if len(todo) == 0 {
		w.logLine("Nothing to package: add files first")
		return
	}
	opts, concurrency, err := w.deps.Options(w.choices())
	if err != nil {
		w.logLine("DRM Packaging not started: " + err.Error())
		return
	}
	if w.deps.RememberOutDir != nil {
		if err := w.deps.RememberOutDir(opts.OutDir); err != nil {
			w.logLine(fmt.Sprintf("Destination folder not saved as the default: %v", err))
		}
	}

	groups, err := w.jobGroups(todo)
	if err != nil {
		w.logLine("DRM Packaging not started: " + err.Error())
		return
	}
	run := &packagingRun{rows: map[*packager.Job][]*fileRow{}}
	total := len(todo)
	run.queue = packager.NewQueue(concurrency, func(e packager.Event) {
		// The log file gets each event as it happens, from the queue's goroutine (LogLine is safe
		// for that), so its times stay true even when the window lags behind a burst of events.
		w.writeLogFile(e, total)
		w.queueEvent(run, e)
	})
	// Everything the event handler reads is set up before Start: from Start on, events arrive
	// from other goroutines.
	w.run = run
	for _, g := range groups {
		var j *packager.Job
		if g.title != "" {
			paths := make([]string, len(g.rows))
			for i, row := range g.rows {
				paths[i] = row.path
			}
			j = run.queue.AddTitle(g.title, paths, opts)
		} else {
			rowOpts := opts
			// Validated when entered in File Options; a row never holds a request that fails here.
			rowOpts.Trim, _ = g.rows[0].trim.Options()
			rowOpts.Faststart = g.rows[0].faststart
			j = run.queue.Add(g.rows[0].path, rowOpts)
		}
		for _, row := range g.rows {
			row.status = packager.Ready
		}
		run.rows[j] = g.rows
		run.jobs = append(run.jobs, j)
	}
	w.progress.TextFormatter = nil
	w.progress.SetValue(0)
	w.progressLabel.SetText(fmt.Sprintf("File 0 of %d", len(run.jobs)))
	w.updateControls()
	w.files.refresh()

	run.queue.Start(context.Background())
	go func() {
		run.queue.Wait()
		// Queued after the last event's drain, so the run's final state is shown first.
		w.deps.Do(func() { w.finishRun(run) })
	}()
}

// jobGroup is what one job packages: one row, or with Adaptive-Streaming the rows of a title.
type jobGroup struct {
	title string // empty: a single-file job
	rows  []*fileRow
}

// jobGroups splits the rows to package into jobs. With Adaptive-Streaming, rows sharing a Title
// become one adaptive title (in list order); their per-file trims cannot apply to renditions that
// must stay aligned, so a row with one stops the run with its name.
func (w *MainWindow) jobGroups(todo []*fileRow) ([]jobGroup, error) {
	if !w.adaptive.Checked {
		groups := make([]jobGroup, len(todo))
		for i, row := range todo {
			groups[i] = jobGroup{rows: []*fileRow{row}}
		}
		return groups, nil
	}
	var groups []jobGroup
	index := map[string]int{}
	for _, row := range todo {
		if row.optionsSummary() != "" {
			return nil, fmt.Errorf("%s has File Options (trims); adaptive titles are packaged whole: clear them first", filepath.Base(row.path))
		}
		t := row.effectiveTitle()
		if i, ok := index[t]; ok {
			groups[i].rows = append(groups[i].rows, row)
			continue
		}
		index[t] = len(groups)
		groups = append(groups, jobGroup{title: t, rows: []*fileRow{row}})
	}
	return groups, nil
}

// queueEvent hands an event from the queue's goroutines to the UI goroutine. Events are batched:
// one scheduled drain takes everything pending. One per event would interleave every event with a
// frame of drawing, and a run of many small files would crawl behind the engine for seconds.
// Taking the batch in order keeps each job's events in order, so a row never steps backwards.
func (w *MainWindow) queueEvent(run *packagingRun, e packager.Event) {
	run.pendingMu.Lock()
	run.pending = append(run.pending, e)
	first := !run.drainQueued
	run.drainQueued = true
	run.pendingMu.Unlock()
	if first {
		w.deps.Do(func() { w.drainEvents(run) })
	}
}

// drainEvents applies every pending event, then redraws the list and progress once.
func (w *MainWindow) drainEvents(run *packagingRun) {
	run.pendingMu.Lock()
	batch := run.pending
	run.pending, run.drainQueued = nil, false
	run.pendingMu.Unlock()
	for _, e := range batch {
		w.applyEvent(run, e)
	}
	w.files.refresh()
	w.showProgress(run)
	w.updateControls()
}

// applyEvent records one queue event in the window's state; drainEvents shows the result.
func (w *MainWindow) applyEvent(run *packagingRun, e packager.Event) {
	switch e.Kind {
	case packager.Log:
		w.log.append(e.Line) // already in the log file
	case packager.Progress:
		if e.Job == run.current {
			run.currentProgress = e.Progress
		}
	case packager.StatusChanged:
		// A row removed from the list while its job ran is not shown again (its lines still are).
		for _, row := range run.rows[e.Job] {
			if w.hasRow(row) {
				row.status = e.Status
			}
		}
		switch e.Status {
		case packager.Start:
			run.started++
			run.current, run.currentProgress = e.Job, 0
		case packager.Succeed:
			run.succeeded++
			w.followAnotherJob(run, e.Job)
		case packager.Failed:
			run.failed++
			w.followAnotherJob(run, e.Job)
		}
	}
}

// followAnotherJob moves the progress bar off a finished job to one still running (concurrency
// above one), if any.
func (w *MainWindow) followAnotherJob(run *packagingRun, finished *packager.Job) {
	if finished != run.current {
		return
	}
	run.current = nil
	for _, j := range run.jobs {
		if j.Status() == packager.Start {
			run.current, run.currentProgress = j, 0
			return
		}
	}
}

// showProgress shows which file of the run is being packaged and how far it is.
func (w *MainWindow) showProgress(run *packagingRun) {
	w.progressLabel.SetText(fmt.Sprintf("File %d of %d", run.started, len(run.jobs)))
	if run.current == nil {
		return
	}
	// The bar names its file: with several files the label alone does not say which one moves.
	name := filepath.Base(run.current.Input)
	w.progress.TextFormatter = func() string { return fmt.Sprintf("%s  %.0f%%", name, w.progress.Value*100) }
	w.progress.SetValue(run.currentProgress)
}

// writeLogFile writes an event to the log file: engine lines as the view shows them, and the
// status trail the CLI writes too (the view shows statuses in the list instead).
func (w *MainWindow) writeLogFile(e packager.Event, total int) {
	if w.deps.LogLine == nil {
		return
	}
	switch e.Kind {
	case packager.Log:
		w.deps.LogLine(e.Line)
	case packager.StatusChanged:
		w.deps.LogLine(fmt.Sprintf("[%d/%d] %s: %s", e.Job.ID, total, e.Job.Input, e.Status))
	}
}

// cancelRun is Cancel: every waiting and running job stops and fails, removing partial output.
func (w *MainWindow) cancelRun() {
	if w.run == nil {
		return
	}
	w.logLine("Cancelling packaging")
	w.run.queue.CancelAll()
}

// finishRun runs on the UI goroutine after the run's last event.
func (w *MainWindow) finishRun(run *packagingRun) {
	if w.run != run {
		return
	}
	w.run = nil
	w.logLine(fmt.Sprintf("DRM Packaging finished: %d succeeded, %d failed (of %d)", run.succeeded, run.failed, len(run.jobs)))
	// The bar followed single files; at the end it says the whole run is over, whatever the
	// outcome (the label and the list say how it went).
	w.progress.TextFormatter = func() string { return "Finished" }
	w.progress.SetValue(1)
	w.updateControls()
	w.progressLabel.SetText(fmt.Sprintf("Done: %d succeeded, %d failed", run.succeeded, run.failed))
	if w.onRunFinished != nil {
		w.onRunFinished()
	}
	if w.closeAfterRun {
		w.Window.Close()
	}
}

func (w *MainWindow) hasRow(r *fileRow) bool { return slices.Contains(w.rows, r) }
