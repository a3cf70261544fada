//go:build !unix

package playtest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func lockFile(string) (func(), error) { return func() {}, nil }
