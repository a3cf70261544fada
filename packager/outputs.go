package packager

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"drmpack/packager/dash"
	"drmpack/packager/demux"
	"drmpack/packager/hls"
	"drmpack/packager/keys"
)

// sharedReadLimit is how much sample data per track DASH and HLS keep for each other: the
// output ahead waits beyond it (a few segments of a high-bitrate track).
const sharedReadLimit = 16 << 20

// outputs are the results of one job's output types.
type outputs struct {
	dash     *dash.Result
	hls      *hls.Result
	hlsTitle *hls.TitleResult // an adaptive title's HLS (instead of hls)
	ncg      []*ncgResult     // one per input file
}

// packageAll writes every requested output type of the opened input (or an adaptive title's
// renditions) into stage/<type>. The types run concurrently on the same index and file: each input
// is parsed once, and DASH and HLS share their sample reads (demux.Sharing), so each sample is read
// from the file once.
//
// NCG protects each input file itself (medias is nil for an NCG-only job, which may take any
// file) into its staged path.
func (p *jobRun) packageAll(ctx context.Context, medias []*demux.Media, stage string, ncgFiles []stagedFile, cid string, keySet keys.Set) (outputs, error) {
	opts := p.job.Options
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out outputs
	type task struct {
		dir  string // the output's folder in stage; empty for NCG's single file
		run  func(dir string, progress func(float64)) error
		done func() // when set, called once run has returned
	}
	var tasks []task
	dashMedias, hlsMedias := medias, medias
	var dashDone, hlsDone func()
	if slices.Contains(opts.DRM, DRMDash) && slices.Contains(opts.DRM, DRMHLS) {
		share := demux.NewSharing(ctx, sharedReadLimit)
		dashMedias, dashDone = share.Views(medias)
		hlsMedias, hlsDone = share.Views(medias)
	}
	if slices.Contains(opts.DRM, DRMDash) {
		tasks = append(tasks, task{"dash", func(dir string, progress func(float64)) (err error) {
			out.dash, err = dash.PackageRenditions(ctx, dashMedias, dir, dash.Options{
				SegmentDuration: opts.SegmentDuration, Scheme: opts.Scheme, Keys: keySet, CID: cid,
				PlayReadyLAURL: opts.PlayReadyLAURL, WidevineProvider: opts.WidevineProvider, TrackTypes: opts.TrackTypes,
			}, progress)
			return err
		}, dashDone})
	}
	if slices.Contains(opts.DRM, DRMHLS) {
		tasks = append(tasks, task{"hls", func(dir string, progress func(float64)) (err error) {
			ho := opts.HLS
			ho.Keys, ho.Alternates, ho.TrackTypes = keySet, true, opts.TrackTypes
			if ho.Duration == 0 {
				ho.Duration = hls.DefaultDuration
			}
			if ho.Method == hls.Clear {
				ho.Method = hls.SampleAES // DRM packaging always encrypts
			}
			if ho.IndexVersion == 0 {
				ho.IndexVersion = 3
			}
			if len(hlsMedias) > 1 {
				out.hlsTitle, err = hls.PackageRenditions(ctx, hlsMedias, dir, ho, progress)
				return err
			}
			out.hls, err = hls.Package(ctx, hlsMedias[0], dir, ho, progress)
			return err
		}, hlsDone})
	}
	if slices.Contains(opts.DRM, DRMNCG) {
		out.ncg = make([]*ncgResult, len(ncgFiles))
		for i, f := range ncgFiles {
			tasks = append(tasks, task{"", func(_ string, progress func(float64)) (err error) {
				out.ncg[i], err = p.writeNCG(ctx, f.input, f.staged, cid, keySet, progress)
				return err
			}, nil})
		}
	}
	fractions := make([]float64, len(tasks))
	var mu sync.Mutex
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for _, t := range tasks {
		if t.dir != "" {
			if err := os.MkdirAll(filepath.Join(stage, t.dir), 0o755); err != nil {
				return out, createError(err, "create "+filepath.Join(stage, t.dir))
			}
		}
	}
	for i, t := range tasks {
		dir := filepath.Join(stage, t.dir)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = t.run(dir, func(f float64) {
				mu.Lock()
				fractions[i] = f
				var sum float64
				for _, x := range fractions {
					sum += x
				}
				mu.Unlock()
				p.progress(sum / float64(len(fractions)))
			})
			if t.done != nil {
				t.done()
			}
			if errs[i] != nil {
				cancel() // the job fails as a whole; stop the other output early
			}
		}()
	}
	wg.Wait()
	// The first real failure, not the cancellation it caused in the other output.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return out, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	if out.dash != nil {
		for _, t := range out.dash.Tracks {
			p.log("Encrypted %s track %s (%s) with KID %s into %d segments", t.Kind, t.Representation, t.Codecs, t.KID, t.Segments)
		}
		for _, s := range out.dash.Shared {
			p.log("Identical to a track already packaged, shared: %s", s)
		}
	}
	for _, n := range out.ncg {
		p.log("NCG (drmpack container) %s with KID %s: %d bytes in %d chunks", n.File, n.KID, n.Size, n.Chunks)
	}
	hlsResults := []*hls.Result{out.hls}
	if out.hlsTitle != nil {
		hlsResults = out.hlsTitle.Renditions
	}
	for _, h := range hlsResults {
		if h != nil {
			p.log("HLS %s (%s) with KID %s into %d segments, key URI %s", strings.ToUpper(h.Method), strings.Join(h.Codecs, ","), h.KID, h.Segments, h.KeyURI)
		}
	}
	return out, nil
}
