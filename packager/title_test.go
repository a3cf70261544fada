package packager_test

import (
	"reflect"
	"strings"
	"testing"

	"drmpack/packager"
)

func TestRenditionTitle(t *testing.T) {
	for file, want := range map[string]string{
		"movie_1080p.mp4":      "movie",
		"/in/movie-720.mp4":    "movie",
		"movie_3000k.mp4":      "movie",
		"movie.4.5M.mp4":       "movie",
		"movie 800kbps.m4a":    "movie",
		"movie_1280x720.mp4":   "movie",
		"Movie_2160P.MP4":      "Movie",
		"movie.mp4":            "movie",
		"1080p.mp4":            "1080p", // nothing would be left
		"season_2_episode.mp4": "season_2_episode",
		"한글 제목 01_360p.mp4":    "한글 제목 01",
		"trailer_v2_480p.mp4":  "trailer_v2",
		"movie_720p_3000k.mp4": "movie",
		"movie_0720.mp4":       "movie",
		"movie_12.mp4":         "movie_12", // two digits are not a rendition marker
	} {
		if got := packager.RenditionTitle(file); got != want {
			t.Errorf("RenditionTitle(%q) = %q, want %q", file, got, want)
		}
	}
}

func TestGroupRenditions(t *testing.T) {
	titles, groups := packager.GroupRenditions([]string{"b_720p.mp4", "a_360p.mp4", "b_360p.mp4", "c.mp4", "a_720p.mp4"})
	if !reflect.DeepEqual(titles, []string{"b", "a", "c"}) {
		t.Errorf("titles %q", titles)
	}
	want := map[string][]string{"a": {"a_360p.mp4", "a_720p.mp4"}, "b": {"b_720p.mp4", "b_360p.mp4"}, "c": {"c.mp4"}}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("groups %q", groups)
	}
}

func FuzzRenditionTitle(f *testing.F) {
	for _, s := range []string{"movie_1080p.mp4", "movie-720.mp4", "a_3000k_720p.mp4", "1080p.mp4", "x.4.5M.m4a", "한글_360p.mp4", "_720"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		title, got := packager.Title(file), packager.RenditionTitle(file)
		if !strings.HasPrefix(title, got) || (title != "" && got == "") {
			t.Fatalf("RenditionTitle(%q) = %q, not a non-empty prefix of %q", file, got, title)
		}
	})
}
