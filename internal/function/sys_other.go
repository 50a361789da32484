//go:build !unix

package function

import (
	"os"
	"syscall"
)

// sysProcAttr sets nothing: process groups are a Unix feature.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p only.
func killGroup(p *os.Process) { _ = p.Kill() }
