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
	"drmpack/packager/hls"
	"drmpack/packager/keys"
	"drmpack/packager/pssh"
	"drmpack/packager/transform"
)

// DRM output types, as the GUI's check boxes and the CLI's --drm name them.
const (
	DRMDash = "dash"
	DRMHLS  = "hls"
	DRMNCG  = "ncg"
)

// Options are the settings of one packaging job.
type Options struct {
	DRM              []string // output types: "ncg", "dash", "hls"
	OutDir           string
	CID              string // content ID for the key service; default: CIDSource, else from the file name
	CIDSource        CIDSource
	Scheme           cenc.Scheme
	SegmentDuration  time.Duration
	KeySource        keys.Source
	PlayReadyLAURL   string
	WidevineProvider string
	// HLS holds the HLS settings; its Keys are the job's and Alternates is always on (the
	// output's index.m3u8 is a master playlist).
	HLS hls.Options
	// Media operations applied to the input before packaging (the media server manual's
	// trimming; see package transform). Trim nil packages the whole input.
	Trim      *transform.Options
	Faststart bool
	// TrackTypes classes video by height for the key service (zero: SD ≤ 576, HD ≤ 1080, UHD1 ≤
	// 2160).
	TrackTypes keys.Thresholds
	// MultiKey gives an adaptive title a key per track type (AUDIO, SD, HD, UHD1, UHD2); without
	// it one key (requested as HD) encrypts every track of the title. A single input always
	// gets a key per track type.
	MultiKey bool
}

// CIDSource names the content ID of an input (the manual's gateway callback).
type CIDSource interface {
	CID(ctx context.Context, file string, size int64) (string, error)
}

