package app

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"drmpack/packager/errcode"
	"drmpack/packager/server"
)

// previewServer is the origin server the window's Preview starts on the loopback interface,
// serving one destination folder; a Preview of another folder replaces it.
type previewServer struct {
	mu   sync.Mutex
	dir  string
	base string
	hs   *http.Server
	srv  *server.Server
}

// Preview serves dir (the destination folder) and returns the URL of its preview page, which
// lists the packaged titles and plays them with the local key store's keys.
func (g *GUI) Preview(dir string) (string, error) {
	if dir == "" {
		return "", errcode.New(errcode.InvalidArgument, "choose the destination folder to preview")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", errcode.Wrap(errcode.InvalidArgument, err, "destination folder")
	}
	return g.preview.start(abs)
}

func (p *previewServer) start(dir string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hs != nil && p.dir == dir {
		return p.base + server.PreviewPrefix, nil
	}
	p.stopLocked()
	srv, err := server.New(dir, nil, nil)
	if err != nil {
		return "", err
	}
	store, err := openKeystore()
	if err != nil {
		srv.Close()
		return "", err
	}
	srv.PreviewKeys = previewKeys(store)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return "", errcode.Wrap(errcode.Unexpected, err, "preview server")
	}
	p.dir, p.base, p.srv = dir, "http://"+ln.Addr().String(), srv
	p.hs = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go p.hs.Serve(ln)
	return p.base + server.PreviewPrefix, nil
}

func (p *previewServer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *previewServer) stopLocked() {
	if p.hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p.hs.Shutdown(ctx)
	p.srv.Close()
	p.hs, p.srv = nil, nil
}
