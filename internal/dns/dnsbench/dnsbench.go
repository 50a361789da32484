// Package dnsbench is a DNS load generator for gatehouse's DNS server: it
// sends one question over UDP from several sockets, each keeping a fixed
// number of queries in flight, for a fixed time, and reports the answered
// queries per second. It exists because the benchmark target (50,000
// queries/s on one core) needs a generator that is not the bottleneck;
// dnsperf (Debian package dnsperf) measures the same way.
package dnsbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// Config configures Run.
type Config struct {
	// Server is the UDP address to query. Required.
	Server string
	// Name and Type are the question (Type default A).
	Name string
	Type uint16
	// EDNS adds an OPT record (UDP size 1232) to the query.
	EDNS bool
	// Duration is how long to send. Default 5s.
	Duration time.Duration
	// Sockets is the number of client sockets (goroutines). Default 4.
	Sockets int
	// InFlight is the queries each socket keeps outstanding. Default 32.
	InFlight int
}

// Result is what Run measured.
type Result struct {
	Sent, Answered, Lost int64
	// Rcodes counts answers by response code.
	Rcodes  map[int]int64
	Elapsed time.Duration
	// QPS is Answered per second of Elapsed.
	QPS float64
}

// String formats the result like dnsperf's summary.
func (r Result) String() string {
	return fmt.Sprintf("sent %d, answered %d, lost %d in %v: %.0f queries/s (rcodes %v)",
		r.Sent, r.Answered, r.Lost, r.Elapsed.Round(time.Millisecond), r.QPS, r.Rcodes)
}

// Run sends queries until cfg.Duration passes or ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Server == "" || cfg.Name == "" {
		return Result{}, errors.New("dnsbench: Server and Name are required")
	}
	if cfg.Type == 0 {
		cfg.Type = mdns.TypeA
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Sockets <= 0 {
		cfg.Sockets = 4
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = 32
	}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(cfg.Name), cfg.Type)
	if cfg.EDNS {
		m.SetEdns0(1232, false)
	}
	query, err := m.Pack()
	if err != nil {
		return Result{}, fmt.Errorf("dnsbench: %w", err)
	}
	var sent, answered, lost atomic.Int64
	var rmu sync.Mutex
	rcodes := map[int]int64{}
	deadline := time.Now().Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Sockets)
	for range cfg.Sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[int]int64{}
			s, a, l, err := worker(ctx, cfg, query, local)
			sent.Add(s)
			answered.Add(a)
			lost.Add(l)
			rmu.Lock()
			for k, v := range local {
				rcodes[k] += v
			}
			rmu.Unlock()
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return Result{}, err
	}
	r := Result{Sent: sent.Load(), Answered: answered.Load(), Lost: lost.Load(), Rcodes: rcodes, Elapsed: elapsed}
	r.QPS = float64(r.Answered) / elapsed.Seconds()
	return r, nil
}

// worker runs one socket: it keeps cfg.InFlight queries outstanding,
// sending one more for each answer, and counts a window as lost when no
// answer comes for 100 ms.
func worker(ctx context.Context, cfg Config, query []byte, rcodes map[int]int64) (sent, answered, lost int64, err error) {
	c, err := net.Dial("udp", cfg.Server)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("dnsbench: %w", err)
	}
	defer c.Close()
	q := append([]byte(nil), query...)
	var id uint16
	send := func() error {
		id++
		binary.BigEndian.PutUint16(q, id)
		_, err := c.Write(q)
		if err == nil {
			sent++
		}
		return err
	}
	outstanding := 0
	for range cfg.InFlight {
		if err := send(); err != nil {
			return sent, answered, lost, err
		}
		outstanding++
	}
	buf := make([]byte, 65535)
	for ctx.Err() == nil {
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				lost += int64(outstanding)
				outstanding = 0
				for range cfg.InFlight {
					if err := send(); err != nil {
						return sent, answered, lost, err
					}
					outstanding++
				}
				continue
			}
			return sent, answered, lost, err
		}
		if n >= 4 {
			answered++
			rcodes[int(buf[3]&0x0f)]++
		}
		outstanding--
		if err := send(); err != nil {
			return sent, answered, lost, err
		}
		outstanding++
	}
	return sent, answered, lost, nil
}
