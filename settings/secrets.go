package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"drmpack/internal/atomicfile"
)

// Names of the secrets drmpack keeps.
const (
	SecretPackagerKey    = "packager-key"        // the vendor KMS Packager Key (access_key)
	SecretEncToken       = "enc-token"           // a pasted vendor KMS enc-token
	SecretKMSHeader      = "kms-header"          // "Name: value" sent to a CPIX server
	SecretKMSToken       = "kms-token"           // the token `kms serve` requires
	SecretKeystoreMaster = "keystore-master-key" // seals the local key store (base64)
)

// keyringService is the service name of drmpack's entries in the OS keychain.
const keyringService = "drmpack"

// Secrets live in the OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service
// on Linux desktops). Where there is none — a headless server, a container — they fall back to
// secrets.json in the config folder, readable by the user only (0600) and NOT encrypted; the file
// says so. DRMPACK_SECRETS=file or =keyring forces one.
var (
	backendOnce sync.Once
	useKeyring  bool
	secretsMu   sync.Mutex
)

// keyringProbeTimeout bounds the first keychain call: on a Linux machine without a session bus
// the library may try to start one, which must not hold up a CLI run.
const keyringProbeTimeout = 3 * time.Second

func keyringAvailable() bool {
	backendOnce.Do(func() {
		switch os.Getenv("DRMPACK_SECRETS") {
		case "file":
			return
		case "keyring":
			useKeyring = true
			return
		}
		done := make(chan error, 1)
		go func() {
			_, err := keyring.Get(keyringService, "probe")
			done <- err
		}()
		select {
		case err := <-done:
			useKeyring = err == nil || errors.Is(err, keyring.ErrNotFound)
		case <-time.After(keyringProbeTimeout):
		}
	})
	return useKeyring
}

// SecretBackend describes where secrets are kept, for the settings dialog and `settings get`.
func SecretBackend() string {
	if keyringAvailable() {
		return "the OS keychain"
	}
	p, _ := secretsPath()
	return p + " (no OS keychain here: a file readable only by you, not encrypted)"
}

func secretsPath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "secrets.json"), nil
}

type secretsFile struct {
	Note    string            `json:"_note"`
	Secrets map[string]string `json:"secrets"`
}

const secretsNote = "drmpack secrets. This machine has no OS keychain, so they are stored here NOT encrypted; the file is readable only by its owner."

func readSecretsFile() (secretsFile, error) {
	f := secretsFile{Note: secretsNote, Secrets: map[string]string{}}
	p, err := secretsPath()
	if err != nil {
		return f, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s is damaged: %v", p, err)
	}
	if f.Secrets == nil {
		f.Secrets = map[string]string{}
	}
	return f, nil
}

// Secret returns a stored secret, "" when it is not set.
func Secret(name string) (string, error) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	if keyringAvailable() {
		v, err := keyring.Get(keyringService, name)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, keyring.ErrNotFound) {
			return "", fmt.Errorf("OS keychain: %v", err)
		}
	}
	f, err := readSecretsFile()
	return f.Secrets[name], err
}

// SetSecret stores a secret; an empty value deletes it.
func SetSecret(name, value string) error {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	f, err := readSecretsFile()
	if err != nil {
		return err
	}
	if keyringAvailable() {
		if value == "" {
			err = keyring.Delete(keyringService, name)
			if errors.Is(err, keyring.ErrNotFound) {
				err = nil
			}
		} else {
			err = keyring.Set(keyringService, name, value)
		}
		if err != nil {
			return fmt.Errorf("OS keychain: %v", err)
		}
		if _, inFile := f.Secrets[name]; !inFile {
			return nil
		}
		value = "" // now in the keychain: drop the file's old copy
	}
	if value == "" {
		delete(f.Secrets, name)
	} else {
		f.Secrets[name] = value
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	p, err := secretsPath()
	if err != nil {
		return err
	}
	return atomicfile.Write(p, append(b, '\n'), 0o600)
}
