// Command load is the benchmark's load generator: closed-loop HTTP/1.1 keep-alive requests
// over N connections (like wrk), optionally from a chosen source address (which wrk cannot
// bind), for a bounded time. It measures requests/s, latency percentiles and errors, and the
// CPU time (utime+stime from /proc/{pid}/stat) and RSS of the processes under test over the
// same window, and prints one JSON object.
//
//	load -addr 127.0.0.1:18080 -host api.example -path /prod/x -c 64 -d 8s -pids 1234
//
// It speaks just enough HTTP/1.1 for the benchmark (Content-Length and chunked bodies,
// Connection: close) so that its own cost per request stays small.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// headerList collects repeated -H flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

type config struct {
	addr     string
	host     string
	path     string
	headers  headerList
	conns    int
	duration time.Duration
	warmup   time.Duration
	source   string
	pids     []int
	auxPids  []int
	label    string
	clkTck   int
	timeout  time.Duration
}

// Result is the JSON the command prints.
type Result struct {
	Label        string         `json:"label"`
	Conns        int            `json:"conns"`
	Seconds      float64        `json:"seconds"`
	Requests     int64          `json:"requests"` // completed in the measured window
	Total        int64          `json:"total"`    // completed in all phases (for log-line checks)
	RPS          float64        `json:"rps"`
	P50us        float64        `json:"p50_us"`
	P90us        float64        `json:"p90_us"`
	P99us        float64        `json:"p99_us"`
	P999us       float64        `json:"p999_us"`
	MaxUs        float64        `json:"max_us"`
	MeanUs       float64        `json:"mean_us"`
	Errors       int64          `json:"errors"` // transport errors + non-2xx answers
	Non2xx       int64          `json:"non2xx"`
	Status       map[string]int `json:"status"`
	FirstError   string         `json:"first_error,omitempty"`
	CPUSeconds   float64        `json:"cpu_s"`
	CPUUsPerReq  float64        `json:"cpu_us_per_req"`
	UserUsPerReq float64        `json:"user_us_per_req"` // the utime part
	SysUsPerReq  float64        `json:"sys_us_per_req"`  // the stime part
	RSSKB        int64          `json:"rss_kb"`          // at the end of the window, all processes
	HWMKB        int64          `json:"hwm_kb"`          // peak RSS (VmHWM) so far, all processes
	Procs        int            `json:"procs"`
	AuxCPUUs     float64        `json:"aux_cpu_us_per_req"`    // e.g. the backend's
	LoaderCPUUs  float64        `json:"loader_cpu_us_per_req"` // this process's own
	// OtherCores is the CPU the rest of the machine used during the window, in cores: all
	// CPUs' busy time (/proc/stat) less the measured processes', the aux ones' and this
	// process's own. Near 0 on a quiet machine; anything else is noise in the figures.
	OtherCores float64 `json:"other_cores"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	var c config
	var pids, aux string
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:18001", "host:port to connect to")
	fs.StringVar(&c.host, "host", "", "Host header (default: -addr)")
	fs.StringVar(&c.path, "path", "/", "request path")
	fs.Var(&c.headers, "H", `extra request header "Name: value" (repeatable)`)
	fs.IntVar(&c.conns, "c", 64, "connections")
	fs.DurationVar(&c.duration, "d", 8*time.Second, "measured duration")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured warm-up before the window")
	fs.StringVar(&c.source, "src", "", "source address to bind (e.g. 127.10.0.5)")
	fs.StringVar(&pids, "pids", "", "comma-separated pids whose CPU and RSS (with all descendants) are measured")
	fs.StringVar(&aux, "aux-pids", "", "comma-separated pids whose CPU per request is reported alongside")
	fs.StringVar(&c.label, "label", "", "label copied to the output")
	fs.IntVar(&c.clkTck, "clk-tck", 100, "clock ticks per second (getconf CLK_TCK)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "per-request timeout after the window ends")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.conns < 1 || c.duration <= 0 {
		return errors.New("-c must be ≥ 1 and -d > 0")
	}
	if c.host == "" {
		c.host = c.addr
	}
	var err error
	if c.pids, err = parsePids(pids); err != nil {
		return err
	}
	if c.auxPids, err = parsePids(aux); err != nil {
		return err
	}
	res, err := runLoad(context.Background(), &c)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(res)
}

func parsePids(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("bad pid %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// Phases of a run; workers count only the requests that complete while measuring.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

type worker struct {
	lat      []int64 // ns, measured requests only
	n        int64
	total    int64
	errs     int64
	non2xx   int64
	status   map[int]int
	firstErr string
}

func runLoad(ctx context.Context, c *config) (*Result, error) {
	req := buildRequest(c)
	var phase atomic.Int32
	deadline := time.Now().Add(c.warmup + c.duration + c.timeout)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	if c.source != "" {
		ip := net.ParseIP(c.source)
		if ip == nil {
			return nil, fmt.Errorf("bad -src %q", c.source)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: ip}
	}
	// Fail fast if the target does not answer at all.
	probe, err := dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", c.addr, err)
	}
	probe.Close()

	workers := make([]*worker, c.conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{status: map[int]int{}, lat: make([]int64, 0, 1<<14)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, dialer, c.addr, req, &phase, deadline)
		}()
	}

	time.Sleep(c.warmup)
	cpu0 := readCPU(c.pids)
	aux0 := readCPU(c.auxPids)
	busy0 := machineBusyTicks()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	phase.Store(phaseMeasure)
	time.Sleep(c.duration)
	phase.Store(phaseStop)
	elapsed := time.Since(t0)
	cpu1 := readCPU(c.pids)
	aux1 := readCPU(c.auxPids)
	busy1 := machineBusyTicks()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	wg.Wait()

	res := &Result{Label: c.label, Conns: c.conns, Seconds: elapsed.Seconds(), Status: map[string]int{}}
	var all []int64
	for _, w := range workers {
		res.Requests += w.n
		res.Total += w.total
		res.Errors += w.errs + w.non2xx
		res.Non2xx += w.non2xx
		for k, v := range w.status {
			res.Status[strconv.Itoa(k)] += v
		}
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
		all = append(all, w.lat...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return float64(all[i]) / 1e3
	}
	res.P50us, res.P90us, res.P99us, res.P999us = pct(0.50), pct(0.90), pct(0.99), pct(0.999)
	if len(all) > 0 {
		res.MaxUs = float64(all[len(all)-1]) / 1e3
		var sum int64
		for _, v := range all {
			sum += v
		}
		res.MeanUs = float64(sum) / float64(len(all)) / 1e3
	}
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	tick := 1e6 / float64(c.clkTck) // µs per tick
	if len(c.pids) > 0 {
		ticks := cpu1.ticksSince(cpu0)
		res.CPUSeconds = float64(ticks) * tick / 1e6
		if res.Requests > 0 {
			res.CPUUsPerReq = float64(ticks) * tick / float64(res.Requests)
			sys := cpu1.sysSince(cpu0)
			res.SysUsPerReq = float64(sys) * tick / float64(res.Requests)
			res.UserUsPerReq = float64(ticks-sys) * tick / float64(res.Requests)
		}
		res.RSSKB = cpu1.rssKB
		res.HWMKB = cpu1.hwmKB
		res.Procs = len(cpu1.ticks)
	}
	if len(c.auxPids) > 0 && res.Requests > 0 {
		res.AuxCPUUs = float64(aux1.ticksSince(aux0)) * tick / float64(res.Requests)
	}
	us := func(tv syscall.Timeval) float64 { return float64(tv.Sec)*1e6 + float64(tv.Usec) }
	self := us(ru1.Utime) + us(ru1.Stime) - us(ru0.Utime) - us(ru0.Stime)
	if res.Requests > 0 {
		res.LoaderCPUUs = self / float64(res.Requests)
	}
	if busy0 > 0 && busy1 > busy0 {
		union := func(a, b cpuSnap) cpuSnap { // the backend can be both the target and aux
			u := cpuSnap{ticks: maps.Clone(a.ticks)}
			maps.Copy(u.ticks, b.ticks)
			return u
		}
		ours := float64(union(cpu1, aux1).ticksSince(union(cpu0, aux0)))*tick + self // µs
		res.OtherCores = max(0, (float64(busy1-busy0)*tick-ours)/1e6/elapsed.Seconds())
	}
	return res, nil
}

func buildRequest(c *config) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-bench/1\r\nAccept: */*\r\n", c.path, c.host)
	for _, h := range c.headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func (w *worker) fail(err error) {
	w.errs++
	if w.firstErr == "" {
		w.firstErr = err.Error()
	}
}

func (w *worker) loop(ctx context.Context, d *net.Dialer, addr string, req []byte, phase *atomic.Int32, deadline time.Time) {
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for phase.Load() != phaseStop {
		if conn == nil {
			cn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				if phase.Load() == phaseMeasure {
					w.fail(err)
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			_ = cn.SetDeadline(deadline)
			if tc, ok := cn.(*net.TCPConn); ok {
				_ = tc.SetNoDelay(true)
			}
			conn = cn
			if br == nil {
				br = bufio.NewReaderSize(cn, 32<<10)
			} else {
				br.Reset(cn)
			}
		}
		start := time.Now()
		_, err := conn.Write(req)
		var status int
		var closeConn bool
		if err == nil {
			status, closeConn, err = readResponse(br)
		}
		end := time.Now()
		measuring := phase.Load() == phaseMeasure
		if err == nil {
			w.total++
		}
		if err != nil {
			if measuring {
				w.fail(err)
			}
			conn.Close()
			conn = nil
			continue
		}
		if measuring {
			w.n++
			w.lat = append(w.lat, int64(end.Sub(start)))
			w.status[status]++
			if status < 200 || status > 299 {
				w.non2xx++
			}
		}
		if closeConn {
			conn.Close()
			conn = nil
		}
	}
}

var errMalformed = errors.New("malformed HTTP response")

// readResponse reads one response and discards its body. It returns the status and
// whether the server will close the connection.
func readResponse(br *bufio.Reader) (status int, closeConn bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errMalformed
	}
	status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	http10 := line[7] == '0'
	closeConn = http10
	length := int64(-1)
	chunked := false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 { // "\r\n"
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, false, errMalformed
		}
		name := line[:colon]
		val := bytes.TrimSpace(line[colon+1:])
		switch {
		case len(name) == 14 && bytes.EqualFold(name, []byte("Content-Length")):
			n, perr := strconv.ParseInt(string(val), 10, 64)
			if perr != nil {
				return 0, false, errMalformed
			}
			length = n
		case len(name) == 17 && bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(val), []byte("chunked"))
		case len(name) == 10 && bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(val, []byte("close")) {
				closeConn = true
			} else if bytes.EqualFold(val, []byte("keep-alive")) {
				closeConn = false
			}
		}
	}
	switch {
	case status == 204 || status == 304 || status/100 == 1:
		return status, closeConn, nil
	case chunked:
		return status, closeConn, discardChunked(br)
	case length >= 0:
		_, err = br.Discard(int(length))
		return status, closeConn, err
	default: // body until close
		_, err = io.Copy(io.Discard, br)
		return status, true, err
	}
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		s := strings.TrimSpace(string(line))
		if i := strings.IndexByte(s, ';'); i >= 0 {
			s = s[:i]
		}
		n, err := strconv.ParseInt(s, 16, 64)
		if err != nil {
			return errMalformed
		}
		if n == 0 {
			for { // trailers
				line, err = br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) <= 2 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// cpuSnap is the utime+stime (in clock ticks) of a set of processes, and their total RSS.
type cpuSnap struct {
	ticks map[int]int64
	sys   map[int]int64 // the stime part of ticks
	rssKB int64
	hwmKB int64
}

func (s cpuSnap) ticksSince(old cpuSnap) int64 {
	var t int64
	for pid, v := range s.ticks {
		t += v - old.ticks[pid]
	}
	return t
}

func (s cpuSnap) sysSince(old cpuSnap) int64 {
	var t int64
	for pid, v := range s.sys {
		t += v - old.sys[pid]
	}
	return t
}

// readCPU reads the roots and all their descendants.
func readCPU(roots []int) cpuSnap {
	snap := cpuSnap{ticks: map[int]int64{}, sys: map[int]int64{}}
	if len(roots) == 0 {
		return snap
	}
	type st struct {
		ppid  int
		ticks int64
		sys   int64
		rss   int64
	}
	procs := map[int]st{}
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 22 {
			continue
		}
		// f[0] is field 3 (state): field n is f[n-3].
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		stt, _ := strconv.ParseInt(f[12], 10, 64)
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		procs[pid] = st{ppid: ppid, ticks: ut + stt, sys: stt, rss: rss * int64(os.Getpagesize()) / 1024}
		children[ppid] = append(children[ppid], pid)
	}
	var walk func(int)
	walk = func(pid int) {
		p, ok := procs[pid]
		if !ok {
			return
		}
		if _, seen := snap.ticks[pid]; seen {
			return
		}
		snap.ticks[pid] = p.ticks
		snap.sys[pid] = p.sys
		snap.rssKB += p.rss
		snap.hwmKB += vmHWM(pid)
		for _, ch := range children[pid] {
			walk(ch)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return snap
}

// vmHWM returns a process's peak resident set size in KiB (0 if unknown).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// machineBusyTicks is the busy time of all CPUs (user, nice, system, irq, softirq, steal)
// from /proc/stat, in clock ticks; 0 if unknown.
func machineBusyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var t int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, _ := strconv.ParseInt(f[i], 10, 64)
		t += n
	}
	return t
}
