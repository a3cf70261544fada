//go:build linux

package packager_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"drmpack/internal/mediatest"
	"drmpack/packager"
	"drmpack/packager/demux"
)

// bytesRead returns the bytes this process has read through read system calls so far (rchar:
// page cache hits included, unlike disk statistics).
func bytesRead(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("rchar: ")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}

// readWhilePackaging packages input for drm and returns the bytes read meanwhile.
func readWhilePackaging(t *testing.T, input string, drm ...string) int64 {
	t.Helper()
	opts := options(t, t.TempDir())
	opts.DRM = drm
	q := packager.NewQueue(1, nil)
	j := q.Add(input, opts)
	before := bytesRead(t)
	q.Start(context.Background())
	q.Wait()
	read := bytesRead(t) - before
	if j.Status() != packager.Succeed {
		t.Fatalf("%v: %+v", drm, j.Result().Err)
	}
	return read
}

// TestDashAndHLSReadTheInputOnce: packaging DASH and HLS in one job reads each sample from the
// file once (demux.Sharing), where the two packaged one after the other read them twice.
func TestDashAndHLSReadTheInputOnce(t *testing.T) {
	input := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	m, err := demux.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	var samples int64
	for _, tr := range m.Tracks {
		for _, s := range tr.Samples {
			samples += int64(s.Size)
		}
	}
	m.Close()
	both := readWhilePackaging(t, input, packager.DRMDash, packager.DRMHLS)
	apart := readWhilePackaging(t, input, packager.DRMDash) + readWhilePackaging(t, input, packager.DRMHLS)
	t.Logf("sample bytes %d; read %d packaging DASH and HLS together, %d apart", samples, both, apart)
	if both > samples*11/10 {
		t.Errorf("DASH and HLS together read %d bytes for %d bytes of samples", both, samples)
	}
	if apart < samples*19/10 {
		t.Errorf("apart they read only %d bytes: the measure does not see the second read", apart)
	}
}
