// Package packager is the packaging engine: a job queue that runs packaging jobs with bounded
// concurrency and reports their status, progress and log lines as events.
package packager

import (
	"context"
	"errors"
	"sync"
	"time"

	"drmpack/packager/errcode"
)

// Status is a job's state, exactly the manual's five.
type Status string

// Ready → Waiting → Start → Succeed | Failed.
const (
	Ready   Status = "Ready"
	Waiting Status = "Waiting"
	Start   Status = "Start"
	Succeed Status = "Succeed"
	Failed  Status = "Failed"
)

// EventKind says which field of an Event is meaningful.
type EventKind int

// Event kinds.
const (
	StatusChanged EventKind = iota
	Progress
	Log
)

// Event is what the queue reports to the CLI and the GUI.
type Event struct {
	Kind     EventKind
	Job      *Job
	Status   Status  // StatusChanged
	Progress float64 // Progress: 0..1 of the current job
	Line     string  // Log: one line (the error block of a failure comes as one multi-line event)
	Err      *errcode.Error
}

// Job is one input with the options to package it.
type Job struct {
	ID      int
	Input   string // the input file; for an adaptive title, the title's name
	Options Options
	// Renditions are an adaptive title's input files (see Queue.AddTitle); nil for one input.
	Renditions []string

	mu     sync.Mutex
	status Status
	result Result
	cancel context.CancelFunc
}

// Status returns the job's current status.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status
}

// Result returns the job's outcome; meaningful once the status is Succeed or Failed.
func (j *Job) Result() Result {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.result
}

// Queue runs jobs with bounded concurrency. Events are delivered to one handler, serialised, in
// the order they happen for each job.
type Queue struct {
	concurrency int
	handler     func(Event)

	mu      sync.Mutex
	jobs    []*Job
	running sync.WaitGroup
	emitMu  sync.Mutex
}

// NewQueue returns a queue that runs up to concurrency jobs at once (at least one) and sends
// every event to handler (which may be nil).
func NewQueue(concurrency int, handler func(Event)) *Queue {
	return &Queue{concurrency: max(concurrency, 1), handler: handler}
}

// Add puts an input on the queue in the Ready state.
func (q *Queue) Add(input string, opts Options) *Job {
	return q.add(&Job{Input: input, Options: opts})
}

// add numbers j, puts it on the queue in the Ready state and reports that.
func (q *Queue) add(j *Job) *Job {
	q.mu.Lock()
	j.ID, j.status = len(q.jobs)+1, Ready
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	q.emit(Event{Kind: StatusChanged, Job: j, Status: Ready})
	return j
}

// Jobs returns the queue's jobs in the order they were added.
func (q *Queue) Jobs() []*Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]*Job(nil), q.jobs...)
}

// Start moves every Ready job to Waiting and runs them; it returns at once. Jobs added later stay
// Ready until the next Start.
func (q *Queue) Start(ctx context.Context) {
	q.mu.Lock()
	var batch []*Job
	for _, j := range q.jobs {
		if j.Status() == Ready {
			batch = append(batch, j)
		}
	}
	q.mu.Unlock()
	for _, j := range batch {
		q.setStatus(j, Waiting)
	}
	// Jobs take the concurrency slots in list order, as the manual's Waiting status promises: each
	// job may compete for a slot only after the job before it has taken one (or was cancelled).
	// A cancelled waiting job fails at once but still passes its turn on in order.
	sem := make(chan struct{}, q.concurrency)
	turn := make(chan struct{})
	close(turn)
	for _, j := range batch {
		jctx, cancel := context.WithCancel(ctx)
		j.mu.Lock()
		j.cancel = cancel
		j.mu.Unlock()
		myTurn, next := turn, make(chan struct{})
		turn = next
		q.running.Add(1)
		go func() {
			defer q.running.Done()
			defer cancel()
			cancelled := func() {
				q.finish(j, Result{}, errcode.New(errcode.Unexpected, "cancelled before it started"))
			}
			select {
			case <-myTurn:
			case <-jctx.Done():
				cancelled()
				<-myTurn
				close(next)
				return
			}
			select {
			case sem <- struct{}{}:
				close(next)
			case <-jctx.Done():
				close(next)
				cancelled()
				return
			}
			defer func() { <-sem }()
			q.run(jctx, j)
		}()
	}
}

// Cancel stops one job; a running job removes its partial output and fails.
func (q *Queue) Cancel(j *Job) {
	j.mu.Lock()
	cancel := j.cancel
	j.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// CancelAll stops every waiting or running job.
func (q *Queue) CancelAll() {
	for _, j := range q.Jobs() {
		q.Cancel(j)
	}
}

// Wait blocks until every started job has finished.
func (q *Queue) Wait() { q.running.Wait() }

func (q *Queue) run(ctx context.Context, j *Job) {
	q.setStatus(j, Start)
	started := time.Now()
	p := &jobRun{queue: q, job: j}
	res, err := p.run(ctx)
	res.Elapsed = time.Since(started)
	q.finish(j, res, err)
}

func (q *Queue) finish(j *Job, res Result, err error) {
	res.Input = j.Input
	if err != nil {
		e := errcode.From(err)
		if errors.Is(err, context.Canceled) {
			e = errcode.New(errcode.Unexpected, "packaging was cancelled")
		}
		res.Status, res.Code, res.Err = Failed, e.Code, e
		j.mu.Lock()
		j.result = res
		j.mu.Unlock()
		q.setStatus(j, Failed)
		q.emit(Event{Kind: Log, Job: j, Line: "Failed file : " + j.Input})
		q.emit(Event{Kind: Log, Job: j, Line: e.Report(), Err: e})
		return
	}
	res.Status, res.Code = Succeed, errcode.OK
	j.mu.Lock()
	j.result = res
	j.mu.Unlock()
	q.setStatus(j, Succeed)
}

func (q *Queue) setStatus(j *Job, s Status) {
	j.mu.Lock()
	j.status = s
	j.mu.Unlock()
	q.emit(Event{Kind: StatusChanged, Job: j, Status: s})
}

func (q *Queue) emit(e Event) {
	if q.handler == nil {
		return
	}
	q.emitMu.Lock()
	defer q.emitMu.Unlock()
	q.handler(e)
}
