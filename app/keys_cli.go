package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"drmpack/internal/atomicfile"
	"drmpack/packager/errcode"
	"drmpack/packager/kms"
	"drmpack/settings"
)

var keysExportFlags = []flagSpec{
	{names: []string{"--cid"}, value: "ID", help: "the content ID whose keys are exported (required)"},
	{names: []string{"--out", "-o"}, value: "FILE", help: "where the CPIX document is written; - for stdout (required)"},
	{names: []string{"--scheme"}, value: "cenc|cbcs", help: "scheme the pssh boxes and CPIX name (default: settings, else cenc)"},
	{names: []string{"--playready-la-url"}, value: "URL", help: "LA_URL in the PlayReady header"},
	{names: []string{"--widevine-provider"}, value: "NAME", help: "provider in the Widevine pssh"},
}

var keysListFlags = []flagSpec{
	{names: []string{"--cid"}, value: "ID", help: "only this content ID"},
}

// keysCommand runs `drmpack keys export|list`: the local key store's content.
func keysCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack keys export --cid ID -o FILE | drmpack keys list [--cid ID]"
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, usage))
	}
	switch args[0] {
	case "export":
		return keysExport(args[1:], stdout, stderr)
	case "list":
		p, err := parseArgs(args[1:], keysListFlags)
		if err != nil {
			return usageError(stderr, errcode.From(err))
		}
		if len(p.positional) > 0 {
			return usageError(stderr, errcode.New(errcode.ArgumentCount, usage))
		}
		st, err := openKeystore()
		if err != nil {
			return failed(stderr, err)
		}
		entries, err := st.Entries(p.get("--cid"))
		if err != nil {
			return failed(stderr, errcode.Wrap(errcode.Unexpected, err, "read the key store"))
		}
		for _, e := range entries {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", e.CID, e.TrackType, e.Key.KID.UUID(), e.Created.Format(time.RFC3339))
		}
		return exitOK
	}
	return usageError(stderr, errcode.New(errcode.InvalidArgument, "unknown keys command %q: %s", args[0], usage))
}

func keysExport(args []string, stdout, stderr io.Writer) int {
	p, err := parseArgs(args, keysExportFlags)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	cid, out := p.get("--cid"), p.get("--out")
	if cid == "" || out == "" || len(p.positional) > 0 {
		return usageError(stderr, errcode.New(errcode.ArgumentCount, "usage: drmpack keys export --cid ID -o FILE"))
	}
	s, err := settings.Load()
	if err != nil {
		return usageError(stderr, errcode.Wrap(errcode.InvalidArgument, err, "settings file"))
	}
	sig := kms.Signalling{WidevineProvider: s.WidevineProvider, PlayReadyLAURL: s.PlayReadyLAURL}
	scheme := s.Scheme
	for flag, dst := range map[string]*string{"--scheme": &scheme, "--playready-la-url": &sig.PlayReadyLAURL, "--widevine-provider": &sig.WidevineProvider} {
		if v := p.get(flag); v != "" {
			*dst = v
		}
	}
	if scheme != "cenc" && scheme != "cbcs" {
		return usageError(stderr, errcode.New(errcode.InvalidArgument, "--scheme %q: want cenc or cbcs", scheme))
	}
	st, err := openKeystore()
	if err != nil {
		return failed(stderr, err)
	}
	entries, err := st.Entries(cid)
	if err != nil {
		return failed(stderr, errcode.Wrap(errcode.Unexpected, err, "read the key store"))
	}
	if len(entries) == 0 {
		return failed(stderr, errcode.New(errcode.InvalidArgument, "the local key store has no keys for content ID %q (package it with --key-source local first)", cid))
	}
	doc, err := kms.Export(entries, cid, scheme, sig)
	if err != nil {
		return failed(stderr, errcode.Wrap(errcode.InvalidArgument, err, "CPIX export"))
	}
	if out == "-" {
		stdout.Write(doc.Marshal())
		return exitOK
	}
	// The document holds the keys in the clear: only the user may read it.
	if err := atomicfile.Write(out, doc.Marshal(), 0o600); err != nil {
		return failed(stderr, errcode.Wrap(errcode.FileAccess, err, "write "+out))
	}
	fmt.Fprintf(stderr, "wrote %s: CPIX %s, %d key(s) for content ID %q\n", out, "2.3", len(entries), cid)
	return exitOK
}

// failed prints a failure's XML block and returns the failed-job exit status.
func failed(stderr io.Writer, err error) int {
	fmt.Fprint(stderr, errcode.From(err).Report())
	return exitFailed
}

var kmsServeFlags = []flagSpec{
	{names: []string{"--listen"}, value: "ADDR", help: "address to listen on (default 127.0.0.1:8180)"},
	{names: []string{"--token"}, value: "TOKEN", help: "token clients must send (default: $DRMPACK_KMS_TOKEN, else settings kms-token)"},
	{names: []string{"--playready-la-url"}, value: "URL", help: "LA_URL in the PlayReady headers it answers"},
	{names: []string{"--widevine-provider"}, value: "NAME", help: "provider in the Widevine pssh boxes it answers"},
}

