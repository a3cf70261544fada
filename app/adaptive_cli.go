package app

import (
	"drmpack/packager"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
)

var adaptiveFlags = []flagSpec{
	{names: []string{"--adaptive"}, bool: true, help: "package the inputs as renditions of one title (--name) or of titles named by their files (movie_720p.mp4 → movie)"},
	{names: []string{"--name"}, value: "TITLE", help: "with --adaptive: every input is a rendition of this title (OUT/TITLE/...)"},
	{names: []string{"--multi-key"}, bool: true, help: "with --adaptive: a key per track type (AUDIO, SD, HD, UHD1, UHD2) instead of one key for the title"},
	{names: []string{"--track-type-heights"}, value: "SD,HD,UHD1", help: "tallest video of the SD, HD and UHD1 key types in lines (default 576,1080,2160)"},
}

// adaptiveOptions reads the adaptive streaming and multi-key flags into opts.
func adaptiveOptions(p parsedArgs, opts *packager.Options) error {
	if p.has("--name") && !p.has("--adaptive") {
		return errcode.New(errcode.InvalidArgument, "--name names an adaptive title: add --adaptive")
	}
	opts.MultiKey = p.has("--multi-key")
	if v := p.get("--track-type-heights"); v != "" {
		th, err := keys.ParseThresholds(v)
		if err != nil {
			return errcode.New(errcode.InvalidArgument, "--track-type-heights %v", err)
		}
		opts.TrackTypes = th
	}
	return nil
}

// addJobs queues the command line's inputs: a job per file, or with --adaptive a job per title
// (all files for --name, else the files grouped by packager.RenditionTitle).
func addJobs(q *packager.Queue, p parsedArgs, opts packager.Options) {
	if !p.has("--adaptive") {
		for _, in := range p.positional {
			q.Add(in, opts)
		}
		return
	}
	if name := p.get("--name"); name != "" {
		q.AddTitle(name, p.positional, opts)
		return
	}
	titles, groups := packager.GroupRenditions(p.positional)
	for _, t := range titles {
		q.AddTitle(t, groups[t], opts)
	}
}
