package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadMissingGivesDefaults(t *testing.T) {
	t.Setenv("DRMPACK_CONFIG_DIR", t.TempDir())
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, Defaults()) {
		t.Fatalf("got %+v, want defaults %+v", s, Defaults())
	}
}

func TestSaveLoadRoundTripAndDefaultsFill(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DRMPACK_CONFIG_DIR", dir)
	want := Settings{OutDir: "/tmp/out 한글", DRM: []string{"dash"}, KeySource: "pallycon", SiteID: "DEMO", CIDCallbackURL: "http://127.0.0.1:1/cid", SegmentDuration: 4, Scheme: "cbcs", PlayReadyLAURL: "https://lic.example/pr", Concurrency: 2}
	if err := Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want.WidevineProvider = Defaults().WidevineProvider // empty in the file: filled from defaults
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "settings.json" {
		t.Fatalf("Save left %v in the config folder, want only settings.json", entries)
	}
}

func TestLoadCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DRMPACK_CONFIG_DIR", dir)
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load()
	if err == nil {
		t.Fatal("corrupt settings file loaded without error")
	}
	if !reflect.DeepEqual(s, Defaults()) {
		t.Fatalf("corrupt file should fall back to defaults, got %+v", s)
	}
}

func TestLogDirOverride(t *testing.T) {
	t.Setenv("DRMPACK_LOG_DIR", "/x/y")
	if d, _ := LogDir(); d != "/x/y" {
		t.Fatalf("LogDir = %q", d)
	}
	t.Setenv("DRMPACK_LOG_DIR", "")
	t.Setenv("XDG_STATE_HOME", "/state")
	if d, _ := LogDir(); d != filepath.Join("/state", "drmpack") {
		t.Fatalf("LogDir with XDG_STATE_HOME = %q", d)
	}
}

func TestSecretsFallBackToAPrivateFileNeverTheSettings(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DRMPACK_CONFIG_DIR", dir)
	t.Setenv("DRMPACK_SECRETS", "file") // the test must not touch the developer's keychain
	const key = "packager-key-0123456789abcdef"
	if err := SetSecret(SecretPackagerKey, key); err != nil {
		t.Fatal(err)
	}
	if err := Save(Settings{SiteID: "DEMO"}); err != nil {
		t.Fatal(err)
	}
	if v, err := Secret(SecretPackagerKey); err != nil || v != key {
		t.Fatalf("Secret = %q, %v", v, err)
	}
	st, err := os.Stat(filepath.Join(dir, "secrets.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.json: %v, mode %v; want 0600", err, st.Mode())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "settings.json"))
	if strings.Contains(string(b), key) {
		t.Fatal("the Packager Key reached settings.json")
	}
	if err := SetSecret(SecretPackagerKey, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := Secret(SecretPackagerKey); v != "" {
		t.Fatalf("deleted secret still reads %q", v)
	}
	if !strings.Contains(SecretBackend(), "not encrypted") {
		t.Fatalf("backend %q does not say the file is unencrypted", SecretBackend())
	}
}
