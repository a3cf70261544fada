package hls

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drmpack/internal/mediatest"
	"drmpack/packager/demux"
	"drmpack/packager/errcode"
	"drmpack/packager/ts"
)

// withoutCC clears every packet's continuity counter.
func withoutCC(b []byte) []byte {
	c := bytes.Clone(b)
	for i := 0; i+ts.PacketSize <= len(c); i += ts.PacketSize {
		c[i+3] &^= 0x0F
	}
	return c
}

// TestOnDemandMatchesPackage: the on-demand playlists and segments are Package's files, apart
// from the segment URIs and the continuity counters of segments after the first.
func TestOnDemandMatchesPackage(t *testing.T) {
	dir := mediatest.Media(t)
	for _, name := range []string{"h264_aac_moov_end.mp4", "audio.mp3"} {
		for _, alternates := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/alternates=%v", name, alternates), func(t *testing.T) {
				m, err := demux.Open(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				opts := Options{Duration: 4 * time.Second, Sequence: 7, IndexVersion: 3, Alternates: alternates}
				out := t.TempDir()
				res, err := Package(context.Background(), m, out, opts, nil)
				if err != nil {
					t.Fatal(err)
				}
				od, err := NewOnDemand(m, opts, func(seq int) string {
					if seq < 0 {
						return AlternatesName
					}
					return fmt.Sprintf("%d.ts", seq)
				})
				if err != nil {
					t.Fatal(err)
				}
				if od.Segments() != res.Segments || od.Segments() < 2 {
					t.Fatalf("%d segments on demand, %d packaged", od.Segments(), res.Segments)
				}
				index, _ := os.ReadFile(filepath.Join(out, IndexName))
				if alternates {
					media, _ := os.ReadFile(filepath.Join(out, AlternatesName))
					if got, ok := od.Playlist(); !ok || got != string(media) {
						t.Fatalf("playlist:\n%s\nwant\n%s", got, media)
					}
					// BANDWIDTH is estimated without muxing: same master apart from the figures.
					if !strings.Contains(od.Index(), "RESOLUTION=") == strings.Contains(string(index), "RESOLUTION=") ||
						!strings.HasSuffix(od.Index(), "\n"+AlternatesName+"\n") {
						t.Fatalf("master:\n%s\nwant like\n%s", od.Index(), index)
					}
					got, want := bandwidth(t, od.Index()), bandwidth(t, string(index))
					if got < want*95/100 || got > want*105/100 {
						t.Fatalf("estimated BANDWIDTH %d, muxed %d", got, want)
					}
				} else if od.Index() != string(index) {
					t.Fatalf("index:\n%s\nwant\n%s", od.Index(), index)
				}
				for k := range od.Segments() {
					seq := opts.Sequence + k
					got, err := od.Segment(seq)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := os.ReadFile(filepath.Join(out, fmt.Sprintf("%d.ts", seq)))
					if k == 0 && !bytes.Equal(got, want) {
						t.Fatalf("segment %d differs from the packaged one", seq)
					}
					if !bytes.Equal(withoutCC(got), withoutCC(want)) {
						t.Fatalf("segment %d differs from the packaged one beyond continuity counters", seq)
					}
				}
				for _, seq := range []int{opts.Sequence - 1, opts.Sequence + od.Segments()} {
					if _, err := od.Segment(seq); errcode.CodeOf(err) != errcode.FileNotFound {
						t.Fatalf("segment %d: %v, want %d", seq, err, errcode.FileNotFound)
					}
				}
			})
		}
	}
}

func bandwidth(t *testing.T, master string) int64 {
	t.Helper()
	var bw int64
	_, rest, _ := strings.Cut(master, "BANDWIDTH=")
	if _, err := fmt.Sscanf(rest, "%d", &bw); err != nil {
		t.Fatalf("no BANDWIDTH in\n%s", master)
	}
	return bw
}
