package app

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"drmpack/internal/kmstest"
	"drmpack/internal/mediatest"
	"drmpack/packager/keys"
	"drmpack/packager/keyservice"
)

type jobLine struct {
	File    string   `json:"file"`
	Status  string   `json:"status"`
	Code    int      `json:"code"`
	Outputs []string `json:"outputs"`
	Error   string   `json:"error"`
}

func parseJobLine(t *testing.T, stdout string) jobLine {
	t.Helper()
	var r jobLine
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &r); err != nil {
		t.Fatalf("JSON result %q: %v", stdout, err)
	}
	return r
}

// dashKIDs returns the default_KID of each adaptation set by content type.
func dashKIDs(t *testing.T, manifest string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, as := range readMPD(t, manifest).AdaptationSets {
		for _, cp := range as.ContentProtections {
			if cp.DefaultKID != "" {
				out[as.ContentType] = cp.DefaultKID
			}
		}
	}
	return out
}

// verifyDASH decrypts every representation with the key keyFor names for its default_KID and
// compares ffmpeg's decode with the source's.
func verifyDASH(t *testing.T, src, manifest string, keyFor func(kid string) string) {
	t.Helper()
	m := readMPD(t, manifest)
	for _, as := range m.AdaptationSets {
		kid := ""
		for _, cp := range as.ContentProtections {
			if cp.DefaultKID != "" {
				kid = cp.DefaultKID
			}
		}
		key := keyFor(kid)
		if key == "" {
			t.Fatalf("%s: no key for KID %s", as.ContentType, kid)
		}
		rep := as.Representations[0]
		joined := mediatest.JoinDASH(t, filepath.Join(filepath.Dir(manifest), rep.ID), rep.SegmentTemplate.Timescale)
		if as.ContentType == "video" {
			compareVideo(t, src, joined, key)
		} else {
			compareAudio(t, src, joined, key)
		}
	}
}

// exportedKey reads a key from a CPIX document with xmllint's XPath, not with our own parser.
func exportedKey(t *testing.T, doc, kid string) string {
	t.Helper()
	out, err := exec.Command("xmllint", "--xpath",
		"string(//*[local-name()='ContentKey'][@kid='"+kid+"']//*[local-name()='PlainValue'])", doc).Output()
	if err != nil {
		t.Fatalf("xmllint --xpath: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(out)))
	if err != nil || len(raw) != 16 {
		return ""
	}
	return hex.EncodeToString(raw)
}

// assertNoSecrets fails when any file under dirs, or any of texts, holds one of the secrets (as
// given, and keys also in base64).
func assertNoSecrets(t *testing.T, secrets []string, texts []string, dirs ...string) {
	t.Helper()
	var forms []string
	for _, s := range secrets {
		forms = append(forms, s)
		if raw, err := hex.DecodeString(s); err == nil && len(raw) == 16 {
			forms = append(forms, base64.StdEncoding.EncodeToString(raw))
		}
	}
	check := func(where, text string) {
		for _, f := range forms {
			if strings.Contains(strings.ToLower(text), strings.ToLower(f)) {
				t.Errorf("%s reveals a secret", where)
			}
		}
	}
	for i, s := range texts {
		check("output #"+string(rune('0'+i)), s)
	}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".mpd")) {
				b, _ := os.ReadFile(p)
				check(p, string(b))
			}
			return nil
		})
	}
}

