package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/gwtest"
)

// rawRequest writes head (a complete HTTP/1.1 request head) and body on a TLS
// connection from source to addr and reads the response. It gives byte-exact control of
// the request line and header block.
func rawRequest(t *testing.T, gw *gwtest.Gateway, source, addr, sni string, head string, body io.Reader) (int, string) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: gw.CAPool, ServerName: sni})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	// Write while reading: a server may answer (413) before the whole body is sent, and
	// then stop reading; a write error after that is expected.
	go func() {
		if _, err := io.WriteString(conn, head); err != nil || body == nil {
			return
		}
		_, _ = io.Copy(conn, body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// headBlock builds "GET target HTTP/1.1" and a header block of exactly size bytes (every
// header line "Name: value\r\n", Host included; the blank line after it not counted).
func headBlock(t *testing.T, target, host string, size int) string {
	t.Helper()
	hostLine := "Host: " + host + "\r\n"
	const padName = "X-Pad: "
	pad := size - len(hostLine) - len(padName) - 2
	if pad < 1 {
		t.Fatalf("header block of %d bytes is too small", size)
	}
	return "GET " + target + " HTTP/1.1\r\n" + hostLine + padName + strings.Repeat("p", pad) + "\r\n\r\n"
}

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")

	// The backend reports what reached it.
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		_ = json.NewEncoder(w).Encode(map[string]int64{"body": n, "uri": int64(len(r.RequestURI))})
	}))
	t.Cleanup(counting.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "127.0.0.1"))

	api := createProxyAPI(t, ctx, cp, counting.URL)
	root := findResource(t, ctx, cp, api.id, "/")
	addGET := func(part, uri string, timeoutMs int32) {
		t.Helper()
		res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: &api.id, ParentId: &root, PathPart: aws.String(part)})
		if err != nil {
			t.Fatal(err)
		}
		must(t)(cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &api.id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
		in := &apigateway.PutIntegrationInput{RestApiId: &api.id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
			Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"), Uri: aws.String(uri)}
		if timeoutMs > 0 {
			in.TimeoutInMillis = aws.Int32(timeoutMs)
		}
		must(t)(cp.PutIntegration(ctx, in))
	}
	addGET("slow", slow.URL+"/", 500)
	addGET("down", closed+"/", 0)
	must(t)(cp.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String(policyOnlyFrom(vpceA))}}}))
	must(t)(cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")}))

	host := gw.ExecuteAPIHost(api.id)
	ep := gw.EndpointTLS(vpceA)
	fromA := gw.Client(inA, ep)
	if status, _, body := get(t, fromA, "https://"+host+"/prod/ready", nil, 200); status != 200 {
		t.Fatalf("not deployed: %d %s", status, body)
	}

	t.Run("headers", func(t *testing.T) {
		for _, tt := range []struct {
			size int
			want int
		}{{8000, 200}, {8001, 413}} {
			status, body := rawRequest(t, gw, inA, ep, host, headBlock(t, "/prod/h", host, tt.size), nil)
			if status != tt.want {
				t.Errorf("header block of %d bytes: %d %s, want %d", tt.size, status, body, tt.want)
			}
		}
	})
	t.Run("url", func(t *testing.T) {
		for _, tt := range []struct {
			length int
			want   int
		}{{8192, 200}, {8193, 414}} {
			target := "/prod/u/" + strings.Repeat("a", tt.length-len("/prod/u/"))
			status, body := rawRequest(t, gw, inA, ep, host, headBlock(t, target, host, 200), nil)
			if status != tt.want {
				t.Errorf("request target of %d characters: %d %.200s, want %d", tt.length, status, body, tt.want)
			}
			if tt.want == 200 && !strings.Contains(body, `"uri":`+strconv.Itoa(tt.length-len("/prod"))) {
				t.Errorf("backend saw %s", body)
			}
		}
	})
	t.Run("body", func(t *testing.T) {
		const limit = 10 << 20
		post := func(n int, chunked bool) (int, string) {
			head := "POST /prod/b HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/octet-stream\r\n"
			var body io.Reader = io.LimitReader(zReader{}, int64(n))
			if chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n"
				body = io.MultiReader(chunkedBody(n), strings.NewReader("0\r\n\r\n"))
			} else {
				// Expect: 100-continue, as curl sends for large bodies: a refusal needs no body.
				head += "Content-Length: " + strconv.Itoa(n) + "\r\nExpect: 100-continue\r\n\r\n"
			}
			return rawBodyRequest(t, gw, inA, ep, host, head, body, !chunked)
		}
		for _, tt := range []struct {
			name    string
			n       int
			chunked bool
			want    int
		}{
			{"content-length at the limit", limit, false, 200},
			{"content-length over the limit", limit + 1, false, 413},
			{"chunked at the limit", limit, true, 200},
			{"chunked over the limit", limit + 1, true, 413},
		} {
			t.Run(tt.name, func(t *testing.T) {
				status, body := post(tt.n, tt.chunked)
				if status != tt.want {
					t.Fatalf("%d-byte body: %d %s, want %d", tt.n, status, body, tt.want)
				}
				if tt.want == 200 && body != fmt.Sprintf(`{"body":%d,"uri":2}`+"\n", tt.n) {
					t.Errorf("backend saw %s", body)
				}
			})
		}
	})
	t.Run("integration timeout", func(t *testing.T) {
		start := time.Now()
		status, h, body := get(t, fromA, "https://"+host+"/prod/slow", nil, 504)
		took := time.Since(start)
		if status != 504 || body != `{"message": "Endpoint request timed out"}` {
			t.Fatalf("%d %s", status, body)
		}
		if took < 450*time.Millisecond || took > 2*time.Second {
			t.Errorf("504 after %s, want about 500ms", took)
		}
		if h.Get("x-amzn-ErrorType") == "" {
			t.Errorf("no x-amzn-ErrorType: %v", h)
		}
	})
	t.Run("unreachable backend", func(t *testing.T) {
		status, _, body := get(t, fromA, "https://"+host+"/prod/down", nil, 502)
		if status != 502 {
			t.Fatalf("%d %s", status, body)
		}
	})
}

// rawBodyRequest is rawRequest for requests with a body; with expectContinue it waits for
// the interim response and sends the body only after "100 Continue".
func rawBodyRequest(t *testing.T, gw *gwtest.Gateway, source, addr, sni, head string, body io.Reader, expectContinue bool) (int, string) {
	t.Helper()
	if !expectContinue {
		return rawRequest(t, gw, source, addr, sni, head, body)
	}
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: gw.CAPool, ServerName: sni})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatalf("write head: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode == http.StatusContinue {
		if _, err := io.Copy(conn, body); err != nil {
			t.Fatalf("write body: %v", err)
		}
		if resp, err = http.ReadResponse(br, nil); err != nil {
			t.Fatalf("read response: %v", err)
		}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// zReader is an endless reader of 'z' bytes.
type zReader struct{}

func (zReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

// chunkedBody is n bytes of 'z' in 64 KiB chunks, chunked-encoded (without the last chunk).
func chunkedBody(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		chunk := strings.Repeat("z", 64<<10)
		for n > 0 {
			c := chunk
			if n < len(c) {
				c = c[:n]
			}
			if _, err := fmt.Fprintf(pw, "%x\r\n%s\r\n", len(c), c); err != nil {
				pw.CloseWithError(err)
				return
			}
			n -= len(c)
		}
		pw.Close()
	}()
	return pr
}
