//go:build unix

package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	helperEnv    = "GO_WANT_HELPER_PROCESS"
	helperDirEnv = "GATEHOUSE_STORE_HELPER_DIR"
	helperTagEnv = "GATEHOUSE_STORE_HELPER_TAG"
	burstBucket  = "burst"
)

// burstValue is the value the helper writes under key; the parent checks
// it byte for byte.
func burstValue(key string) []byte {
	return bytes.Repeat([]byte(key+";"), 256)
}

// TestHelperProcess is not a test: run as a child process by
// TestAcknowledgedWritesSurviveKill, it writes keys to an embedded store as
// fast as it can and prints "ack <key>" after each acknowledged write,
// until it is killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestAcknowledgedWritesSurviveKill")
	}
	dir, tag := os.Getenv(helperDirEnv), os.Getenv(helperTagEnv)
	ctx := context.Background()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		fmt.Fprintf(os.Stdout, "error %v\n", err)
		os.Exit(2)
	}
	var mu sync.Mutex // serializes lines on stdout
	const writers = 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("%s-w%d-%07d", tag, w, i)
				if _, err := s.Create(ctx, burstBucket, key, burstValue(key)); err != nil {
					mu.Lock()
					fmt.Fprintf(os.Stdout, "error %v\n", err)
					mu.Unlock()
					os.Exit(2)
				}
				mu.Lock()
				// One short write(2) per line: a line is either
				// entirely in the pipe or not at all.
				fmt.Fprintf(os.Stdout, "ack %s\n", key)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestAcknowledgedWritesSurviveKill runs a child process that bursts
// acknowledged writes into an embedded store, SIGKILLs it mid-burst, then
// reopens the same data directory and checks every acknowledged key. It
// does that twice on the same directory, so the second round also starts
// from a recovered store.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	var acked []string
	for round := range 2 {
		tag := fmt.Sprintf("r%d", round)
		acked = append(acked, runKilledBurst(t, dir, tag, 300)...)

		s := openAt(t, dir)
		ctx := testCtx(t)
		for _, key := range acked {
			e, err := s.Get(ctx, burstBucket, key)
			if err != nil {
				t.Fatalf("round %d: acknowledged key %s lost after SIGKILL: %v", round, key, err)
			}
			if !bytes.Equal(e.Value, burstValue(key)) {
				t.Fatalf("round %d: key %s has a damaged value (%d bytes)", round, key, len(e.Value))
			}
		}
		all, err := s.List(ctx, burstBucket, "")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		// Writes in flight at the kill may or may not have landed; at
		// most one per writer.
		if extra := len(all) - len(acked); extra < 0 || extra > 4*(round+1) {
			t.Errorf("round %d: store has %d keys, %d acknowledged", round, len(all), len(acked))
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		t.Logf("round %d: %d acknowledged keys survived", round, len(acked))
	}
}

// runKilledBurst starts the helper on dir, SIGKILLs it once it has
// acknowledged killAfter writes and returns every key it acknowledged.
func runKilledBurst(t *testing.T, dir, tag string, killAfter int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperDirEnv+"="+dir, helperTagEnv+"="+tag)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	// Never leave the child running, whatever happens below.
	timer := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()

	var acked []string
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "ack "):
			acked = append(acked, strings.TrimPrefix(line, "ack "))
		case strings.HasPrefix(line, "error "):
			_ = cmd.Process.Kill()
			t.Errorf("helper: %s", line)
		}
		if !killed && len(acked) >= killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill helper: %v", err)
			}
			killed = true
			// Keep reading: lines written before the kill are
			// still in the pipe and are acknowledged writes too.
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read helper output: %v", err)
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
	}
	if len(acked) < killAfter {
		t.Fatalf("helper acknowledged only %d writes", len(acked))
	}
	return acked
}