// TestLocalKeyStoreOfflineEndToEnd is the default path on a fresh machine: no key given, no key
// service configured. The same title packaged twice gets the same KIDs; keys export writes a
// schema-valid CPIX 2.3 document whose keys decrypt the output (ffmpeg decodes it to the source's
// frames); no key reaches the logs, packaging.json or the CLI's output.
func TestLocalKeyStoreOfflineEndToEnd(t *testing.T) {
	mediatest.RequireTools(t, "ffmpeg", "xmllint")
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	env := newCLIEnv(t)
	var kids []map[string]string
	var outputs []string
	outs := []string{t.TempDir(), t.TempDir()}
	for _, out := range outs {
		code, stdout, stderr := env.run(t, "package", "--drm", "dash", "-o", out, "--json", src)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		outputs = append(outputs, stdout, stderr)
		kids = append(kids, dashKIDs(t, filepath.Join(out, "h264_aac", "dash", "stream.mpd")))
	}
	if len(kids[0]) != 2 || kids[0]["video"] == kids[0]["audio"] {
		t.Fatalf("want separate video and audio KIDs, got %v", kids[0])
	}
	if kids[0]["video"] != kids[1]["video"] || kids[0]["audio"] != kids[1]["audio"] {
		t.Fatalf("packaging twice gave different KIDs: %v vs %v", kids[0], kids[1])
	}
	export := filepath.Join(t.TempDir(), "h264_aac.cpix.xml")
	code, stdout, stderr := env.run(t, "keys", "export", "--cid", "h264_aac", "-o", export)
	if code != 0 {
		t.Fatalf("keys export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	outputs = append(outputs, stdout, stderr)
	if st, _ := os.Stat(export); st.Mode().Perm() != 0o600 {
		t.Errorf("export mode %v, want 0600 (it holds keys)", st.Mode().Perm())
	}
	schema := filepath.Join(mediatest.RepoRoot(t), "packager", "cpix", "testdata", "schema", "cpix.xsd")
	if b, err := exec.Command("xmllint", "--nonet", "--noout", "--schema", schema, export).CombinedOutput(); err != nil {
		t.Fatalf("export is not valid CPIX 2.3: %v\n%s", err, b)
	}
	var keysUsed []string
	verifyDASH(t, src, filepath.Join(outs[0], "h264_aac", "dash", "stream.mpd"), func(kid string) string {
		k := exportedKey(t, export, kid)
		keysUsed = append(keysUsed, k)
		return k
	})
	code, list, _ := env.run(t, "keys", "list")
	if code != 0 || !strings.Contains(list, kids[0]["video"]) || !strings.Contains(list, "h264_aac\tAUDIO") {
		t.Fatalf("keys list: %d %q", code, list)
	}
	outputs = append(outputs, list)
	assertNoSecrets(t, keysUsed, outputs, env.logs, outs[0], outs[1])
	// The store and its master key live in the config folder (no keychain in tests): the key
	// store file itself holds no key in the clear.
	db, _ := os.ReadFile(filepath.Join(env.config, "keystore.db"))
	for _, k := range keysUsed {
		raw, _ := hex.DecodeString(k)
		if strings.Contains(string(db), string(raw)) {
			t.Fatal("keystore.db holds a key in the clear")
		}
	}
}

// TestVendorKMSEndToEnd packages against a server speaking the vendor's dialect: the output
// carries the server's KIDs and Widevine pssh and decrypts with the server's keys.
func TestVendorKMSEndToEnd(t *testing.T) {
	mediatest.RequireTools(t, "ffmpeg")
	const site, pk = "DEMO", "pk-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	v := &kmstest.Vendor{SiteID: site, PackagerKey: pk}
	srv := httptest.NewServer(v)
	defer srv.Close()
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	env := newCLIEnv(t)
	out := t.TempDir()
	code, stdout, stderr := env.run(t, "package", "--drm", "dash", "-o", out, "--json", "--key-source", "pallycon",
		"--site-id", site, "--packager-key", pk, "--kms-url", srv.URL+"/v2/cpix/pallycon/getKey/{enc-token}", "--cid", "movie-42", src)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	manifest := filepath.Join(out, "h264_aac", "dash", "stream.mpd")
	kids := dashKIDs(t, manifest)
	keyOf := map[string]string{}
	for content, tt := range map[string]string{"video": "SD", "audio": "AUDIO"} {
		kid := keys.KID(kmstest.Derive("kid", "movie-42", tt)).UUID()
		if kids[content] != kid {
			t.Fatalf("%s KID %s, want the server's %s", content, kids[content], kid)
		}
		keyOf[kid] = hex.EncodeToString(kmstest.Derive("key", "movie-42", tt))
	}
	// The Widevine pssh is the service's own: it names the provider "inkaentworks".
	for _, as := range readMPD(t, manifest).AdaptationSets {
		found := false
		for _, cp := range as.ContentProtections {
			found = found || strings.Contains(string(cp.PSSH), "inkaentworks")
		}
		if !found {
			t.Fatalf("%s: the MPD does not carry the key service's Widevine pssh", as.ContentType)
		}
	}
	verifyDASH(t, src, manifest, func(kid string) string { return keyOf[kid] })
	var secrets []string
	for _, k := range keyOf {
		secrets = append(secrets, k)
	}
	assertNoSecrets(t, append(secrets, pk), []string{stdout, stderr}, env.logs, out)
}

// TestKeyServiceFailuresLeaveNothing: each failure mode gives its code with a clear INFO, leaves
// no output, and the INFO does not reveal the Packager Key.
func TestKeyServiceFailuresLeaveNothing(t *testing.T) {
	const site, pk = "DEMO", "pk-failure-case-0123456789abcdef"
	src := filepath.Join(mediatest.Media(t), "h264_aac.mp4")
	for _, c := range []struct {
		mode string
		code int
		info string
	}{
		{"json", 2002, "CID not allowed"},
		{"500", 2002, "HTTP 500"},
		{"slow", 2001, "no answer within"},
		{"drop", 2001, "closed before a complete answer"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			srv := httptest.NewServer(&kmstest.Vendor{Mode: c.mode, SiteID: site, PackagerKey: pk})
			defer srv.Close()
			env := newCLIEnv(t)
			out := t.TempDir()
			code, stdout, stderr := env.run(t, "package", "--drm", "dash", "-o", out, "--json", "--key-source", "pallycon",
				"--site-id", site, "--packager-key", pk, "--kms-url", srv.URL+"/getKey/", "--kms-timeout", "0.3", src)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, stdout, stderr)
			}
			r := parseJobLine(t, stdout)
			if r.Code != c.code || !strings.Contains(r.Error, c.info) {
				t.Fatalf("code %d %q, want %d with %q", r.Code, r.Error, c.code, c.info)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Fatalf("failure left %v in the output folder", entries)
			}
			token, _ := keyservice.EncToken(site, pk)
			assertNoSecrets(t, []string{pk, token}, []string{stdout, stderr}, env.logs)
		})
	}
}

