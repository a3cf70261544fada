package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"drmpack/packager"
	"drmpack/packager/errcode"
	"drmpack/packager/keys"
	"drmpack/packager/keyservice"
	"drmpack/packager/keystore"
	"drmpack/settings"
)

// Key source names, as --key-source and the settings dialog give them.
const (
	sourceLocal    = "local"
	sourcePallyCon = "pallycon"
	sourceCPIX     = "cpix"
	sourceRaw      = "raw"
)

// keySources lists the key sources for help texts and the settings dialog.
var keySources = []string{sourceLocal, sourcePallyCon, sourceCPIX, sourceRaw}

// keyConfig chooses and configures a key source: the saved settings and secrets, overridden by
// the front end's choices (flags).
type keyConfig struct {
	Source      string
	RawKeys     []string // raw: --key values
	SiteID      string
	PackagerKey string
	EncToken    string
	KMSURL      string
	KMSHeaders  []string // cpix: "Name: value"
	Timeout     time.Duration
}

// keyConfigFromSettings starts a keyConfig from the saved settings and secrets.
func keyConfigFromSettings(s settings.Settings) (keyConfig, error) {
	c := keyConfig{Source: s.KeySource, SiteID: s.SiteID, KMSURL: s.KMSURL,
		Timeout: time.Duration(s.KMSTimeout * float64(time.Second))}
	var err error
	for _, sec := range []struct {
		name string
		dst  *string
	}{{settings.SecretPackagerKey, &c.PackagerKey}, {settings.SecretEncToken, &c.EncToken}} {
		if *sec.dst, err = settings.Secret(sec.name); err != nil {
			return c, err
		}
	}
	if h, err := settings.Secret(settings.SecretKMSHeader); err != nil {
		return c, err
	} else if h != "" {
		c.KMSHeaders = []string{h}
	}
	return c, nil
}

// secrets are the configured values that must never appear in an error's INFO.
func (c keyConfig) secrets() []string {
	out := []string{c.PackagerKey, c.EncToken}
	for _, h := range c.KMSHeaders {
		if _, v, ok := strings.Cut(h, ":"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// keySource builds the configured key source. Without a choice, --key values mean raw and
// otherwise the embedded local store is used, so packaging works offline on a fresh machine.
func (c keyConfig) keySource() (keys.Source, error) {
	src := strings.ToLower(c.Source)
	if src == "" {
		src = sourceLocal
		if len(c.RawKeys) > 0 {
			src = sourceRaw
		}
	}
	if len(c.RawKeys) > 0 && src != sourceRaw {
		return nil, errcode.New(errcode.InvalidArgument, "--key goes with --key-source raw, not %s", src)
	}
	transport := keyservice.Transport{Timeout: c.Timeout, Secrets: c.secrets()}
	switch src {
	case sourceRaw:
		raw, err := keys.ParseRaw(c.RawKeys)
		if err != nil {
			return nil, errcode.New(errcode.InvalidArgument, "%v", err)
		}
		if len(raw) == 0 {
			return nil, errcode.New(errcode.InvalidArgument, "no key given: pass --key KID:KEY (32 hex digits each)")
		}
		return raw, nil
	case sourceLocal:
		return openKeystore()
	case sourcePallyCon:
		token := c.EncToken
		if token == "" {
			var err error
			if token, err = keyservice.EncToken(c.SiteID, c.PackagerKey); err != nil {
				return nil, errcode.New(errcode.InvalidArgument, "%v: --site-id and --packager-key, or drmpack settings set", err)
			}
		}
		return &keyservice.PallyCon{URL: c.KMSURL, EncToken: token, Transport: transport}, nil
	case sourceCPIX:
		if c.KMSURL == "" {
			return nil, errcode.New(errcode.InvalidArgument, "--key-source cpix needs --kms-url")
		}
		header := http.Header{}
		for _, h := range c.KMSHeaders {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return nil, errcode.New(errcode.InvalidArgument, "--kms-header: want 'Name: value'")
			}
			header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		return &keyservice.CPIX{URL: c.KMSURL, Header: header, Transport: transport}, nil
	}
	return nil, errcode.New(errcode.InvalidArgument, "--key-source %q: want one of %s", c.Source, strings.Join(keySources, ", "))
}

// cidSource is the CID callback, when one is configured.
func cidSource(url, method string, timeout time.Duration) (packager.CIDSource, error) {
	if url == "" {
		return nil, nil
	}
	method = strings.ToUpper(method)
	if method != "" && method != http.MethodGet && method != http.MethodPost {
		return nil, errcode.New(errcode.InvalidArgument, "CID callback method %q: want GET or POST", method)
	}
	return &keyservice.CIDCallback{URL: url, Method: method, Transport: keyservice.Transport{Timeout: timeout}}, nil
}

// openKeystore opens the local key store in the config folder. Its master key is a secret
// (the OS keychain, or the documented fallback file); the first use creates both.
func openKeystore() (*keystore.Store, error) {
	dir, err := settings.ConfigDir()
	if err != nil {
		return nil, errcode.Wrap(errcode.Unexpected, err, "config folder")
	}
	master, err := settings.Secret(settings.SecretKeystoreMaster)
	if err != nil {
		return nil, errcode.Wrap(errcode.Unexpected, err, "key store master key")
	}
	var key []byte
	if master == "" {
		key = make([]byte, keystore.MasterKeySize)
		rand.Read(key)
		if err := settings.SetSecret(settings.SecretKeystoreMaster, base64.StdEncoding.EncodeToString(key)); err != nil {
			return nil, errcode.Wrap(errcode.Unexpected, err, "save the key store master key")
		}
	} else if key, err = base64.StdEncoding.DecodeString(master); err != nil {
		return nil, errcode.New(errcode.Unexpected, "the key store master key in %s is damaged", settings.SecretBackend())
	}
	path := filepath.Join(dir, "keystore.db")
	st, err := keystore.Open(path, key)
	if errors.Is(err, keystore.ErrWrongMasterKey) {
		return nil, errcode.New(errcode.Unexpected, "%v: %s was sealed with a master key that %s no longer holds", err, path, settings.SecretBackend())
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.Unexpected, err, "local key store")
	}
	return st, nil
}
