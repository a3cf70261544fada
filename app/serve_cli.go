package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"drmpack/packager/errcode"
	"drmpack/packager/keystore"
	"drmpack/packager/server"
	"drmpack/settings"
)

var serveFlags = []flagSpec{
	{names: []string{"--root"}, value: "DIR", help: "folder to serve (default: the saved destination folder)"},
	{names: []string{"--listen"}, value: "ADDR", help: "address to listen on (default 127.0.0.1:8080)"},
	{names: []string{"--config"}, value: "FILE", help: "server.xml with the media server's <Server><VHostDefault><Media> and <Options><Dims> settings (default: all off)"},
	{names: []string{"--access-log"}, value: "FILE", help: "append one JSON line per request to FILE (default: stderr)"},
	{names: []string{"--preview-keys"}, bool: true, help: "give /_preview/ pages the local key store's keys as ClearKey keys (loopback clients only)"},
}

// serveCommand runs `drmpack serve`: the origin server over a folder, until SIGINT or SIGTERM,
// after which requests in progress get ten seconds to finish.
func serveCommand(args []string, stdout, stderr io.Writer) int {
	p, err := parseArgs(args, serveFlags)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	if len(p.positional) > 0 {
		return usageError(stderr, errcode.New(errcode.ArgumentCount, "usage: drmpack serve [--root DIR] [--listen ADDR] [--config server.xml] [--access-log FILE]"))
	}
	root := p.get("--root")
	if root == "" {
		s, err := settings.Load()
		if err != nil {
			return usageError(stderr, errcode.Wrap(errcode.InvalidArgument, err, "settings file"))
		}
		if root = s.OutDir; root == "" {
			return usageError(stderr, errcode.New(errcode.InvalidArgument, "drmpack serve needs --root DIR (no destination folder is saved)"))
		}
	}
	cfg := server.DefaultConfig()
	if path := p.get("--config"); path != "" {
		if cfg, err = server.LoadConfig(path); err != nil {
			return usageError(stderr, errcode.From(err))
		}
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "warning: %s: %s\n", p.get("--config"), w)
	}
	accessLog := stderr
	if path := p.get("--access-log"); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return failed(stderr, errcode.Wrap(errcode.FileAccess, err, "--access-log"))
		}
		defer f.Close()
		accessLog = f
	}
	srv, err := server.New(root, cfg, accessLog)
	if err != nil {
		return failed(stderr, err)
	}
	defer srv.Close()
	if p.has("--preview-keys") {
		store, err := openKeystore()
		if err != nil {
			return failed(stderr, err)
		}
		srv.PreviewKeys = previewKeys(store)
	}
	addr := p.get("--listen")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	// Signals are caught from before the address is announced, so a supervisor (or a test) that
	// stops the server as soon as it is up gets a graceful shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return failed(stderr, errcode.Wrap(errcode.InvalidArgument, err, "--listen"))
	}
	fmt.Fprintf(stdout, "drmpack serving %s on http://%s/\n", root, ln.Addr())
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// No WriteTimeout: a slow client may take hours over a large file; an idle one is cut
		// by the kernel's TCP timeouts.
	}
	if err := serveUntil(ctx, hs, ln, 10*time.Second); err != nil {
		return failed(stderr, errcode.Wrap(errcode.Unexpected, err, "serve"))
	}
	return exitOK
}

// serveUntil serves ln until ctx ends, then shuts down gracefully, giving the requests in
// progress up to grace to finish.
func serveUntil(ctx context.Context, hs *http.Server, ln net.Listener, grace time.Duration) error {
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// previewKeys gives the preview page a content ID's keys from the local key store.
func previewKeys(store *keystore.Store) func(cid string) (map[string]string, error) {
	return func(cid string) (map[string]string, error) {
		entries, err := store.Entries(cid)
		out := map[string]string{}
		for _, e := range entries {
			out[e.Key.KID.Hex()] = e.Key.Key.Hex()
		}
		return out, err
	}
}
