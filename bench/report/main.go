// Command report turns bench/run's measurements into markdown: the comparison tables, the
// access-log check, the RSS check and the perf profile summary. It prints the run's section
// and, with -results, puts it at the top of RESULTS.md's runs, keeping the two most recent
// and everything above the runs marker (the hand-written analysis).
//
//	report -dir bench/out/results -profile bench/out/profile [-results bench/RESULTS.md]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const (
	runsMarker = "<!-- runs: written by bench/run, newest first; the two most recent are kept -->"
	runBegin   = "<!-- run:begin -->"
	runEnd     = "<!-- run:end -->"
	keepRuns   = 2
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	dir := fs.String("dir", "bench/out/results", "results directory")
	prof := fs.String("profile", "bench/out/profile", "profile directory")
	results := fs.String("results", "", "RESULTS.md to update (empty: print only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := load(*dir)
	if err != nil {
		return err
	}
	section := render(d, *prof)
	if _, err := io.WriteString(stdout, section); err != nil {
		return err
	}
	if *results != "" {
		return updateResults(*results, section)
	}
	return nil
}

// sample is one load-generator run (bench/load's JSON).
type sample struct {
	Label        string  `json:"label"`
	Conns        int     `json:"conns"`
	Seconds      float64 `json:"seconds"`
	Requests     int64   `json:"requests"`
	Total        int64   `json:"total"`
	RPS          float64 `json:"rps"`
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
	Errors       int64   `json:"errors"`
	FirstError   string  `json:"first_error"`
	CPUSeconds   float64 `json:"cpu_s"`
	CPUUsPerReq  float64 `json:"cpu_us_per_req"`
	UserUsPerReq float64 `json:"user_us_per_req"`
	SysUsPerReq  float64 `json:"sys_us_per_req"`
	RSSKB        int64   `json:"rss_kb"`
	HWMKB        int64   `json:"hwm_kb"`
	AuxCPUUs     float64 `json:"aux_cpu_us_per_req"`
	LoaderCPUUs  float64 `json:"loader_cpu_us_per_req"`
	OtherCores   float64 `json:"other_cores"`
}

// agg is one target at one connection count, over all rounds.
type agg struct {
	rounds          int
	requests        int64
	seconds, cpu    float64
	rps             float64
	p50, p99        float64 // median over rounds
	errors          int64
	firstErr        string
	rssKB           int64
	auxUs, loaderUs float64
	rpsMin, rpsMax  float64
	cpuPerReq       float64
	cpuMin, cpuMax  float64
	userUs, sysUs   float64
	otherCores      float64 // mean over rounds
}

type target struct {
	name, label, what, why string
}

// syscallCount is one target's perf stat counts over a load window.
type syscallCount struct {
	requests           int64
	syscalls, switches float64
}

type data struct {
	syscalls map[string]syscallCount
	targets  []target
	byConns  map[int]map[string]*agg
	conns    []int
	facts    [][2]string
	logcheck [][3]string
	rss      *sample
	rssAPIs  int
}

