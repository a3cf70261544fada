package packager_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"drmpack/internal/mediatest"
	"drmpack/packager"
	"drmpack/packager/cenc"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

func TestMain(m *testing.M) { mediatest.Main(m) }

func rawKeys(t *testing.T) keys.Source {
	t.Helper()
	r, err := keys.ParseRaw([]string{"6bac8ec30ee3379f3d21290b3a2bc9c3:3a54452ba2d2cad16bd879cdd47ab05b"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func options(t *testing.T, out string) packager.Options {
	return packager.Options{DRM: []string{packager.DRMDash}, OutDir: out, Scheme: cenc.CENC,
		SegmentDuration: 2 * time.Second, KeySource: rawKeys(t), WidevineProvider: "drmpack"}
}

// recorder collects events per job.
type recorder struct {
	mu       sync.Mutex
	statuses map[int][]packager.Status
	progress map[int][]float64
	lines    map[int][]string
}

func newRecorder() *recorder {
	return &recorder{statuses: map[int][]packager.Status{}, progress: map[int][]float64{}, lines: map[int][]string{}}
}

func (r *recorder) handle(e packager.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case packager.StatusChanged:
		r.statuses[e.Job.ID] = append(r.statuses[e.Job.ID], e.Status)
	case packager.Progress:
		r.progress[e.Job.ID] = append(r.progress[e.Job.ID], e.Progress)
	case packager.Log:
		r.lines[e.Job.ID] = append(r.lines[e.Job.ID], e.Line)
	}
}

func TestQueueStatusesProgressAndLogs(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	rec := newRecorder()
	q := packager.NewQueue(1, rec.handle)
	good := q.Add(filepath.Join(media, "h264_aac.mp4"), options(t, out))
	bad := q.Add(filepath.Join(media, "missing.mp4"), options(t, out))
	if good.Status() != packager.Ready || bad.Status() != packager.Ready {
		t.Fatal("added jobs are not Ready")
	}
	q.Start(context.Background())
	q.Wait()

	if got := rec.statuses[good.ID]; !slices.Equal(got, []packager.Status{packager.Ready, packager.Waiting, packager.Start, packager.Succeed}) {
		t.Fatalf("good job statuses %v", got)
	}
	if got := rec.statuses[bad.ID]; !slices.Equal(got, []packager.Status{packager.Ready, packager.Waiting, packager.Start, packager.Failed}) {
		t.Fatalf("bad job statuses %v", got)
	}
	p := rec.progress[good.ID]
	if len(p) < 3 || p[len(p)-1] != 1 || !slices.IsSorted(p) {
		t.Fatalf("progress %v: want rising values ending at 1", p)
	}
	lines := strings.Join(rec.lines[good.ID], "\n")
	for _, want := range []string{"DASH Packaging start (", "Succeed packaging h264_aac.mp4"} {
		if !strings.Contains(lines, want) {
			t.Fatalf("log lacks %q:\n%s", want, lines)
		}
	}
	if r := bad.Result(); r.Code != errcode.FileNotFound || !strings.Contains(strings.Join(rec.lines[bad.ID], "\n"), "Failed file : ") {
		t.Fatalf("bad job result %+v, lines %v", r, rec.lines[bad.ID])
	}
	if r := good.Result(); len(r.Outputs) != 1 || r.Elapsed <= 0 {
		t.Fatalf("good job result %+v", r)
	}
}

// TestCancelLeavesNothing cancels a job while it writes segments and checks that neither the
// output folder nor the staging folder survives.
func TestCancelLeavesNothing(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	var q *packager.Queue
	var once sync.Once
	q = packager.NewQueue(1, func(e packager.Event) {
		if e.Kind == packager.Progress && e.Progress > 0 && e.Progress < 1 {
			once.Do(func() { go q.Cancel(e.Job) })
		}
	})
	opts := options(t, out)
	opts.SegmentDuration = time.Second // more segments, more chances to observe the cancel
	j := q.Add(filepath.Join(media, "h264_aac.mp4"), opts)
	q.Start(context.Background())
	q.Wait()
	if j.Status() != packager.Failed {
		t.Fatalf("cancelled job ended %s", j.Status())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("cancelled job left %v", entries)
	}
	if !strings.Contains(j.Result().Err.Info, "cancelled") {
		t.Fatalf("INFO %q does not say the job was cancelled", j.Result().Err.Info)
	}
}

// TestConcurrencyLimit runs four jobs two at a time and checks that no more than two were in
// Start at once, and that all succeeded into their own folders.
func TestConcurrencyLimit(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	var mu sync.Mutex
	running, peak := 0, 0
	q := packager.NewQueue(2, func(e packager.Event) {
		if e.Kind != packager.StatusChanged {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch e.Status {
		case packager.Start:
			running++
			peak = max(peak, running)
		case packager.Succeed, packager.Failed:
			running--
		}
	})
	for _, f := range []string{"h264_aac.mp4", "hevc_aac.mp4", "audio.m4a", "audio.mp3"} {
		q.Add(filepath.Join(media, f), options(t, out))
	}
	q.Start(context.Background())
	q.Wait()
	for _, j := range q.Jobs() {
		if j.Status() != packager.Succeed {
			t.Fatalf("%s: %s %v", j.Input, j.Status(), j.Result().Err)
		}
	}
	if peak > 2 {
		t.Fatalf("%d jobs ran at once with concurrency 2", peak)
	}
	for _, title := range []string{"h264_aac", "hevc_aac", "audio"} {
		if _, err := os.Stat(filepath.Join(out, title, "dash", "stream.mpd")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRepackageReplacesOutput packages the same input twice: the second run replaces the first
// run's dash folder completely and leaves no staging folder behind.
func TestRepackageReplacesOutput(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	for _, seg := range []time.Duration{time.Second, 4 * time.Second} {
		q := packager.NewQueue(1, nil)
		opts := options(t, out)
		opts.SegmentDuration = seg
		j := q.Add(filepath.Join(media, "audio.m4a"), opts)
		q.Start(context.Background())
		q.Wait()
		if j.Status() != packager.Succeed {
			t.Fatal(j.Result().Err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(out, "audio", "dash", "audio_1", "*.m4s"))
	if len(segs) != 2 { // 8 s of audio in 4-s segments: only the second run's files remain
		t.Fatalf("%d segments after repackaging, want 2", len(segs))
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Fatalf("output folder holds %v, want only the title folder", entries)
	}
}

// TestJobsStartInListOrder queues many jobs with concurrency 1 and requires them to start in the
// order they were added, and a job cancelled while waiting to fail at once without running.
func TestJobsStartInListOrder(t *testing.T) {
	media := mediatest.Media(t)
	out := t.TempDir()
	var mu sync.Mutex
	var order []int
	q := packager.NewQueue(1, func(e packager.Event) {
		if e.Kind == packager.StatusChanged && e.Status == packager.Start {
			mu.Lock()
			order = append(order, e.Job.ID)
			mu.Unlock()
		}
	})
	var jobs []*packager.Job
	for i := 0; i < 12; i++ {
		jobs = append(jobs, q.Add(filepath.Join(media, "audio.m4a"), options(t, filepath.Join(out, strconv.Itoa(i)))))
	}
	q.Start(context.Background())
	q.Cancel(jobs[len(jobs)-1])
	q.Wait()
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Fatalf("jobs started in order %v", order)
		}
	}
	last := jobs[len(jobs)-1]
	if last.Status() != packager.Failed || slices.Contains(order, last.ID) {
		t.Fatalf("the cancelled waiting job %s, started: %v", last.Status(), slices.Contains(order, last.ID))
	}
	if len(order) != len(jobs)-1 {
		t.Fatalf("%d of %d jobs started", len(order), len(jobs)-1)
	}
}
