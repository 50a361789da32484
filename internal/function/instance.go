package function

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/awsproto"
)

// Runtime API headers (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	hdrErrorType     = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody     = "Lambda-Runtime-Function-Error-Body" // trailer, base64
	runtimePrefix    = "/2018-06-01/runtime/"
	maxErrorBody     = 1 << 20
)

// invocation is one call on its way through an instance.
type invocation struct {
	id            string
	arn           string
	payload       []byte
	timeout       time.Duration
	clientContext string
	traceID       string
	tail          bool
	result        chan outcome // capacity 1; receives exactly one outcome

	// Set by the instance under its mu.
	delivered bool
	start     time.Time
	timer     *time.Timer
	logStart  int64
	initDur   time.Duration
}

// outcome is what an invocation ends with: a result, or an error for the
// caller. note is an extra log line (the timeout message).
type outcome struct {
	res  Result
	err  error
	note string
}

func newInvocation(fn *Function, payload []byte, o InvokeOptions) *invocation {
	cc := ""
	if o.ClientContext != "" {
		if b, err := base64.StdEncoding.DecodeString(o.ClientContext); err == nil {
			cc = string(b)
		}
	}
	return &invocation{
		id:            awsproto.NewRequestID(),
		arn:           fn.arn(),
		payload:       payload,
		timeout:       fn.TimeoutDuration(),
		clientContext: cc,
		traceID:       newTraceID(),
		tail:          o.LogTail,
		result:        make(chan outcome, 1),
	}
}

// newTraceID returns an X-Ray trace header value,
// Root=1-{8 hex time}-{24 hex};Parent={16 hex};Sampled=0.
func newTraceID() string {
	var b [12]byte
	for i := range 3 {
		v := rand.Uint32()
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%016x;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:]), rand.Uint64())
}

// instance is one runtime process ("execution environment") and the Runtime
// API it is served on. It runs one invocation at a time.
type instance struct {
	p       *pool
	fp      string
	cmd     *exec.Cmd
	srv     *http.Server
	logf    *os.File
	next    chan *invocation // capacity 1: the invocation for the next /next
	closing chan struct{}    // closed when the instance is being stopped or its process ended
	created time.Time
	memory  int // MB, for REPORT lines

	closeOnce sync.Once

	// lastUsed is guarded by p.mu.
	lastUsed time.Time

	// mu guards the fields below.
	mu        sync.Mutex
	cur       *invocation // assigned and not finished
	initDone  bool        // the runtime has called /next
	initDur   time.Duration
	initTimer *time.Timer
	dead      bool // killed, or the process has exited
}

// entrypoint resolves how fn's runtime process is started: argv, working
// directory, LAMBDA_TASK_ROOT and LAMBDA_RUNTIME_DIR.
func (h *Host) entrypoint(fn *Function) (argv []string, dir, taskRoot, runtimeDir string, err error) {
	if c := fn.Command; c != nil {
		return append([]string{c.Path}, c.Args...), c.Dir, c.Dir, filepath.Dir(c.Path), nil
	}
	root := fn.CodeDir
	switch {
	case strings.HasPrefix(fn.Runtime, "provided"):
		exe := filepath.Join(root, "bootstrap")
		if st, err := os.Stat(exe); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return nil, "", "", "", fmt.Errorf("Couldn't find valid bootstrap(s): [%s]", exe)
		}
		return []string{exe}, root, root, root, nil
	case fn.Runtime == RuntimeGo1x:
		if fn.Handler == "" || strings.Contains(fn.Handler, "/") || fn.Handler == "." || fn.Handler == ".." {
			return nil, "", "", "", fmt.Errorf("invalid handler %q", fn.Handler)
		}
		exe := filepath.Join(root, fn.Handler)
		if st, err := os.Stat(exe); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return nil, "", "", "", fmt.Errorf("fork/exec %s: no such executable", exe)
		}
		return []string{exe}, root, root, root, nil
	case IsPython(fn.Runtime):
		py, err := h.python(fn.Runtime)
		if err != nil {
			return nil, "", "", "", err
		}
		return []string{py, "-u", h.bootstrap}, root, root, filepath.Dir(h.bootstrap), nil
	}
	return nil, "", "", "", fmt.Errorf("runtime %q is not supported", fn.Runtime)
}

