//go:build unix

package playtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup runs cmd in its own process group so that a timeout kills node and the
// Chromium processes it started, not just node.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// lockFile takes an exclusive flock on name (made per user, created if needed), waiting for other holders.
func lockFile(name string) (func(), error) {
	name = fmt.Sprintf("%s-%d", name, os.Getuid())
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