// drmSystems are the DRM systems whose signalling the chosen outputs carry.
func drmSystems(drm []string) []pssh.SystemID {
	var out []pssh.SystemID
	for _, d := range drm {
		switch d {
		case DRMDash:
			out = append(out, pssh.Widevine, pssh.PlayReady)
		case DRMHLS:
			out = append(out, pssh.FairPlay)
		}
	}
	return out
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
	files, title := []string{input}, Title(input)
	if p.job.Renditions != nil {
		files, title = p.job.Renditions, input
		if err := checkTitle(title, files, opts.DRM); err != nil {
			return Result{}, err
		}
	}
	if len(opts.DRM) == 0 {
		return Result{}, errcode.New(errcode.InvalidArgument, "no DRM type chosen (ncg, dash, hls)")
	}
	for _, d := range opts.DRM {
		if d != DRMDash && d != DRMHLS && d != DRMNCG {
			return Result{}, errcode.New(errcode.InvalidArgument, "DRM type %q is not available (ncg, dash, hls)", d)
		}
	}
	p.log("%s Packaging start (%s)", strings.ToUpper(strings.Join(opts.DRM, "+")), time.Now().Format("2006-01-02 15:04:05"))
	var size int64
	for _, f := range files {
		n, err := CheckInput(f)
		if err != nil {
			return Result{}, err
		}
		size += n
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

	// DASH and HLS need audio or video; NCG protects any file as it is.
	var medias []*demux.Media
	types := []keys.TrackType{keys.HD}
	if slices.Contains(opts.DRM, DRMDash) || slices.Contains(opts.DRM, DRMHLS) {
		types = types[:0]
		for _, f := range files {
			m, err := demux.Open(f)
			if err != nil {
				if errors.Is(err, demux.ErrUnsupported) {
					return Result{}, errcode.New(errcode.InvalidArgument, "%s cannot be packaged for %s: %v", filepath.Base(f), strings.ToUpper(strings.Join(opts.DRM, "+")), err)
				}
				return Result{}, errcode.Wrap(errcode.FileAccess, err, "open input")
			}
			defer m.Close()
			p.describe(m)
			if m, err = p.mediaOperations(m); err != nil {
				return Result{}, err
			}
			medias = append(medias, m)
			for _, t := range dash.Selected(m) {
				if tt := dash.TrackType(t, opts.TrackTypes); !slices.Contains(types, tt) {
					types = append(types, tt)
				}
			}
		}
		if err := dash.CheckRenditions(medias, opts.SegmentDuration); err != nil {
			return Result{}, err
		}
	}
	singleKey := p.job.Renditions != nil && !opts.MultiKey
	if singleKey {
		types = []keys.TrackType{keys.HD}
	}

	cid, err := p.contentID(ctx, input, size)
	if err != nil {
		return Result{}, err
	}
	if opts.KeySource == nil {
		return Result{}, errcode.New(errcode.InvalidArgument, "no key source: pass --key KID:KEY")
	}
	keySet, err := opts.KeySource.Keys(ctx, keys.Request{CID: cid, TrackTypes: types, Systems: drmSystems(opts.DRM), Scheme: string(opts.Scheme)})
	if err != nil {
		return Result{}, errcode.Wrap(errcode.InvalidArgument, err, "keys")
	}
	if singleKey {
		keySet = oneKey(keySet)
	}

	tmp, err := os.MkdirTemp(opts.OutDir, ".drmpack-"+sanitizeTemp(title)+"-")
	if err != nil {
		return Result{}, createError(err, "create temporary folder")
	}
	defer os.RemoveAll(tmp)
	stage := filepath.Join(tmp, title)
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return Result{}, createError(err, "create "+stage)
	}
	var ncgFiles []stagedFile
	for _, f := range files {
		ncgFiles = append(ncgFiles, stagedFile{input: f, staged: filepath.Join(tmp, NCGName(f))})
	}
	started := time.Now()
	outs, err := p.packageAll(ctx, medias, stage, ncgFiles, cid, keySet)
	if err != nil {
		return Result{}, err
	}
	report := packagingReport{
		Input: filepath.Base(input), Size: size, CID: cid, Title: title, DRM: opts.DRM,
		Scheme: string(opts.Scheme), SegmentDuration: opts.SegmentDuration.Seconds(),
		Dash: outs.dash, HLS: outs.hls, NCG: outs.ncg, Started: started.UTC().Format(time.RFC3339), Elapsed: time.Since(started).Seconds(),
		titleReport: titleReport{Renditions: p.job.Renditions, MultiKey: p.job.Renditions != nil && opts.MultiKey, HLSTitle: outs.hlsTitle},
	}
	if err := writeJSON(filepath.Join(stage, "packaging.json"), report); err != nil {
		return Result{}, createError(err, "write packaging.json")
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	outTitle := filepath.Join(opts.OutDir, title)
	var outputs []string
	// NCG files are moved first; if anything after fails, the ones already moved are removed.
	for _, f := range ncgFiles[:len(outs.ncg)] {
		dst := filepath.Join(opts.OutDir, NCGName(f.input))
		if err := os.Rename(f.staged, dst); err != nil {
			removeAll(outputs)
			return Result{}, errcode.Wrap(errcode.MoveFailed, err, "move output to "+dst)
		}
		outputs = append(outputs, dst)
	}
	if err := commit(stage, outTitle, tmp); err != nil {
		removeAll(outputs)
		return Result{}, err
	}
	p.progress(1)
	p.log("Succeed packaging %s", filepath.Base(input))
	if outs.dash != nil {
		outputs = append(outputs, filepath.Join(outTitle, "dash", outs.dash.Manifest))
	}
	if outs.hls != nil {
		outputs = append(outputs, filepath.Join(outTitle, "hls", outs.hls.Index))
	}
	if outs.hlsTitle != nil {
		outputs = append(outputs, filepath.Join(outTitle, "hls", outs.hlsTitle.Index))
	}
	return Result{Outputs: outputs}, nil
}

// removeAll removes files a failed job had already moved into place.
func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// contentID is the job's CID: the one given, else the callback's answer, else one derived from
// the file name.
func (p *jobRun) contentID(ctx context.Context, input string, size int64) (string, error) {
	opts := p.job.Options
	switch {
	case opts.CID != "":
		if err := keys.ValidateCID(opts.CID); err != nil {
			return "", errcode.New(errcode.InvalidArgument, "--cid: %v", err)
		}
		return opts.CID, nil
	case opts.CIDSource != nil:
		cid, err := opts.CIDSource.CID(ctx, filepath.Base(input), size)
		if err != nil {
			return "", errcode.Wrap(errcode.ServerError, err, "CID callback")
		}
		p.log("Content ID from the callback: %s", cid)
		return cid, nil
	}
	if p.job.Renditions != nil {
		return keys.CIDFromName(input), nil
	}
	return keys.CIDFromName(Title(input)), nil
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
	HLS             *hls.Result  `json:"hls,omitempty"`
	NCG             []*ncgResult `json:"ncg,omitempty"` // one per input file
	Started         string       `json:"started"`
	Elapsed         float64      `json:"elapsedSeconds"`
	titleReport
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// CheckInput returns the size of an input file, mapping the ways it can be unusable to the
// manual's codes (1201, 1202, 1207, 1102 for a folder).
func CheckInput(path string) (int64, error) {
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
	// Mkdir itself decides whether this job created the title folder: two jobs whose inputs share
	// a title (movie.mp4 and movie.mp3) may commit at the same moment.
	createdTitle := true
	if err := os.Mkdir(outTitle, 0o755); errors.Is(err, fs.ErrExist) {
		createdTitle = false
	} else if err != nil {
		return createError(err, "create "+outTitle)
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