// kmsCommand runs `drmpack kms serve`: the local key store as a CPIX 2.3 HTTP key server.
func kmsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		return usageError(stderr, errcode.New(errcode.NoArguments, "usage: drmpack kms serve --listen 127.0.0.1:PORT --token TOKEN"))
	}
	p, err := parseArgs(args[1:], kmsServeFlags)
	if err != nil {
		return usageError(stderr, errcode.From(err))
	}
	s, err := settings.Load()
	if err != nil {
		return usageError(stderr, errcode.Wrap(errcode.InvalidArgument, err, "settings file"))
	}
	token := p.get("--token")
	if token == "" {
		token = os.Getenv("DRMPACK_KMS_TOKEN")
	}
	if token == "" {
		if token, err = settings.Secret(settings.SecretKMSToken); err != nil {
			return failed(stderr, errcode.Wrap(errcode.Unexpected, err, "kms-token"))
		}
	}
	if len(token) < 8 {
		return usageError(stderr, errcode.New(errcode.InvalidArgument, "kms serve needs a token of at least 8 characters: --token, $DRMPACK_KMS_TOKEN or drmpack settings set kms-token"))
	}
	srv := &kms.Server{Token: token, Signaling: kms.Signalling{WidevineProvider: s.WidevineProvider, PlayReadyLAURL: s.PlayReadyLAURL}}
	for flag, dst := range map[string]*string{"--playready-la-url": &srv.Signaling.PlayReadyLAURL, "--widevine-provider": &srv.Signaling.WidevineProvider} {
		if v := p.get(flag); v != "" {
			*dst = v
		}
	}
	if srv.Store, err = openKeystore(); err != nil {
		return failed(stderr, err)
	}
	logFile, logErr := OpenLog()
	if logErr != nil {
		fmt.Fprintf(stderr, "warning: log file unavailable: %v\n", logErr)
	}
	defer logFile.Close()
	srv.Log = func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		fmt.Fprintln(stdout, line)
		logFile.Line(line)
	}
	addr := p.get("--listen")
	if addr == "" {
		addr = "127.0.0.1:8180"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return failed(stderr, errcode.Wrap(errcode.InvalidArgument, err, "--listen"))
	}
	// The first line names the real address (useful with port 0), so scripts and tests can read it.
	fmt.Fprintf(stdout, "drmpack kms serving CPIX 2.3 on http://%s/ (POST a CPIX request)\n", ln.Addr())
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serveUntil(ctx, hs, ln, 5*time.Second); err != nil {
		return failed(stderr, errcode.Wrap(errcode.Unexpected, err, "kms serve"))
	}
	return exitOK
}