// python finds the interpreter for a python3.N runtime: HostOptions.Python,
// else the first of python3.N and python3 on PATH that runs (a pyenv shim
// for a version that is not installed does not). The answer is cached.
func (h *Host) python(runtime string) (string, error) {
	if h.opts.Python != "" {
		return h.opts.Python, nil
	}
	h.pyMu.Lock()
	defer h.pyMu.Unlock()
	if p, ok := h.pythons[runtime]; ok {
		return p, nil
	}
	for _, name := range []string{runtime, "python3"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if err := exec.Command(p, "-c", "import http.client, json").Run(); err != nil {
			continue
		}
		if h.pythons == nil {
			h.pythons = map[string]string{}
		}
		h.pythons[runtime] = p
		return p, nil
	}
	return "", fmt.Errorf("no Python interpreter found for %s (looked for %s and python3 on PATH)", runtime, runtime)
}

// reservedEnv are the variables AWS sets and does not let a function
// override.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true,
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// IsReservedEnv reports whether AWS reserves the environment variable name
// (a function's Environment may not set it).
func IsReservedEnv(name string) bool { return reservedEnv[name] }

// environ is the process environment: AWS's standard variables, the
// function's, the command's.
func (h *Host) environ(fn *Function, apiAddr, taskRoot, runtimeDir string) []string {
	env := map[string]string{
		"PATH": os.Getenv("PATH"),
		"LANG": "en_US.UTF-8",
		"TZ":   ":UTC",
	}
	for k, v := range fn.Environment {
		env[k] = v
	}
	if fn.Command != nil {
		for k, v := range fn.Command.Env {
			env[k] = v
		}
	}
	var stream [16]byte
	for i := range stream {
		stream[i] = byte(rand.Uint32())
	}
	std := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          apiAddr,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.Memory()),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(fn.TimeoutDuration() / time.Second)),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[" + Version + "]" + hex.EncodeToString(stream[:]),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      fn.Region,
		"AWS_DEFAULT_REGION":              fn.Region,
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              runtimeDir,
		"_HANDLER":                        fn.Handler,
	}
	if IsPython(fn.Runtime) || fn.Runtime == RuntimeGo1x {
		std["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.Runtime
	}
	for k, v := range std {
		env[k] = v
	}
	if fn.IsPythonCode() {
		env["PYTHONUNBUFFERED"] = "1"
	}
	if v := fn.VPC; v != nil {
		env["GATEHOUSE_VPC_ID"] = v.ID
		env["GATEHOUSE_VPC_CIDR"] = v.CIDR
		env["GATEHOUSE_VPC_RESOLVER"] = v.Resolver
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// IsPythonCode reports whether f runs a python3.N code package.
func (f *Function) IsPythonCode() bool { return f.CodeDir != "" && IsPython(f.Runtime) }

// startInstance starts a runtime process for fn with its own Runtime API
// listener on 127.0.0.1.
func startInstance(p *pool, fn *Function, fp string, logf *os.File) (*instance, error) {
	h := p.h
	argv, dir, taskRoot, runtimeDir, err := h.entrypoint(fn)
	if err != nil {
		return nil, err
	}
	// Count the instance's goroutines before anything starts, unless Close
	// has begun (its Wait must not race with a new Add).
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	h.wg.Add(2)
	h.mu.Unlock()
	started := false
	defer func() {
		if !started {
			h.wg.Add(-2)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	inst := &instance{
		p:       p,
		fp:      fp,
		logf:    logf,
		next:    make(chan *invocation, 1),
		closing: make(chan struct{}),
		created: time.Now(),
		memory:  fn.Memory(),
	}
	inst.srv = &http.Server{
		Handler:           inst,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = h.environ(fn, ln.Addr().String(), taskRoot, runtimeDir)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = ln.Close()
		return nil, err
	}
	inst.cmd = cmd
	started = true
	inst.mu.Lock()
	inst.initTimer = time.AfterFunc(h.opts.InitTimeout, inst.initTimedOut)
	inst.mu.Unlock()
	go func() {
		defer h.wg.Done()
		_ = inst.srv.Serve(ln)
	}()
	go inst.wait()
	h.log.Debug("instance started", "function", fn.Name, "pid", cmd.Process.Pid)
	return inst, nil
}

// wait reaps the process and ends whatever it was doing.
func (inst *instance) wait() {
	h := inst.p.h
	defer h.wg.Done()
	err := inst.cmd.Wait()
	killGroup(inst.cmd.Process) // whatever it left behind in its group
	inst.mu.Lock()
	inst.dead = true
	cur := inst.cur
	if inst.initTimer != nil {
		inst.initTimer.Stop()
	}
	inst.mu.Unlock()
	inst.stop()
	if cur != nil && !inst.redispatch(cur) {
		inst.finish(cur, inst.exitOutcome(cur, err), false)
	}
	_ = inst.srv.Close()
	inst.p.forget(inst)
	h.log.Debug("instance ended", "function", inst.p.key, "pid", inst.cmd.Process.Pid, "status", fmt.Sprint(err))
}

// redispatch moves an invocation that a warm instance took but never
// delivered (the process ended between two invocations, as aws-lambda-go's
// does after reporting a panic) to a new instance. It reports false when
// the invocation must fail here instead: it had started, or this instance
// never finished its init.
func (inst *instance) redispatch(inv *invocation) bool {
	inst.mu.Lock()
	if inst.cur != inv || inv.delivered || !inst.initDone {
		inst.mu.Unlock()
		return false
	}
	select {
	case <-inst.p.h.done:
		inst.mu.Unlock()
		return false
	case <-inst.p.gone:
		inst.mu.Unlock()
		return false
	default:
	}
	inst.cur = nil
	inst.mu.Unlock()
	p := inst.p
	fn, fp, _ := p.snapshot()
	next, err := p.get(&fn, fp)
	if errors.Is(err, ErrClosed) {
		p.release()
		inv.result <- outcome{err: ErrClosed}
		return true
	}
	if err != nil {
		p.release()
		inv.result <- outcome{res: Result{
			Payload:         entrypointPayload(inv.id, err.Error()),
			FunctionError:   functionErrorUnhandle,
			StatusCode:      http.StatusOK,
			RequestID:       inv.id,
			ExecutedVersion: Version,
		}}
		return true
	}
	next.assign(inv)
	return true
}

// exitOutcome is how an invocation ends when its process did: ErrClosed
// while the host closes, Runtime.ExitError otherwise.
func (inst *instance) exitOutcome(inv *invocation, waitErr error) outcome {
	select {
	case <-inst.p.h.done:
		return outcome{err: ErrClosed}
	default:
	}
	return outcome{res: Result{Payload: exitPayload(inv.id, waitErr), FunctionError: functionErrorUnhandle}}
}

// stop closes closing once.
func (inst *instance) stop() { inst.closeOnce.Do(func() { close(inst.closing) }) }

// kill stops the instance: its whole process group gets SIGKILL; wait does
// the rest.
func (inst *instance) kill() {
	inst.mu.Lock()
	inst.dead = true
	inst.mu.Unlock()
	inst.stop()
	killGroup(inst.cmd.Process)
}

// abort ends the current invocation with err and kills the instance.
func (inst *instance) abort(err error) {
	inst.mu.Lock()
	cur := inst.cur
	inst.mu.Unlock()
	if cur != nil {
		inst.finish(cur, outcome{err: err}, false)
	}
	inst.kill()
}

func (inst *instance) isIdle() bool {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.cur == nil
}

// assign makes inv the instance's invocation; the runtime's next /next
// receives it.
func (inst *instance) assign(inv *invocation) {
	inst.mu.Lock()
	inst.cur = inv
	dead := inst.dead
	inst.mu.Unlock()
	if dead {
		// The process ended after get took it from the warm set.
		if !inst.redispatch(inv) {
			inst.finish(inv, inst.exitOutcome(inv, errors.New("signal: killed")), false)
		}
		return
	}
	inst.next <- inv
}

// finish ends inv with out if it is still the instance's invocation: it logs
// END and REPORT, delivers the outcome, frees the concurrency slot, and
// returns the instance to the warm set (healthy) or kills it.
func (inst *instance) finish(inv *invocation, out outcome, healthy bool) bool {
	now := time.Now()
	inst.mu.Lock()
	if inv == nil || inst.cur != inv {
		inst.mu.Unlock()
		return false
	}
	inst.cur = nil
	if inv.timer != nil {
		inv.timer.Stop()
	}
	if out.err == nil {
		var b strings.Builder
		if !inv.delivered {
			inv.logStart = inst.logSize(inv.tail)
			fmt.Fprintf(&b, "START RequestId: %s Version: %s\n", inv.id, Version)
			inv.start = now
		}
		if out.note != "" {
			b.WriteString(out.note)
		}
		d := now.Sub(inv.start)
		fmt.Fprintf(&b, "END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\t",
			inv.id, inv.id, float64(d)/1e6, (d+time.Millisecond-1)/time.Millisecond, inst.memory)
		if inv.initDur > 0 {
			fmt.Fprintf(&b, "Init Duration: %.2f ms\t", float64(inv.initDur)/1e6)
		}
		b.WriteByte('\n')
		_, _ = inst.logf.WriteString(b.String())
		if inv.tail {
			out.res.LogResult = inst.tail(inv.logStart)
		}
	}
	inst.mu.Unlock()
	out.res.RequestID = inv.id
	out.res.ExecutedVersion = Version
	if out.res.StatusCode == 0 {
		out.res.StatusCode = http.StatusOK
	}
	// The instance and the slot are free before the caller hears back, so
	// that its next call finds them.
	if healthy {
		inst.p.putIdle(inst)
	} else {
		inst.kill()
	}
	inst.p.release()
	inv.result <- out
	return true
}

// logSize returns the log file's size, or 0 when it is not needed.
func (inst *instance) logSize(need bool) int64 {
	if !need {
		return 0
	}
	st, err := inst.logf.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

// tail returns the base64 of the last LogTailSize bytes logged since start.
func (inst *instance) tail(start int64) string {
	st, err := inst.logf.Stat()
	if err != nil {
		return ""
	}
	end := st.Size()
	if end-start > LogTailSize {
		start = end - LogTailSize
	}
	if end <= start {
		return ""
	}
	buf := make([]byte, end-start)
	n, _ := inst.logf.ReadAt(buf, start)
	return base64.StdEncoding.EncodeToString(buf[:n])
}

// initTimedOut kills an instance whose runtime did not reach /next in time.
func (inst *instance) initTimedOut() {
	inst.mu.Lock()
	if inst.initDone {
		inst.mu.Unlock()
		return
	}
	cur := inst.cur
	inst.mu.Unlock()
	d := inst.p.h.opts.InitTimeout
	if cur != nil {
		inst.finish(cur, outcome{
			res:  Result{Payload: timedOutPayload(cur.id, d), FunctionError: functionErrorUnhandle},
			note: fmt.Sprintf("%s %s Task timed out after %.2f seconds\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), cur.id, d.Seconds()),
		}, false)
	}
	inst.kill()
}

// timedOut ends an invocation that ran past the function's timeout and kills
// the instance, as Lambda does.
func (inst *instance) timedOut(inv *invocation) {
	inst.finish(inv, outcome{
		res:  Result{Payload: timedOutPayload(inv.id, inv.timeout), FunctionError: functionErrorUnhandle},
		note: fmt.Sprintf("%s %s Task timed out after %.2f seconds\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.id, inv.timeout.Seconds()),
	}, false)
}

// ServeHTTP is the Runtime API.
func (inst *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, runtimePrefix)
	if !ok {
		runtimeError(w, http.StatusNotFound, "UnknownPath", "unknown path "+r.URL.Path)
		return
	}
	switch {
	case rest == "invocation/next":
		if r.Method != http.MethodGet {
			runtimeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET")
			return
		}
		inst.serveNext(w, r)
	case rest == "init/error":
		if r.Method != http.MethodPost {
			runtimeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use POST")
			return
		}
		inst.serveInitError(w, r)
	case strings.HasPrefix(rest, "invocation/"):
		id, action, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		if !ok || (action != "response" && action != "error") {
			runtimeError(w, http.StatusNotFound, "UnknownPath", "unknown path "+r.URL.Path)
			return
		}
		if r.Method != http.MethodPost {
			runtimeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use POST")
			return
		}
		inst.serveResult(w, r, id, action == "error")
	default:
		runtimeError(w, http.StatusNotFound, "UnknownPath", "unknown path "+r.URL.Path)
	}
}

func runtimeError(w http.ResponseWriter, status int, errType, msg string) {
	body, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": errType})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// serveNext long-polls for the instance's next invocation. The first call
// ends the init phase.
func (inst *instance) serveNext(w http.ResponseWriter, r *http.Request) {
	inst.mu.Lock()
	if !inst.initDone {
		inst.initDone = true
		inst.initDur = time.Since(inst.created)
		if inst.initTimer != nil {
			inst.initTimer.Stop()
		}
	}
	inst.mu.Unlock()
	for {
		select {
		case inv := <-inst.next:
			now := time.Now()
			inst.mu.Lock()
			if inst.cur != inv {
				inst.mu.Unlock()
				continue
			}
			inv.delivered = true
			inv.start = now
			inv.initDur, inst.initDur = inst.initDur, 0
			inv.timer = time.AfterFunc(inv.timeout, func() { inst.timedOut(inv) })
			inv.logStart = inst.logSize(inv.tail)
			_, _ = inst.logf.WriteString("START RequestId: " + inv.id + " Version: " + Version + "\n")
			inst.mu.Unlock()
			h := w.Header()
			h[hdrRequestID] = []string{inv.id}
			h[hdrDeadline] = []string{strconv.FormatInt(now.Add(inv.timeout).UnixMilli(), 10)}
			h[hdrFunctionARN] = []string{inv.arn}
			h[hdrTraceID] = []string{inv.traceID}
			if inv.clientContext != "" {
				h[hdrClientContext] = []string{inv.clientContext}
			}
			h["Content-Type"] = []string{"application/json"}
			h["Content-Length"] = []string{strconv.Itoa(len(inv.payload))}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(inv.payload)
			return
		case <-inst.closing:
			runtimeError(w, http.StatusInternalServerError, "Runtime.ContainerShutdown", "the execution environment is shutting down")
			return
		case <-r.Context().Done():
			return
		}
	}
}

// serveResult takes the runtime's response or error for invocation id.
func (inst *instance) serveResult(w http.ResponseWriter, r *http.Request, id string, isError bool) {
	inst.mu.Lock()
	inv := inst.cur
	ok := inv != nil && inv.id == id && inv.delivered
	inst.mu.Unlock()
	if !ok {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, MaxPayloadSize+1))
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	limit := int64(MaxPayloadSize)
	if isError {
		limit = maxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		// The runtime went away mid-request; its exit ends the invocation.
		return
	}
	if int64(len(body)) > limit {
		n, _ := io.Copy(io.Discard, r.Body)
		size := len(body) + int(n)
		if !isError {
			inst.finish(inv, outcome{res: Result{Payload: responseTooLargePayload(size), FunctionError: functionErrorUnhandle}}, true)
			runtimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxPayloadSize))
			return
		}
		body = body[:limit]
	}
	res := Result{Payload: body}
	if isError {
		res.Payload = errorDocument(body, r.Header.Get(hdrErrorType))
		res.FunctionError = functionErrorUnhandle
	} else if t := r.Trailer.Get(hdrErrorType); t != "" {
		// A streamed response that failed midway (aws-lambda-go sends the
		// error in trailers).
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(hdrErrorBody))
		res.Payload = errorDocument(doc, t)
		res.FunctionError = functionErrorUnhandle
	}
	// Answer first: the runtime's next /next then races with the caller's
	// next Invoke instead of following it.
	accepted(w)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	inst.finish(inv, outcome{res: res}, true)
}

// serveInitError takes an init failure: the pending invocation fails with the
// runtime's error document and the instance stops.
func (inst *instance) serveInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	inst.mu.Lock()
	done, cur := inst.initDone, inst.cur
	inst.mu.Unlock()
	if done {
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from Ready to InitError failed")
		return
	}
	accepted(w)
	if cur != nil {
		inst.finish(cur, outcome{res: Result{
			Payload:       errorDocument(body, r.Header.Get(hdrErrorType)),
			FunctionError: functionErrorUnhandle,
		}}, false)
	}
	inst.kill()
}

// errorDocument returns body when it is a JSON object (what runtimes post),
// else an error document built from the error type header and body text.
func errorDocument(body []byte, errType string) []byte {
	t := bytes.TrimSpace(body)
	if len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return t
	}
	if errType == "" {
		errType = "Runtime.Unknown"
	}
	msg := string(t)
	if msg == "" {
		msg = "Unknown application error occurred"
	}
	return errorPayload(errType, msg)
}
