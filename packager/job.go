package packager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"drmpack/packager/cenc"
	"drmpack/packager/dash"
	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/transform"
)

// DRM output types, as the GUI's check boxes and the CLI's --drm name them.
const (
	DRMDash = "dash"
)

// Options are the settings of one packaging job.
type Options struct {
	DRM              []string // output types; only "dash" so far
	OutDir           string
	CID              string // content ID for the key service; default: the input's file name
	Scheme           cenc.Scheme
	SegmentDuration  time.Duration
	KeySource        keys.Source
	PlayReadyLAURL   string
	WidevineProvider string
	// Media operations applied to the input before packaging (the media server manual's
	// trimming; see package transform). Trim nil packages the whole input.
	Trim      *transform.Options
	Faststart bool
}

// Result is a finished job's outcome, as the CLI's --json prints it.
type Result struct {
	Input   string         `json:"file"`
	Status  Status         `json:"status"`
	Code    errcode.Code   `json:"code"`
	Outputs []string       `json:"outputs,omitempty"`
	Elapsed time.Duration  `json:"-"`
	Err     *errcode.Error `json:"-"`
}

// Title is the output folder name of an input: its base name without the extension.
func Title(input string) string {
	base := filepath.Base(input)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// jobRun carries one job through validation, packaging and the final rename.
type jobRun struct {
	queue *Queue
	job   *Job

	progressMu   sync.Mutex
	lastProgress float64
}

func (p *jobRun) log(format string, args ...any) {
	p.queue.emit(Event{Kind: Log, Job: p.job, Line: fmt.Sprintf(format, args...)})
}

// progress reports f unless it would move the bar backwards: tracks are written concurrently and
// their reports can arrive out of order.
func (p *jobRun) progress(f float64) {
	f = min(max(f, 0), 1)
	p.progressMu.Lock()
	defer p.progressMu.Unlock()
	if f <= p.lastProgress {
		return
	}
	p.lastProgress = f
	p.queue.emit(Event{Kind: Progress, Job: p.job, Progress: f})
}

func (p *jobRun) run(ctx context.Context) (Result, error) {
	opts := p.job.Options
	input := p.job.Input
	if len(opts.DRM) == 0 {
		return Result{}, errcode.New(errcode.InvalidArgument, "no DRM type chosen (dash)")
	}
	for _, d := range opts.DRM {
		if d != DRMDash {
			return Result{}, errcode.New(errcode.InvalidArgument, "DRM type %q is not available (dash)", d)
		}
	}
	p.log("%s Packaging start (%s)", strings.ToUpper(strings.Join(opts.DRM, "+")), time.Now().Format("2006-01-02 15:04:05"))
	size, err := checkInput(input)
	if err != nil {
		return Result{}, err
	}
	if opts.OutDir == "" {
		return Result{}, errcode.New(errcode.InvalidArgument, "no output folder given (-o)")
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return Result{}, createError(err, "create output folder "+opts.OutDir)
	}
	if err := checkFreeSpace(opts.OutDir, size); err != nil {
		return Result{}, err
	}

	m, err := demux.Open(input)
	if err != nil {
		if errors.Is(err, demux.ErrUnsupported) {
			return Result{}, errcode.New(errcode.InvalidArgument, "%s cannot be packaged for DASH: %v", filepath.Base(input), err)
		}
		return Result{}, errcode.Wrap(errcode.FileAccess, err, "open input")
	}
	defer m.Close()
	p.describe(m)
	if m, err = p.mediaOperations(m); err != nil {
		return Result{}, err
	}

	cid := opts.CID
	if cid == "" {
		cid = Title(input)
	}
	tracks := dash.Selected(m)
	var types []keys.TrackType
	for _, t := range tracks {
		if tt := dash.TrackType(t); !slices.Contains(types, tt) {
			types = append(types, tt)
		}
	}
	if opts.KeySource == nil {
		return Result{}, errcode.New(errcode.InvalidArgument, "no key source: pass --key KID:KEY")
	}
	keySet, err := opts.KeySource.Keys(ctx, keys.Request{CID: cid, TrackTypes: types})
	if err != nil {
		return Result{}, errcode.Wrap(errcode.InvalidArgument, err, "keys")
	}

	title := Title(input)
	tmp, err := os.MkdirTemp(opts.OutDir, ".drmpack-"+sanitizeTemp(title)+"-")
	if err != nil {
		return Result{}, createError(err, "create temporary folder")
	}
	defer os.RemoveAll(tmp)
	stage := filepath.Join(tmp, title)
	dashDir := filepath.Join(stage, "dash")
	if err := os.MkdirAll(dashDir, 0o755); err != nil {
		return Result{}, createError(err, "create "+dashDir)
	}
	started := time.Now()
	dres, err := dash.Package(ctx, m, dashDir, dash.Options{
		SegmentDuration: opts.SegmentDuration, Scheme: opts.Scheme, Keys: keySet, CID: cid,
		PlayReadyLAURL: opts.PlayReadyLAURL, WidevineProvider: opts.WidevineProvider,
	}, p.progress)
	if err != nil {
		return Result{}, err
	}
	for _, t := range dres.Tracks {
		p.log("Encrypted %s track %s (%s) with KID %s into %d segments", t.Kind, t.Representation, t.Codecs, t.KID, t.Segments)
	}
	report := packagingReport{
		Input: filepath.Base(input), Size: size, CID: cid, Title: title, DRM: opts.DRM,
		Scheme: string(opts.Scheme), SegmentDuration: opts.SegmentDuration.Seconds(),
		Dash: dres, Started: started.UTC().Format(time.RFC3339), Elapsed: time.Since(started).Seconds(),
	}
	if err := writeJSON(filepath.Join(stage, "packaging.json"), report); err != nil {
		return Result{}, createError(err, "write packaging.json")
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	outTitle := filepath.Join(opts.OutDir, title)
	if err := commit(stage, outTitle, tmp); err != nil {
		return Result{}, err
	}
	p.progress(1)
	p.log("Succeed packaging %s", filepath.Base(input))
	return Result{Outputs: []string{filepath.Join(outTitle, "dash", dres.Manifest)}}, nil
}

// describe logs what the input holds, as the manual's packager did before encrypting.
func (p *jobRun) describe(m *demux.Media) {
	p.log("Parsing media file %s (%s, %d bytes)", filepath.Base(m.Path), m.Format, m.Size)
	for _, t := range m.Tracks {
		switch t.Kind {
		case demux.Video:
			syncs, first, interval := 0, -1, 0
			for i, s := range t.Samples {
				if s.Sync {
					syncs++
					if first >= 0 && interval == 0 {
						interval = i - first
					}
					if first < 0 {
						first = i
					}
				}
			}
			fps := float64(len(t.Samples)) * float64(t.Timescale) / float64(max(t.Duration(), 1))
			p.log("Track %d: video %s %dx%d, %d frames, %d sync samples; I-frame interval %d frames (at %.3f frames per second)",
				t.ID, t.Format, t.Width, t.Height, len(t.Samples), syncs, interval, fps)
		case demux.Audio:
			p.log("Track %d: audio %s %d Hz %d ch, %d frames, language %s", t.ID, t.Format, t.SampleRate, t.Channels, len(t.Samples), t.Language)
		default:
			p.log("Track %d: %s (%s) is not packaged for DASH", t.ID, t.Kind, t.Format)
		}
	}
}

type packagingReport struct {
	Input           string       `json:"input"`
	Size            int64        `json:"size"`
	CID             string       `json:"cid"`
	Title           string       `json:"title"`
	DRM             []string     `json:"drm"`
	Scheme          string       `json:"scheme"`
	SegmentDuration float64      `json:"segmentDuration"`
	Dash            *dash.Result `json:"dash,omitempty"`
	Started         string       `json:"started"`
	Elapsed         float64      `json:"elapsedSeconds"`
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// checkInput maps the ways an input can be unusable to the manual's codes.
func checkInput(path string) (int64, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, errcode.New(errcode.FileNotFound, "%s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return 0, errcode.New(errcode.FileAccess, "%s: permission denied", path)
	case errors.Is(err, syscall.ENAMETOOLONG):
		return 0, errcode.New(errcode.FileAccess, "%s: file name too long", path)
	case err != nil:
		return 0, errcode.Wrap(errcode.SizeUnreadable, err, "stat input")
	}
	if fi.IsDir() {
		return 0, errcode.New(errcode.InvalidArgument, "%s is a folder, not a file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, errcode.New(errcode.FileAccess, "%s cannot be opened: %v", path, unwrapPath(err))
	}
	f.Close()
	return fi.Size(), nil
}

// unwrapPath drops the path a *PathError repeats, since the message already names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// createError classes a failure to create a file or folder by its cause.
func createError(err error, context string) *errcode.Error {
	switch {
	case errors.Is(err, syscall.ENAMETOOLONG):
		return errcode.Wrap(errcode.CreateNameLong, err, context)
	case errors.Is(err, syscall.ENOSPC):
		return errcode.Wrap(errcode.CreateNoSpace, err, context)
	case errors.Is(err, fs.ErrPermission):
		return errcode.Wrap(errcode.FileAccess, err, context)
	}
	return errcode.Wrap(errcode.CreateTooDeep, err, context)
}

// sanitizeTemp keeps temporary folder names short and plain; the real title is only used for
// the final folder.
func sanitizeTemp(title string) string {
	var b strings.Builder
	for _, r := range title {
		if b.Len() >= 32 {
			break
		}
		if r < 0x80 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// commit moves each finished entry of stage (dash/, packaging.json, later hls/) into outTitle,
// replacing an earlier run's entry of the same name only once the new one is complete. Entries of
// other output types from earlier runs are left alone.
func commit(stage, outTitle, tmp string) error {
	entries, err := os.ReadDir(stage)
	if err != nil {
		return errcode.Wrap(errcode.MoveFailed, err, "read staging folder")
	}
	createdTitle := false
	if _, err := os.Stat(outTitle); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(outTitle, 0o755); err != nil {
			return createError(err, "create "+outTitle)
		}
		createdTitle = true
	}
	for i, e := range entries {
		src, dst := filepath.Join(stage, e.Name()), filepath.Join(outTitle, e.Name())
		if _, err := os.Lstat(dst); err == nil {
			if err := os.Rename(dst, filepath.Join(tmp, fmt.Sprintf("replaced-%d", i))); err != nil {
				return errcode.Wrap(errcode.MoveFailed, err, "move aside the earlier "+dst)
			}
		}
		if err := os.Rename(src, dst); err != nil {
			if createdTitle {
				os.RemoveAll(outTitle)
			}
			return errcode.Wrap(errcode.MoveFailed, err, "move output to "+dst)
		}
	}
	return nil
}