// TestCPIXKeySourceAgainstKMSServe runs `drmpack kms serve` as its own process (a real server
// on 127.0.0.1), packages with --key-source cpix against it, and decrypts the output with the
// keys the server's store exports.
func TestCPIXKeySourceAgainstKMSServe(t *testing.T) {
	mediatest.RequireTools(t, "ffmpeg", "xmllint")
	bin := filepath.Join(t.TempDir(), "drmpack")
	build := exec.Command("go", "build", "-o", bin, "./cmd/drmpack")
	build.Dir = mediatest.RepoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	server := newCLIEnv(t)
	const token = "kms-test-token-42"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "kms", "serve", "--listen", "127.0.0.1:0", "--token", token)
	cmd.Env = append(os.Environ(), "DRMPACK_CONFIG_DIR="+server.config, "DRMPACK_LOG_DIR="+server.logs, "DRMPACK_SECRETS=file")
	pipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(pipe)
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)
		for lines.Scan() {
			if m := re.FindStringSubmatch(lines.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a + "/cpix"
	case <-time.After(20 * time.Second):
		t.Fatal("kms serve did not start")
	}

	src := filepath.Join(mediatest.Media(t), "한글 제목 01.mp4")
	client := newCLIEnv(t)
	out := t.TempDir()
	code, stdout, stderr := client.run(t, "package", "--drm", "dash", "--scheme", "cbcs", "-o", out, "--json",
		"--key-source", "cpix", "--kms-url", url, "--kms-header", "Authorization: Bearer "+token, src)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	manifest := filepath.Join(out, "한글 제목 01", "dash", "stream.mpd")
	export := filepath.Join(t.TempDir(), "export.xml")
	if code, o, e := server.run(t, "keys", "export", "--cid", "한글 제목 01", "-o", export); code != 0 {
		t.Fatalf("export from the server's store: %d %s %s", code, o, e)
	}
	verifyDASH(t, src, manifest, func(kid string) string { return exportedKey(t, export, kid) })
	// Without the token the server refuses: 2002 with the 401 in INFO, and no output.
	out2 := t.TempDir()
	code, stdout, _ = client.run(t, "package", "--drm", "dash", "-o", out2, "--json", "--key-source", "cpix", "--kms-url", url, src)
	if r := parseJobLine(t, stdout); code != exitFailed || r.Code != 2002 || !strings.Contains(r.Error, "HTTP 401") {
		t.Fatalf("no token: exit %d, %+v", code, r)
	}
	cancel()
}

// TestCIDCallbackNamesTheContent: the callback's CID is the one the key service is asked with.
func TestCIDCallbackNamesTheContent(t *testing.T) {
	src := filepath.Join(mediatest.Media(t), "audio.m4a")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "cid-for-"+strings.TrimSuffix(r.URL.Query().Get("file"), ".m4a"))
	}))
	defer srv.Close()
	env := newCLIEnv(t)
	out := t.TempDir()
	code, stdout, stderr := env.run(t, "package", "--drm", "dash", "-o", out, "--json", "--cid-callback", srv.URL, src)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out, "audio", "packaging.json"))
	if !strings.Contains(string(b), `"cid": "cid-for-audio"`) {
		t.Fatalf("packaging.json does not name the callback's CID:\n%s", b)
	}
	if code, list, _ := env.run(t, "keys", "list", "--cid", "cid-for-audio"); code != 0 || !strings.Contains(list, "cid-for-audio\tAUDIO") {
		t.Fatalf("the local store was not asked with the callback's CID: %q", list)
	}
	// An invalid --cid is refused before anything starts.
	code, _, stderr = env.run(t, "package", "--drm", "dash", "-o", out, "--cid", "a/b", src)
	if code != exitUsage || !strings.Contains(stderr, "1102") {
		t.Fatalf("--cid a/b: exit %d %s", code, stderr)
	}
}
