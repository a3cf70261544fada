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

// outputs are the results of one job's output types.
type outputs struct {
	dash     *dash.Result
	hls      *hls.Result
	hlsTitle *hls.TitleResult // an adaptive title's HLS (instead of hls)
	ncg      []*ncgResult     // one per input file
}

// packageAll writes every requested output type of the opened input (or an adaptive title's
// renditions) into stage/<type>. The types run concurrently on the same index and file: each input
// is parsed once, and the second reader of each sample finds it in the page cache.
//
// NCG protects each input file itself (medias is nil for an NCG-only job, which may take any
// file) into its staged path.
func (p *jobRun) packageAll(ctx context.Context, medias []*demux.Media, stage string, ncgFiles []stagedFile, cid string, keySet keys.Set) (outputs, error) {
	opts := p.job.Options
	var out outputs
	type task struct {
		dir string // the output's folder in stage; empty for NCG's single file
		run func(dir string, progress func(float64)) error
	}
	var tasks []task
	if slices.Contains(opts.DRM, DRMDash) {
		tasks = append(tasks, task{"dash", func(dir string, progress func(float64)) (err error) {
			out.dash, err = dash.PackageRenditions(ctx, medias, dir, dash.Options{
				SegmentDuration: opts.SegmentDuration, Scheme: opts.Scheme, Keys: keySet, CID: cid,
				PlayReadyLAURL: opts.PlayReadyLAURL, WidevineProvider: opts.WidevineProvider, TrackTypes: opts.TrackTypes,
			}, progress)
			return err
		}})
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
			if len(medias) > 1 {
				out.hlsTitle, err = hls.PackageRenditions(ctx, medias, dir, ho, progress)
				return err
			}
			out.hls, err = hls.Package(ctx, medias[0], dir, ho, progress)
			return err
		}})
	}
	if slices.Contains(opts.DRM, DRMNCG) {
		out.ncg = make([]*ncgResult, len(ncgFiles))
		for i, f := range ncgFiles {
			tasks = append(tasks, task{"", func(_ string, progress func(float64)) (err error) {
				out.ncg[i], err = p.writeNCG(ctx, f.input, f.staged, cid, keySet, progress)
				return err
			}})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fractions := make([]float64, len(tasks))
	var mu sync.Mutex
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, t := range tasks {
		dir := filepath.Join(stage, t.dir)
		if t.dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return out, createError(err, "create "+dir)
			}
		}
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
