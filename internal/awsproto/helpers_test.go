package awsproto

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Test keys. The long-term key is the AWS documentation example key.
var (
	longTermKey = Key{AccessKeyID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", Account: "123456789012"}
	tempKey     = Key{AccessKeyID: "ASIAEXAMPLE", Secret: "tempsecret", Account: "123456789012", SessionToken: "tok/en+1="}
)

// signTime is the signing time of every ground-truth request; the verifier's
// clock is one minute later.
var signTime = time.Date(2024, 3, 5, 12, 34, 56, 0, time.UTC)

func lookupTestKey(id string) (Key, bool) {
	for _, k := range []Key{longTermKey, tempKey} {
		if k.AccessKeyID == id {
			return k, true
		}
	}
	return Key{}, false
}

func newTestVerifier(service, region string) *Verifier {
	return &Verifier{
		Lookup:  lookupTestKey,
		Now:     func() time.Time { return signTime.Add(time.Minute) },
		Service: service,
		Region:  region,
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkSign signs req with the aws-sdk-go-v2 v4 signer at when.
func sdkSign(t testing.TB, req *http.Request, body []byte, k Key, service, region string, when time.Time) {
	t.Helper()
	payload := sha256Hex(body)
	if h := req.Header.Get("X-Amz-Content-Sha256"); h != "" {
		payload = h
	}
	creds := aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret, SessionToken: k.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, service, region, when); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// sdkPresign returns a presigned URL made by the aws-sdk-go-v2 v4 signer.
func sdkPresign(t testing.TB, req *http.Request, k Key, service, region string, when time.Time) string {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret, SessionToken: k.SessionToken}
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, sha256Hex(nil), service, region, when)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	return u
}

// wire sends requests over a real HTTP connection and hands back the
// server's view of them, so that verification sees exactly what net/http
// makes of the bytes a client sent.
type wire struct {
	srv *httptest.Server
	got chan captured
}

type captured struct {
	r    *http.Request
	body []byte
}

func newWire(t testing.TB) *wire {
	w := &wire{got: make(chan captured, 1)}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.got <- captured{r.Clone(context.Background()), body}
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *wire) send(t testing.TB, req *http.Request) captured {
	t.Helper()
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	resp.Body.Close()
	return <-w.got
}

// verifyBoth verifies the request built by mk twice: as built in-process,
// and as received by a server after a real round trip. Both must agree.
func verifyBoth(t *testing.T, v *Verifier, w *wire, mk func() (*http.Request, []byte)) (*Identity, error) {
	t.Helper()
	req, body := mk()
	idDirect, errDirect := v.Verify(req, body)
	req, _ = mk()
	c := w.send(t, req)
	idWire, errWire := v.Verify(c.r, c.body)
	if (errDirect == nil) != (errWire == nil) {
		t.Fatalf("direct and wire disagree:\ndirect: %v\nwire:   %v", errDirect, errWire)
	}
	if errDirect != nil && errDirect.Error() != errWire.Error() {
		t.Fatalf("direct and wire errors differ:\ndirect: %v\nwire:   %v", errDirect, errWire)
	}
	if idDirect != nil && idWire != nil && idDirect.Key != idWire.Key {
		t.Fatalf("identities differ: %+v vs %+v", idDirect, idWire)
	}
	return idWire, errWire
}

func newRequest(t testing.TB, method, url string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	return req
}

// asError returns err as *Error or fails the test.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	return e
}
