package hls

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"drmpack/internal/mediatest"
	"drmpack/packager/demux"
	"drmpack/packager/keys"
	"drmpack/packager/ts"
)

// TestSegmentsAreOneContinuousStream packages with short segments, so that several workers mux
// them concurrently, and checks the segments in playlist order as one stream: every PID's
// continuity counter advances by one per packet across segment boundaries, every segment opens
// with the PAT and the PMT, and every packet starts with the sync byte.
func TestSegmentsAreOneContinuousStream(t *testing.T) {
	set, err := keys.ParseRaw([]string{"6bac8ec30ee3379f3d21290b3a2bc9c3:3a54452ba2d2cad16bd879cdd47ab05b"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := demux.Open(filepath.Join(mediatest.Media(t), "h264_aac_moov_end.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	res, err := Package(context.Background(), m, dir, Options{Duration: 2 * time.Second, IndexVersion: 3, Method: SampleAES, Keys: keys.Set(set), Sequence: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Segments != 4 {
		t.Fatalf("%d segments, want 4", res.Segments)
	}
	next := map[int]byte{}
	for k := range res.Segments {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.ts", k+1)))
		if err != nil {
			t.Fatal(err)
		}
		if len(b)%ts.PacketSize != 0 {
			t.Fatalf("segment %d: %d bytes is not whole packets", k, len(b))
		}
		for i := 0; i < len(b); i += ts.PacketSize {
			pkt := b[i : i+ts.PacketSize]
			pid := int(pkt[1]&0x1F)<<8 | int(pkt[2])
			if pkt[0] != 0x47 {
				t.Fatalf("segment %d packet %d: no sync byte", k, i/ts.PacketSize)
			}
			if i == 0 && pid != 0 || i == ts.PacketSize && pid != 0x1000 {
				t.Fatalf("segment %d packet %d: PID 0x%X, want the PAT then the PMT (0x1000)", k, i/ts.PacketSize, pid)
			}
			cc := pkt[3] & 0x0F
			if want, seen := next[pid]; seen && cc != want {
				t.Fatalf("segment %d packet %d: PID 0x%X continuity counter %d, want %d", k, i/ts.PacketSize, pid, cc, want)
			}
			next[pid] = (cc + 1) & 0x0F
		}
	}
}