func load(dir string) (*data, error) {
	d := &data{byConns: map[int]map[string]*agg{}}
	rows, err := readTSV(filepath.Join(dir, "targets.tsv"))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		for len(r) < 4 {
			r = append(r, "")
		}
		d.targets = append(d.targets, target{r[0], r[1], r[2], r[3]})
	}
	if rows, err = readTSV(filepath.Join(dir, "facts.tsv")); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if len(r) >= 2 {
			d.facts = append(d.facts, [2]string{r[0], r[1]})
		}
	}
	if rows, err = readTSV(filepath.Join(dir, "logcheck.tsv")); err == nil {
		for _, r := range rows {
			if len(r) >= 3 {
				d.logcheck = append(d.logcheck, [3]string{r[0], r[1], r[2]})
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.c*.r*.json"))
	if err != nil {
		return nil, err
	}
	samples := map[int]map[string][]sample{}
	for _, f := range files {
		var s sample
		if err := readJSON(f, &s); err != nil {
			return nil, err
		}
		if samples[s.Conns] == nil {
			samples[s.Conns] = map[string][]sample{}
		}
		samples[s.Conns][s.Label] = append(samples[s.Conns][s.Label], s)
	}
	for c, m := range samples {
		d.conns = append(d.conns, c)
		d.byConns[c] = map[string]*agg{}
		for name, ss := range m {
			d.byConns[c][name] = aggregate(ss)
		}
	}
	slices.Sort(d.conns)
	d.syscalls = map[string]syscallCount{}
	for _, t := range d.targets {
		var ld sample
		if readJSON(filepath.Join(dir, "syscalls-"+t.name+".load.json"), &ld) != nil {
			continue
		}
		rows, err := readTSV(filepath.Join(dir, "syscalls-"+t.name+".perf.csv"))
		if err != nil {
			continue
		}
		sc := syscallCount{requests: ld.Requests}
		for _, r := range rows {
			f := strings.Split(r[0], ",")
			if len(f) < 3 {
				continue
			}
			n, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				continue
			}
			switch f[2] {
			case "raw_syscalls:sys_enter":
				sc.syscalls = n
			case "context-switches":
				sc.switches = n
			}
		}
		if sc.requests > 0 && sc.syscalls > 0 {
			d.syscalls[t.name] = sc
		}
	}
	var rss sample
	if err := readJSON(filepath.Join(dir, "rss.json"), &rss); err == nil {
		d.rss = &rss
		var sum struct {
			APIs int `json:"apis"`
		}
		_ = readJSON(filepath.Join(dir, "rss-summary.json"), &sum)
		d.rssAPIs = sum.APIs
	}
	return d, nil
}

func aggregate(ss []sample) *agg {
	a := &agg{rounds: len(ss), rpsMin: -1, cpuMin: -1}
	var p50s, p99s []float64
	for _, s := range ss {
		a.requests += s.Requests
		a.seconds += s.Seconds
		a.cpu += s.CPUSeconds
		a.errors += s.Errors
		if a.firstErr == "" {
			a.firstErr = s.FirstError
		}
		a.rssKB = max(a.rssKB, s.RSSKB)
		a.otherCores += s.OtherCores / float64(len(ss))
		a.auxUs += s.AuxCPUUs * float64(s.Requests)
		a.userUs += s.UserUsPerReq * float64(s.Requests)
		a.sysUs += s.SysUsPerReq * float64(s.Requests)
		a.loaderUs += s.LoaderCPUUs * float64(s.Requests)
		p50s = append(p50s, s.P50us)
		p99s = append(p99s, s.P99us)
		if a.rpsMin < 0 || s.RPS < a.rpsMin {
			a.rpsMin = s.RPS
		}
		a.rpsMax = max(a.rpsMax, s.RPS)
		if a.cpuMin < 0 || s.CPUUsPerReq < a.cpuMin {
			a.cpuMin = s.CPUUsPerReq
		}
		a.cpuMax = max(a.cpuMax, s.CPUUsPerReq)
	}
	if a.seconds > 0 {
		a.rps = float64(a.requests) / a.seconds
	}
	if a.requests > 0 {
		a.cpuPerReq = a.cpu * 1e6 / float64(a.requests)
		a.auxUs /= float64(a.requests)
		a.userUs /= float64(a.requests)
		a.sysUs /= float64(a.requests)
		a.loaderUs /= float64(a.requests)
	}
	a.p50, a.p99 = median(p50s), median(p99s)
	return a
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func render(d *data, profDir string) string {
	var b strings.Builder
	fact := func(k string) string {
		for _, f := range d.facts {
			if f[0] == k {
				return f[1]
			}
		}
		return "?"
	}
	fmt.Fprintf(&b, "## Run %s\n\n", fact("date"))
	fmt.Fprintf(&b, "Command: `%s` (%s)\n\n", fact("command"), fact("settings"))
	fmt.Fprintf(&b, "Machine: %s vCPUs (%s), %s, kernel %s, %s, %s. Load generator, proxy and backend share the machine, all on loopback.\n\n",
		fact("nproc"), fact("cpu"), fact("memory"), fact("kernel"), fact("os"), fact("go"))
	fmt.Fprintf(&b, "Versions: gatehouse %s; nginx %s; HAProxy %s; Caddy %s; Traefik %s; perf %s; wrk %s.\n\n",
		fact("gatehouse"), fact("nginx"), fact("haproxy"), fact("caddy"), fact("traefik"), fact("perf"), fact("wrk"))
	var other, n float64
	for _, m := range d.byConns {
		for _, a := range m {
			other += a.otherCores
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(&b, "Other load: the rest of the machine used %.2f cores on average during the measurement windows (of %s)", other/n, fact("nproc"))
		if other/n > 0.2 {
			b.WriteString(" — **other work was running on this machine during the run**: req/s and latencies are depressed and noisy; CPU µs/req, measured per process, is the figure to compare (it is inflated too, less)")
		}
		b.WriteString(".\n\n")
	}
	b.WriteString("Load: `bench/load` (Go, closed loop, keep-alive, like wrk; it binds 127.10.0.5 for the private modes) on every target. " +
		"CPU µs/req = utime+stime of all the target's processes over the measured window ÷ requests in that window; " +
		"RSS = their resident memory at the end of the window. Ratios: req/s ÷ the backend alone's and ÷ gatehouse (a)'s at the same connection count; CPU ÷ gatehouse (a)'s.\n\n")

	for _, c := range slices.Backward(d.conns) {
		m := d.byConns[c]
		be, gh := m["backend"], m["gh-a"]
		fmt.Fprintf(&b, "### %d connection%s\n\n", c, plural(c))
		b.WriteString("| target | what it does | req/s | × backend | × gatehouse (a) | p50 µs | p99 µs | p99 − backend's | errors | CPU µs/req | CPU × gatehouse (a) | RSS MB |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range d.targets {
			a := m[t.name]
			if a == nil {
				continue
			}
			cpu, cpuRatio := "—", "—"
			if t.name == "backend" {
				cpu = fmt.Sprintf("(%.1f own)", a.cpuPerReq)
			} else {
				cpu = fmt.Sprintf("%.1f", a.cpuPerReq)
				if gh != nil && gh.cpuPerReq > 0 {
					cpuRatio = fmt.Sprintf("%.2f", a.cpuPerReq/gh.cpuPerReq)
				}
			}
			errs := strconv.FormatInt(a.errors, 10)
			if a.errors > 0 && a.firstErr != "" {
				errs += " (" + trim(a.firstErr, 40) + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f | %.0f | %s | %s | %s | %s | %.1f |\n",
				t.label, t.what, thousands(a.rps), ratio(a.rps, be), ratio(a.rps, gh), a.p50, a.p99, above(a.p99, be),
				errs, cpu, cpuRatio, float64(a.rssKB)/1024)
		}
		b.WriteString("\n")
	}

	if m := d.byConns[64]; m != nil {
		b.WriteString("### Where each target's CPU goes, 64 connections\n\n")
		b.WriteString("User and kernel CPU per request from the table's runs (utime and stime); syscalls and context switches per request from a separate window under `perf stat` (raw_syscalls:sys_enter, context-switches). " +
			"Other load: the CPU the rest of the machine used during the target's windows, in cores (all CPUs' busy time from /proc/stat less the target's, the backend's and the load generator's): 0 on a quiet machine.\n\n")
		b.WriteString("| target | CPU µs/req | user µs/req | kernel µs/req | syscalls/req | context switches/req | other load (cores) |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range d.targets {
			a := m[t.name]
			if a == nil {
				continue
			}
			sys, sw := "—", "—"
			if sc, ok := d.syscalls[t.name]; ok {
				sys = fmt.Sprintf("%.1f", sc.syscalls/float64(sc.requests))
				sw = fmt.Sprintf("%.2f", sc.switches/float64(sc.requests))
			}
			fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %s | %s | %.2f |\n", t.label, a.cpuPerReq, a.userUs, a.sysUs, sys, sw, a.otherCores)
		}
		b.WriteString("\n")
	}

	var missing []target
	for _, t := range d.targets {
		if t.why != "" {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		b.WriteString("Not measured in this run:\n\n")
		for _, t := range missing {
			fmt.Fprintf(&b, "- **%s** (%s): %s\n", t.label, t.what, t.why)
		}
		b.WriteString("\n")
	}

	if len(d.logcheck) > 0 {
		b.WriteString("Access logs (every response of every phase, warm-up included, must have its line):\n\n")
		b.WriteString("| target | log lines | responses sent | complete |\n|---|---:|---:|---|\n")
		for _, l := range d.logcheck {
			ok := "yes"
			if l[1] != l[2] {
				lines, _ := strconv.Atoi(l[1])
				sent, _ := strconv.Atoi(l[2])
				ok = fmt.Sprintf("**no**: %d missing", sent-lines)
				if strings.HasPrefix(l[0], "haproxy") {
					ok += " (HAProxy drops a log line rather than wait when another thread holds the log fd)"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", labelOf(d, l[0]), l[1], l[2], ok)
		}
		b.WriteString("\n")
	}

	if d.rss != nil {
		before := ""
		if a := d.byConns[64]["gh-a"]; a != nil {
			before = fmt.Sprintf(" (with 2 APIs, in the table above: %.1f MB)", float64(a.rssKB)/1024)
		}
		fmt.Fprintf(&b, "RSS check: gatehouse with %d APIs deployed, mode (a) at %d connections: **RSS %.1f MB**, peak %.1f MB%s; %s req/s, %d errors. Target: ≤ 100 MB.\n\n",
			d.rssAPIs, d.rss.Conns, float64(d.rss.RSSKB)/1024, float64(d.rss.HWMKB)/1024, before, thousands(d.rss.RPS), d.rss.Errors)
	}

	// Targets of issue 3, where this run can tell.
	if m := d.byConns[64]; m != nil {
		var lines []string
		if a := m["gh-a"]; a != nil {
			lines = append(lines, fmt.Sprintf("mode (a) ≤ 30 CPU µs/req: %.1f — %s", a.cpuPerReq, met(a.cpuPerReq <= 30)))
		}
		if a := m["gh-c"]; a != nil {
			lines = append(lines, fmt.Sprintf("mode (c) ≤ 40 CPU µs/req: %.1f — %s", a.cpuPerReq, met(a.cpuPerReq <= 40)))
			if h := m["haproxy-jwt-rl-log"]; h != nil && h.rps > 0 {
				lines = append(lines, fmt.Sprintf("mode (c) ≥ 1.5× HAProxy JWT + rate limit + log in req/s: %.2f× — %s", a.rps/h.rps, met(a.rps >= 1.5*h.rps)))
			}
			if tr := m["traefik-mw"]; tr != nil && tr.rps > 0 {
				lines = append(lines, fmt.Sprintf("mode (c) ≥ 3× Traefik + rate limit + log in req/s: %.2f× — %s", a.rps/tr.rps, met(a.rps >= 3*tr.rps)))
			}
		}
		if a, c := m["gh-d"], m["gh-c"]; a != nil && c != nil && c.rps > 0 {
			lines = append(lines, fmt.Sprintf("mode (d) within 10%% of mode (c) (warm authorizer cache), req/s: %.2f× — %s", a.rps/c.rps, met(a.rps >= 0.9*c.rps)))
		}
		if c1 := d.byConns[1]; c1 != nil && c1["backend"] != nil {
			for _, n := range []string{"gh-a", "gh-b", "gh-b-log", "gh-c", "gh-d"} {
				if a := c1[n]; a != nil {
					delta := a.p99 - c1["backend"].p99
					lines = append(lines, fmt.Sprintf("%s p99 at 1 connection ≤ 1 ms above the backend's: +%.0f µs — %s", labelOf(d, n), delta, met(delta <= 1000)))
				}
			}
		}
		if d.rss != nil {
			lines = append(lines, fmt.Sprintf("RSS ≤ 100 MB with %d APIs under 64 connections: %.1f MB — %s", d.rssAPIs, float64(d.rss.RSSKB)/1024, met(d.rss.RSSKB <= 100*1024)))
		}
		var errs int64
		for _, c := range d.conns {
			for _, n := range []string{"gh-a", "gh-b", "gh-b-log", "gh-c", "gh-d"} {
				if a := d.byConns[c][n]; a != nil {
					errs += a.errors
				}
			}
		}
		lines = append(lines, fmt.Sprintf("no errors in any gatehouse run: %d — %s", errs, met(errs == 0)))
		b.WriteString("Issue 3 targets this run can check:\n\n")
		for _, l := range lines {
			b.WriteString("- " + l + "\n")
		}
		b.WriteString("\n")
	}

	b.WriteString(renderProfiles(profDir))
	return b.String()
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func labelOf(d *data, name string) string {
	for _, t := range d.targets {
		if t.name == name {
			return t.label
		}
	}
	return name
}

func ratio(v float64, base *agg) string {
	if base == nil || base.rps == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", v/base.rps)
}

func above(p99 float64, base *agg) string {
	if base == nil {
		return "—"
	}
	return fmt.Sprintf("%+.0f", p99-base.p99)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func trim(s string, n int) string {
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Profiles: perf report text (bench/run writes {target}.self.txt and .children.txt).

var (
	selfLine     = regexp.MustCompile(`^\s+([\d.]+)%\s+\[(.)\]\s+(.+?)\s*$`)
	childrenLine = regexp.MustCompile(`^\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.+?)\s*$`)
)

type perfRow struct {
	children, self float64
	kernel         bool
	sym            string
}

// ipcColumns are the "IPC [IPC Coverage]" columns perf appends ("-  -" without LBR).
var ipcColumns = regexp.MustCompile(`\s+-\s+-\s*$`)

func readPerf(path string, children bool) ([]perfRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []perfRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := ipcColumns.ReplaceAllString(sc.Text(), "")
		if children {
			if m := childrenLine.FindStringSubmatch(line); m != nil {
				c, _ := strconv.ParseFloat(m[1], 64)
				s, _ := strconv.ParseFloat(m[2], 64)
				rows = append(rows, perfRow{children: c, self: s, kernel: m[3] == "k", sym: m[4]})
			}
			continue
		}
		if m := selfLine.FindStringSubmatch(line); m != nil {
			s, _ := strconv.ParseFloat(m[1], 64)
			rows = append(rows, perfRow{self: s, kernel: m[2] == "k", sym: m[3]})
		}
	}
	return rows, sc.Err()
}

// stages are the inclusive frames that show where a request's time goes.
var stages = []struct{ label, sym string }{
	{"net/http server: one connection's loop (all request work)", "net/http.(*conn).serve"},
	{"  reading and parsing the request", "net/http.(*conn).readRequest"},
	{"  gatehouse handler (dataplane serve)", "gatehouse/internal/dataplane.(*Server).serve"},
	{"    newRequest (ids, addresses)", "gatehouse/internal/dataplane.(*Server).newRequest"},
	{"    admit (resolve API, stage, routes, policies)", "gatehouse/internal/dataplane.(*Server).admit"},
	{"      resource policy Evaluate", "gatehouse/internal/policy.(*Policy).Evaluate"},
	{"      fillPolicyContext", "gatehouse/internal/dataplane.(*Server).fillPolicyContext"},
	{"    proxy (HTTP_PROXY integration)", "gatehouse/internal/dataplane.(*Server).proxy"},
	{"      Transport.RoundTrip (to the backend)", "net/http.(*Transport).roundTrip"},
	{"      upstream Pool.Do (to the backend)", "gatehouse/internal/upstream.(*Pool).Do"},
	{"    authorize (authorizers)", "gatehouse/internal/dataplane.(*Server).authorize"},
	{"    finish (metrics, access log)", "gatehouse/internal/dataplane.(*Server).finish"},
	{"      access-log formatting", "gatehouse/internal/accesslog.(*Format).Append"},
	{"  response flush to the client", "net/http.(*response).finishRequest"},
	{"backend connection read loop", "net/http.(*persistConn).readLoop"},
	{"backend connection write loop", "net/http.(*persistConn).writeLoop"},
	{"garbage collector (background mark)", "runtime.gcBgMarkWorker"},
	{"allocation (mallocgc, all callers)", "runtime.mallocgc"},
	{"scheduler (schedule/findRunnable)", "runtime.schedule"},
	{"syscalls (all)", "internal/runtime/syscall.Syscall6"},
	{"request ids (crypto/rand)", "gatehouse/internal/awsproto.NewRequestID"},
	{"context.WithTimeout/WithDeadline", "context.WithDeadlineCause"},
	{"prometheus counters/histogram", "github.com/prometheus/client_golang/prometheus.(*histogram).Observe"},
}

// categories order the self-time layers.
var categories = []string{
	"kernel (syscalls, loopback TCP, scheduling)",
	"Go runtime: GC, allocation, scheduler, channels, maps",
	"net/http, bufio, net, textproto (HTTP stack)",
	"gatehouse code",
	"prometheus client",
	"crypto",
	"other (time, strings, sync, vdso, …)",
}

func category(r perfRow) string {
	s := r.sym
	switch {
	case r.kernel:
		return categories[0]
	case strings.HasPrefix(s, "runtime.") || strings.HasPrefix(s, "internal/runtime/") || strings.HasPrefix(s, "aeshash") ||
		strings.HasPrefix(s, "gcWriteBarrier") || strings.HasPrefix(s, "memeqbody") || strings.HasPrefix(s, "indexbytebody") ||
		strings.HasPrefix(s, "internal/bytealg") || strings.HasPrefix(s, "sync/atomic") || strings.HasPrefix(s, "internal/sync"):
		return categories[1]
	case strings.HasPrefix(s, "net/http") || strings.HasPrefix(s, "bufio.") || strings.HasPrefix(s, "net.") ||
		strings.HasPrefix(s, "net/textproto") || strings.HasPrefix(s, "internal/poll") || strings.HasPrefix(s, "net/url") ||
		strings.HasPrefix(s, "syscall.") || strings.HasPrefix(s, "vendor/golang.org/x/net/http"):
		return categories[2]
	case strings.HasPrefix(s, "gatehouse/"):
		return categories[3]
	case strings.Contains(s, "prometheus"):
		return categories[4]
	case strings.HasPrefix(s, "crypto/"):
		return categories[5]
	}
	return categories[6]
}

// buckets classify a perf sample by the most specific pipeline stage on its stack: the
// first bucket (in this order) one of whose functions is on the stack gets the sample.
var buckets = []struct {
	label string
	funcs []string
}{
	{"Transport writeLoop goroutine: request to the backend (write syscall)", []string{"net/http.(*persistConn).writeLoop"}},
	{"Transport readLoop goroutine: response from the backend (read, parse, hand-off)", []string{"net/http.(*persistConn).readLoop"}},
	{"Transport.roundTrip in the handler: get a conn, hand off, wait (channels, select)", []string{"net/http.(*Transport).roundTrip"}},
	{"upstream pool (gatehouse's synchronous HTTP/1.1 client): write the request, read the response head", []string{"gatehouse/internal/upstream.*"}},
	{"gatehouse authorizer (JWT verification, caches)", []string{"gatehouse/internal/authorizer.*"}},
	{"gatehouse throttle (account, usage plan, API key)", []string{"gatehouse/internal/throttle.*"}},
	{"gatehouse finish: metrics, access-log line", []string{"gatehouse/internal/dataplane.(*Server).finish"}},
	{"access-log writer goroutine (buffered file writes)", []string{"gatehouse/internal/accesslog.(*Writer).run"}},
	{"gatehouse proxy: outgoing request, header copies, response copy to the client", []string{"gatehouse/internal/dataplane.(*Server).proxy"}},
	{"gatehouse admit + newRequest (API/stage/route lookup, policies, ids)", []string{"gatehouse/internal/dataplane.(*Server).serve"}},
	{"net/http server: flush the response to the client (write syscall)", []string{"net/http.(*response).finishRequest"}},
	{"net/http server: read and parse the request", []string{"net/http.(*conn).readRequest"}},
	{"net/http server: the rest of conn.serve (background read, deadlines, state)", []string{"net/http.(*conn).serve", "net/http.(*connReader).backgroundRead"}},
	{"GC (background mark workers, assists elsewhere)", []string{"runtime.gcBgMarkWorker"}},
	{"scheduler: goroutine switches, idle spinning, netpoll", []string{"runtime.mcall", "runtime.schedule", "runtime.findRunnable", "runtime.park_m"}},
}

type bucketShare struct {
	label         string
	total, kernel int
}

// onStack reports whether fn is on the stack; fn ending in "*" matches by prefix.
func onStack(stack []string, fn string) bool {
	if p, ok := strings.CutSuffix(fn, "*"); ok {
		return slices.ContainsFunc(stack, func(s string) bool { return strings.HasPrefix(s, p) })
	}
	return slices.Contains(stack, fn)
}

// classify reads `perf script -F ip,sym` output and shares the samples out by bucket.
func classify(path string) ([]bucketShare, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	shares := make([]bucketShare, len(buckets)+1)
	for i, bk := range buckets {
		shares[i].label = bk.label
	}
	shares[len(buckets)].label = "other (sysmon, timers, runtime threads)"
	n := 0
	var stack []string
	leafKernel := false
	flush := func() {
		if len(stack) == 0 {
			return
		}
		n++
		idx := len(buckets)
	find:
		for i, bk := range buckets {
			for _, fn := range bk.funcs {
				if onStack(stack, fn) {
					idx = i
					break find
				}
			}
		}
		shares[idx].total++
		if leafKernel {
			shares[idx].kernel++
		}
		stack = stack[:0]
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			flush()
			continue
		}
		ip, sym, _ := strings.Cut(line, " ")
		if len(stack) == 0 {
			leafKernel = strings.HasPrefix(ip, "ffffffff")
		}
		stack = append(stack, sym)
	}
	flush()
	return shares, n, sc.Err()
}

func renderProfiles(dir string) string {
	var b strings.Builder
	for _, t := range []struct{ name, label string }{{"gh-a", "mode (a)"}, {"gh-b", "mode (b)"}, {"gh-c", "mode (c)"}, {"gh-d", "mode (d)"}} {
		self, err1 := readPerf(filepath.Join(dir, t.name+".self.txt"), false)
		children, err2 := readPerf(filepath.Join(dir, t.name+".children.txt"), true)
		if err1 != nil || err2 != nil || len(self) == 0 {
			continue
		}
		var ld sample
		_ = readJSON(filepath.Join(dir, t.name+".load.json"), &ld)
		fmt.Fprintf(&b, "<details><summary>perf profile of gatehouse, %s at 64 connections (%s req/s, %.1f CPU µs/req while profiled)</summary>\n\n",
			t.label, thousands(ld.RPS), ld.CPUUsPerReq)
		if shares, n, err := classify(filepath.Join(dir, t.name+".script.txt")); err == nil && n > 0 {
			b.WriteString("Every sample counted once, under the most specific stage on its stack (kernel = the sample was in the kernel: syscalls, loopback TCP, scheduling):\n\n")
			b.WriteString("| stage | % of CPU | ≈ µs/req | of which kernel µs |\n|---|---:|---:|---:|\n")
			for _, sh := range shares {
				if sh.total == 0 {
					continue
				}
				pct := 100 * float64(sh.total) / float64(n)
				fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f |\n", sh.label, pct, pct/100*ld.CPUUsPerReq,
					float64(sh.kernel)/float64(n)*ld.CPUUsPerReq)
			}
			b.WriteString("\n")
		}
		b.WriteString("Inclusive share of gatehouse's CPU samples by function (perf --children; a sample counts for every function on its stack; frames inlined by the compiler are counted in their caller):\n\n")
		b.WriteString("| stage | function | % of CPU | ≈ µs/req |\n|---|---|---:|---:|\n")
		idx := map[string]perfRow{}
		for _, r := range children {
			if _, ok := idx[r.sym]; !ok {
				idx[r.sym] = r
			}
		}
		for _, s := range stages {
			r, ok := idx[s.sym]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | `%s` | %.1f | %.1f |\n", s.label, s.sym, r.children, r.children/100*ld.CPUUsPerReq)
		}
		cats := map[string]float64{}
		for _, r := range self {
			cats[category(r)] += r.self
		}
		b.WriteString("\nSelf time by layer:\n\n| layer | % of CPU | ≈ µs/req |\n|---|---:|---:|\n")
		for _, c := range categories {
			if v := cats[c]; v > 0 {
				fmt.Fprintf(&b, "| %s | %.1f | %.1f |\n", c, v, v/100*ld.CPUUsPerReq)
			}
		}
		b.WriteString("\n")
		b.WriteString("Top self-time symbols:\n\n| % self | symbol |\n|---:|---|\n")
		for i, r := range self {
			if i == 25 {
				break
			}
			k := ""
			if r.kernel {
				k = " [kernel]"
			}
			fmt.Fprintf(&b, "| %.1f | `%s`%s |\n", r.self, r.sym, k)
		}
		b.WriteString("\n</details>\n\n")
	}
	return b.String()
}

func updateResults(path, section string) error {
	block := runBegin + "\n" + section + runEnd + "\n"
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	head := "# Benchmark results\n\n" + runsMarker + "\n"
	var runs []string
	if len(old) > 0 {
		s := string(old)
		i := strings.Index(s, runsMarker)
		if i < 0 {
			head = strings.TrimRight(s, "\n") + "\n\n" + runsMarker + "\n"
		} else {
			head = s[:i+len(runsMarker)] + "\n"
			rest := s[i+len(runsMarker):]
			for {
				a := strings.Index(rest, runBegin)
				if a < 0 {
					break
				}
				e := strings.Index(rest[a:], runEnd)
				if e < 0 {
					break
				}
				runs = append(runs, rest[a:a+e+len(runEnd)]+"\n")
				rest = rest[a+e+len(runEnd):]
			}
		}
	}
	runs = append([]string{block}, runs...)
	if len(runs) > keepRuns {
		runs = runs[:keepRuns]
	}
	return os.WriteFile(path, []byte(head+"\n"+strings.Join(runs, "\n")), 0o644)
}

func readTSV(path string) ([][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		out = append(out, strings.Split(line, "\t"))
	}
	return out, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
