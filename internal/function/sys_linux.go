//go:build linux

package function

import (
	"os"
	"syscall"
)

// sysProcAttr puts a runtime process in its own process group (so a timeout
// kills everything it started) and has the kernel kill it if gatehouse dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to p's process group.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