// settingNames maps `drmpack settings` names to the saved field or secret they edit. Each set
// function validates like the matching flag does and clears the field for "".
var settingNames = map[string]struct {
	secret string // a secret's name; empty for plain settings
	get    func(*settings.Settings) string
	set    func(*settings.Settings, string) error
}{
	"out":                 {get: func(s *settings.Settings) string { return s.OutDir }, set: func(s *settings.Settings, v string) error { s.OutDir = v; return nil }},
	"drm":                 {get: func(s *settings.Settings) string { return strings.Join(s.DRM, ",") }, set: setDRM},
	"key-source":          {get: func(s *settings.Settings) string { return s.KeySource }, set: setKeySource},
	"site-id":             {get: func(s *settings.Settings) string { return s.SiteID }, set: func(s *settings.Settings, v string) error { s.SiteID = v; return nil }},
	"kms-url":             {get: func(s *settings.Settings) string { return s.KMSURL }, set: func(s *settings.Settings, v string) error { s.KMSURL = v; return nil }},
	"kms-timeout":         {get: func(s *settings.Settings) string { return formatFloat(s.KMSTimeout) }, set: floatSetting(func(s *settings.Settings) *float64 { return &s.KMSTimeout }, 0.1, 600)},
	"cid-callback-url":    {get: func(s *settings.Settings) string { return s.CIDCallbackURL }, set: func(s *settings.Settings, v string) error { s.CIDCallbackURL = v; return nil }},
	"cid-callback-method": {get: func(s *settings.Settings) string { return s.CIDCallbackMethod }, set: setCallbackMethod},
	"playready-la-url":    {get: func(s *settings.Settings) string { return s.PlayReadyLAURL }, set: func(s *settings.Settings, v string) error { s.PlayReadyLAURL = v; return nil }},
	"widevine-provider":   {get: func(s *settings.Settings) string { return s.WidevineProvider }, set: func(s *settings.Settings, v string) error { s.WidevineProvider = v; return nil }},
	"scheme":              {get: func(s *settings.Settings) string { return s.Scheme }, set: setScheme},
	"segment-duration":    {get: func(s *settings.Settings) string { return formatFloat(s.SegmentDuration) }, set: floatSetting(func(s *settings.Settings) *float64 { return &s.SegmentDuration }, 0.5, 120)},
	"concurrency": {get: func(s *settings.Settings) string { return strconv.Itoa(s.Concurrency) }, set: func(s *settings.Settings, v string) error {
		if v == "" {
			s.Concurrency = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return fmt.Errorf("want a number from 1 to 64")
		}
		s.Concurrency = n
		return nil
	}},
	"packager-key": {secret: settings.SecretPackagerKey},
	"enc-token":    {secret: settings.SecretEncToken},
	"kms-header":   {secret: settings.SecretKMSHeader},
	"kms-token":    {secret: settings.SecretKMSToken},
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func floatSetting(field func(*settings.Settings) *float64, lo, hi float64) func(*settings.Settings, string) error {
	return func(s *settings.Settings, v string) error {
		if v == "" {
			*field(s) = 0
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < lo || f > hi {
			return fmt.Errorf("want a number from %g to %g", lo, hi)
		}
		*field(s) = f
		return nil
	}
}

func setDRM(s *settings.Settings, v string) error {
	drm, err := parseDRM(v)
	s.DRM = drm
	return err
}

func setKeySource(s *settings.Settings, v string) error {
	if v == "" {
		s.KeySource = ""
		return nil
	}
	for _, k := range keySources {
		if strings.EqualFold(v, k) {
			s.KeySource = k
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(keySources, ", "))
}

func setCallbackMethod(s *settings.Settings, v string) error {
	v = strings.ToUpper(v)
	if v != "" && v != http.MethodGet && v != http.MethodPost {
		return fmt.Errorf("want GET or POST")
	}
	s.CIDCallbackMethod = v
	return nil
}

func setScheme(s *settings.Settings, v string) error {
	if v != "" && v != "cenc" && v != "cbcs" {
		return fmt.Errorf("want cenc or cbcs")
	}
	s.Scheme = v
	return nil
}

// settingsCommand runs `drmpack settings get [NAME] | set NAME VALUE | unset NAME`. Secrets are
// shown only as "(set)" or "(not set)".
func settingsCommand(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: drmpack settings get [NAME] | set NAME VALUE | unset NAME"
	if len(args) == 0 {
		return usageError(stderr, errcode.New(errcode.NoArguments, usage))
	}
	s, err := settings.Load()
	if err != nil {
		return usageError(stderr, errcode.Wrap(errcode.InvalidArgument, err, "settings file"))
	}
	show := func(name string) error {
		n := settingNames[name]
		if n.secret == "" {
			fmt.Fprintf(stdout, "%s=%s\n", name, n.get(&s))
			return nil
		}
		v, err := settings.Secret(n.secret)
		state := "(not set)"
		if v != "" {
			state = "(set)"
		}
		fmt.Fprintf(stdout, "%s=%s\n", name, state)
		return err
	}
	cmd, rest := args[0], args[1:]
	want := map[string]int{"get": -1, "set": 2, "unset": 1}
	n, ok := want[cmd]
	if !ok {
		return usageError(stderr, errcode.New(errcode.InvalidArgument, "unknown settings command %q: %s", cmd, usage))
	}
	if n >= 0 && len(rest) != n || n < 0 && len(rest) > 1 {
		return usageError(stderr, errcode.New(errcode.ArgumentCount, usage))
	}
	if len(rest) > 0 {
		if _, known := settingNames[rest[0]]; !known {
			return usageError(stderr, errcode.New(errcode.InvalidArgument, "unknown setting %q (known: %s)", rest[0], strings.Join(sortedSettingNames(), ", ")))
		}
	}
	switch cmd {
	case "get":
		names := rest
		if len(names) == 0 {
			names = sortedSettingNames()
			fmt.Fprintf(stdout, "# secrets are kept in %s\n", settings.SecretBackend())
		}
		for _, name := range names {
			if err := show(name); err != nil {
				return failed(stderr, errcode.Wrap(errcode.Unexpected, err, name))
			}
		}
		return exitOK
	}
	name, value := rest[0], ""
	if cmd == "set" {
		value = rest[1]
	}
	entry := settingNames[name]
	if entry.secret != "" {
		if err := settings.SetSecret(entry.secret, value); err != nil {
			return failed(stderr, errcode.Wrap(errcode.Unexpected, err, name))
		}
		return exitOK
	}
	// An empty value (unset) clears the setting: loading fills in the default again.
	if err := entry.set(&s, value); err != nil {
		return usageError(stderr, errcode.New(errcode.InvalidArgument, "%s %q: %v", name, value, err))
	}
	if err := settings.Save(s); err != nil {
		return failed(stderr, errcode.Wrap(errcode.CreateNoSpace, err, "save settings"))
	}
	return exitOK
}

func sortedSettingNames() []string {
	names := make([]string, 0, len(settingNames))
	for n := range settingNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
