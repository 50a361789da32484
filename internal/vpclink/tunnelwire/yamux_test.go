package tunnelwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// frame returns a yamux data frame header for a body of n bytes on stream id.
func frame(id uint32, n int) []byte {
	h := make([]byte, headerSize)
	h[0], h[1] = 0, typeData
	binary.BigEndian.PutUint32(h[4:8], id)
	binary.BigEndian.PutUint32(h[8:12], uint32(n))
	return h
}

func TestFrameConnSendsEverythingInOrder(t *testing.T) {
	tests := []struct {
		name   string
		frames int
		size   int
	}{
		{"small frames", 2000, 50},
		{"large frames", 20, 300 << 10},
		{"window updates only", 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			f := FrameConn(a, nil)
			var want bytes.Buffer
			got := make(chan []byte)
			go func() {
				all, _ := io.ReadAll(b)
				got <- all
			}()
			for i := range tt.frames {
				hdr := frame(uint32(i), tt.size)
				if tt.size == 0 {
					hdr[1] = 1 // window update: header only
				}
				body := bytes.Repeat([]byte{byte(i)}, tt.size)
				want.Write(hdr)
				want.Write(body)
				if n, err := f.Write(hdr); err != nil || n != headerSize {
					t.Fatalf("header %d: %d, %v", i, n, err)
				}
				if tt.size > 0 {
					if n, err := f.Write(body); err != nil || n != len(body) {
						t.Fatalf("body %d: %d, %v", i, n, err)
					}
				}
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if g := <-got; !bytes.Equal(g, want.Bytes()) {
				t.Fatalf("peer read %d bytes, want %d (or they differ)", len(g), want.Len())
			}
		})
	}
}

func TestFrameConnReportsAFailedWrite(t *testing.T) {
	a, b := net.Pipe()
	f := FrameConn(a, nil)
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := f.Write(frame(1, 0)) // header only: goes straight to the queue
		if err != nil {
			if !errors.Is(err, io.ErrClosedPipe) {
				t.Fatalf("err = %v, want the pipe's error", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a closed peer kept succeeding")
		}
		time.Sleep(time.Millisecond) // polling for the writer's failure, not for readiness
	}
	if err := f.Close(); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Close: %v", err)
	}
}

func TestFrameConnBoundsWhatItQueues(t *testing.T) {
	a, b := net.Pipe() // synchronous: the writer blocks until b is read
	defer b.Close()
	f := FrameConn(a, nil)
	body := make([]byte, 256<<10)
	wrote := make(chan int, 64)
	go func() {
		for i := range 12 {
			f.Write(frame(1, len(body)))
			if _, err := f.Write(body); err != nil {
				return
			}
			wrote <- i
		}
		close(wrote)
	}()
	// Nothing reads b: the writer holds one batch, the queue at most maxPending.
	n := 0
	timeout := time.After(300 * time.Millisecond)
wait:
	for {
		select {
		case <-wrote:
			n++
		case <-timeout:
			break wait
		}
	}
	if limit := 2*maxPending/len(body) + 2; n > limit {
		t.Fatalf("%d frames of 256 KiB accepted with no reader; want at most %d", n, limit)
	}
	go io.Copy(io.Discard, b)
	for range wrote {
	}
	f.Close()
}

func TestCorkGathersRecords(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := Cork(a)
	got := make(chan []byte, 8)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := b.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- append([]byte(nil), buf[:n]...)
		}
	}()
	c.cork()
	for _, s := range []string{"one ", "two ", "three"} {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if g := string(<-got); g != "one two three" {
		t.Fatalf("first read %q, want the three writes as one", g)
	}
	if _, err := c.Write([]byte("direct")); err != nil {
		t.Fatal(err)
	}
	if g := string(<-got); g != "direct" {
		t.Fatalf("read %q", g)
	}
	a.Close()
}
