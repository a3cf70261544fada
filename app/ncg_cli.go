package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"drmpack/packager"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/ncg"
)

var ncgDecryptFlags = []flagSpec{
	{names: []string{"--out", "-o"}, value: "FILE", help: "where the original is written (required)"},
	{names: []string{"--key"}, value: "[KID:]KEY", help: "the content key in hex (default: the local key store's key for the file's CID and KID)"},
}

// ncgCommand runs `drmpack ncg decrypt|info`: drmpack's own whole-file container
// (docs/ncg-format.md), not the vendor's NCG format.
func ncgCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack ncg decrypt IN.ncg -o OUT [--key [KID:]KEY] | drmpack ncg info IN.ncg"
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, usage))
	}
	switch args[0] {
	case "info":
		if len(args) != 2 {
			return usageError(stderr, errcode.New(errcode.ArgumentCount, usage))
		}
		return ncgInfo(args[1], stdout, stderr)
	case "decrypt":
		p, err := parseArgs(args[1:], ncgDecryptFlags)
		if err != nil {
			return usageError(stderr, errcode.From(err))
		}
		if len(p.positional) != 1 || p.get("--out") == "" {
			return usageError(stderr, errcode.New(errcode.ArgumentCount, usage))
		}
		if err := ncgDecrypt(p.positional[0], p.get("--out"), p.get("--key"), stderr); err != nil {
			return failed(stderr, err)
		}
		return exitOK
	}
	return usageError(stderr, errcode.New(errcode.InvalidArgument, "unknown ncg command %q: %s", args[0], usage))
}

// openNCGFile opens a protected file and reads its header.
func openNCGFile(path string) (*os.File, *ncg.Header, error) {
	size, err := packager.CheckInput(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, errcode.Wrap(errcode.FileAccess, err, path)
	}
	h, _, err := ncg.ReadHeader(f, size)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, h, nil
}

func ncgInfo(path string, stdout, stderr io.Writer) int {
	f, h, err := openNCGFile(path)
	if err != nil {
		return failed(stderr, err)
	}
	defer f.Close()
	fmt.Fprintf(stdout, "format:     drmpack NCG container v%d (drmpack's own, documented in docs/ncg-format.md; not the vendor's NCG)\n", ncg.Version)
	fmt.Fprintf(stdout, "cid:        %s\nkid:        %s\nname:       %s\nmedia type: %s\n", h.CID, h.KID.UUID(), h.Name, h.MediaType)
	fmt.Fprintf(stdout, "size:       %d bytes\nchunks:     %d of %d bytes (AES-128-GCM, one tag each)\ncreated:    %s\n",
		h.Size, h.Chunks(), h.ChunkSize(), h.Created.Format(time.RFC3339))
	return exitOK
}

// ncgKey is the content key for a protected file: --key, else the local key store's key with
// the file's CID and KID.
func ncgKey(h *ncg.Header, flag string) (keys.Secret, error) {
	var key keys.Secret
	if flag != "" {
		kidHex, keyHex, hasKID := strings.Cut(flag, ":")
		if !hasKID {
			kidHex, keyHex = "", kidHex
		}
		raw, err := hex.DecodeString(strings.ReplaceAll(keyHex, "-", ""))
		if err != nil || len(raw) != 16 {
			return key, errcode.New(errcode.InvalidArgument, "--key: want [KID:]KEY, the key as 32 hex digits")
		}
		if hasKID {
			kid, err := keys.ParseKID(kidHex)
			if err != nil {
				return key, errcode.New(errcode.InvalidArgument, "--key: %v", err)
			}
			if kid != h.KID {
				return key, errcode.New(errcode.InvalidKey, "--key is for KID %s, the file needs KID %s", kid.UUID(), h.KID.UUID())
			}
		}
		copy(key[:], raw)
		return key, nil
	}
	st, err := openKeystore()
	if err != nil {
		return key, err
	}
	entries, err := st.Entries(h.CID)
	if err != nil {
		return key, errcode.Wrap(errcode.Unexpected, err, "read the key store")
	}
	for _, e := range entries {
		if e.Key.KID == h.KID {
			return e.Key.Key, nil
		}
	}
	return key, errcode.New(errcode.NoPrivateKey, "no key for KID %s (content ID %q) in the local key store: pass --key", h.KID.UUID(), h.CID)
}

// ncgDecrypt writes the original of in to out through a temporary file, so a wrong key or a
// damaged chunk leaves nothing at out.
func ncgDecrypt(in, out, keyFlag string, stderr io.Writer) error {
	f, h, err := openNCGFile(in)
	if err != nil {
		return err
	}
	defer f.Close()
	key, err := ncgKey(h, keyFlag)
	if err != nil {
		return err
	}
	r, err := ncg.Open(f, h.FileSize(), key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".drmpack-ncg-*.tmp")
	if err != nil {
		return errcode.Wrap(errcode.CreateTooDeep, err, "create "+out)
	}
	defer os.Remove(tmp.Name())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = r.Decrypt(ctx, tmp, nil)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = errcode.Wrap(errcode.CreateNoSpace, cerr, "write "+out)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return errcode.Wrap(errcode.MoveFailed, err, "move into "+out)
	}
	fmt.Fprintf(stderr, "decrypted %s → %s (%d bytes, original name %q)\n", in, out, h.Size, h.Name)
	return nil
}
