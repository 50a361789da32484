package function

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

func TestSyncFromStore(t *testing.T) {
	ctx := ctxT(t, 2*time.Minute)
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := newHost(t, HostOptions{Region: testRegion})

	// A record as the Lambda control plane stores it: Function's fields and
	// more.
	record := func(fn Function) []byte {
		b, _ := json.Marshal(struct {
			Function
			Description string `json:"description"`
		}{fn, "extra fields are ignored"})
		return b
	}
	fn := faultyFunction(t, "stored")
	if _, err := st.Create(ctx, Bucket, StoreKey(fn.Account, fn.Name), record(fn)); err != nil {
		t.Fatal(err)
	}
	syncCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Sync(syncCtx, st) }()
	t.Cleanup(func() {
		stop()
		<-done
	})
	select {
	case <-h.Synced():
	case <-ctx.Done():
		t.Fatal("Sync did not finish its first snapshot")
	}
	if res := invoke(t, h, "stored", map[string]int{"n": 1}); string(res.Payload) != `{"n":1}` {
		t.Fatalf("stored function: %s", res.Payload)
	}

	// A function created later appears; a deleted one goes away.
	other := faultyFunction(t, "later")
	rev, err := st.Create(ctx, Bucket, StoreKey(other.Account, other.Name), record(other))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { _, ok := h.Function("later"); return ok })
	if err := st.Delete(ctx, Bucket, StoreKey(other.Account, other.Name), rev); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { _, ok := h.Function("later"); return !ok })
	if _, ok := h.Function("stored"); !ok {
		t.Fatal("the other function went away too")
	}
}

func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEndpointFunction(t *testing.T) {
	verifier := &awsproto.Verifier{Lookup: func(akid string) (awsproto.Key, bool) {
		if akid == "AKIAREMOTE0000000001" {
			return awsproto.Key{AccessKeyID: akid, Secret: "remote-secret", Account: "999999999999"}, true
		}
		return awsproto.Key{}, false
	}}
	var gotPath, gotLogType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := verifier.Verify(r, body)
		if err != nil {
			awsproto.WriteJSONError(w, http.StatusForbidden, "InvalidSignatureException", err.Error(), "")
			return
		}
		if id.Service != "lambda" || id.Region != "eu-west-1" {
			http.Error(w, "wrong scope "+id.Service+" "+id.Region, http.StatusBadRequest)
			return
		}
		gotPath, gotLogType = r.URL.EscapedPath(), r.Header.Get("X-Amz-Log-Type")
		switch string(body) {
		case `"missing"`:
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awslambda/")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"Type":"User","Message":"Function not found: arn:aws:lambda:eu-west-1:999999999999:function:real"}`)
		case `"fail"`:
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = io.WriteString(w, `{"errorMessage":"nope","errorType":"Error"}`)
		default:
			w.Header().Set("X-Amz-Log-Result", "bG9ncw==")
			w.Header().Set("X-Amz-Executed-Version", "$LATEST")
			_, _ = w.Write(body)
		}
	}))
	t.Cleanup(srv.Close)

	topo := &config.Topology{Region: testRegion, Functions: []config.Function{{
		Name: "remote", Account: testAccount, Endpoint: &config.FunctionEndpoint{
			URL: srv.URL + "/", FunctionName: "arn:aws:lambda:eu-west-1:999999999999:function:real", Region: "eu-west-1",
			AccessKeyID: "AKIAREMOTE0000000001", SecretAccessKey: "remote-secret",
		}}}}
	h := newHost(t, HostOptions{Region: testRegion, Functions: FromTopology(topo)})

	res, err := h.InvokeWith(ctxT(t, time.Minute), "remote", []byte(`{"x":1}`), InvokeOptions{LogTail: true})
	if err != nil || string(res.Payload) != `{"x":1}` || res.LogResult != "bG9ncw==" || res.FunctionError != "" || res.StatusCode != 200 {
		t.Fatalf("remote invoke: %v %+v", err, res)
	}
	if gotPath != "/2015-03-31/functions/arn:aws:lambda:eu-west-1:999999999999:function:real/invocations" || gotLogType != "Tail" {
		t.Fatalf("request path %q, log type %q", gotPath, gotLogType)
	}
	res = invoke(t, h, "remote", "fail")
	if res.FunctionError != "Unhandled" || string(res.Payload) != `{"errorMessage":"nope","errorType":"Error"}` {
		t.Fatalf("remote function error: %+v", res)
	}
	_, err = h.Invoke(ctxT(t, time.Minute), "remote", []byte(`"missing"`))
	wantAWSError(t, err, CodeResourceNotFound, "Function not found: arn:aws:lambda:eu-west-1:999999999999:function:real")
}

func TestFromTopology(t *testing.T) {
	topo, err := config.Parse([]byte(`region: eu-central-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts: [{id: "111111111111"}]
vpcs:
  - {id: vpc-0aaaaaaaaaaaaaaa1, account: "111111111111", cidr: 127.10.0.0/16, subnets: [{id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.10.1.0/24}]}
  - {id: vpc-0bbbbbbbbbbbbbbb2, account: "111111111111", cidr: 127.20.0.0/16, subnets: [{id: subnet-0bbbbbbbbbbbbbbb2, cidr: 127.20.1.0/24}]}
functions:
  - {name: code, account: "111111111111", runtime: python3.12, handler: app.handler, code: /srv/code, timeout: 9, vpc: vpc-0aaaaaaaaaaaaaaa1}
  - {name: cmd, account: "111111111111", command: {path: /bin/fn, args: [a], env: {K: v}, dir: /tmp}}
`))
	if err != nil {
		t.Fatal(err)
	}
	fns := FromTopology(topo)
	if len(fns) != 2 {
		t.Fatalf("%d functions", len(fns))
	}
	c := fns[0]
	if c.Region != "eu-central-1" || c.CodeDir != "/srv/code" || c.Timeout != 9 || c.Handler != "app.handler" ||
		c.VPC == nil || c.VPC.CIDR != "127.10.0.0/16" || c.VPC.Resolver != "127.10.0.2" {
		t.Fatalf("code function %+v %+v", c, c.VPC)
	}
	if m := fns[1]; m.Command == nil || m.Command.Path != "/bin/fn" || m.Command.Env["K"] != "v" {
		t.Fatalf("command function %+v", m)
	}

	vpcOf := VPCResolver(topo)
	v, err := vpcOf("111111111111", []string{"subnet-0aaaaaaaaaaaaaaa1"})
	if err != nil || v.ID != "vpc-0aaaaaaaaaaaaaaa1" || v.CIDR != "127.10.0.0/16" || v.Resolver != "127.10.0.2" {
		t.Fatalf("VPCResolver: %+v %v", v, err)
	}
	for _, bad := range [][]string{{"subnet-0ccccccccccccccc3"}, {"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"}} {
		if _, err := vpcOf("111111111111", bad); err == nil {
			t.Fatalf("VPCResolver accepted %v", bad)
		}
	}
	if _, err := vpcOf("222222222222", []string{"subnet-0aaaaaaaaaaaaaaa1"}); err == nil {
		t.Fatal("VPCResolver accepted another account's subnet")
	}
}
