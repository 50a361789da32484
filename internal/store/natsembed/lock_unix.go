//go:build unix

package natsembed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFileName is created in the store directory and held with an
// exclusive flock while the server runs. Two JetStream servers writing the
// same directory would corrupt it. The kernel drops the lock when the
// process dies, even by SIGKILL.
const lockFileName = "gatehouse.lock"

type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock store dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store dir %s is in use by another embedded server", dir)
		}
		return nil, fmt.Errorf("lock store dir: %w", err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	// Closing the file drops the flock.
	_ = l.f.Close()
	l.f = nil
}
