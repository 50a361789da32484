package function

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"gatehouse/internal/awsproto"
)

// invokeRemote calls the Lambda Invoke API of an Endpoint function:
// POST {url}/2015-03-31/functions/{name}/invocations, SigV4-signed for
// service "lambda" when the endpoint has credentials.
func (h *Host) invokeRemote(ctx context.Context, fn *Function, payload []byte, o InvokeOptions) (Result, error) {
	ep := fn.Endpoint
	name := ep.FunctionName
	if name == "" {
		name = fn.Name
	}
	region := ep.Region
	if region == "" {
		region = fn.Region
	}
	ctx, cancel := context.WithTimeout(ctx, fn.TimeoutDuration()+30*time.Second)
	defer cancel()
	u := strings.TrimRight(ep.URL, "/") + "/2015-03-31/functions/" + url.PathEscape(name) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return Result{}, fmt.Errorf("function %s: endpoint: %w", fn.Name, err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	if o.LogTail {
		req.Header.Set("X-Amz-Log-Type", "Tail")
	}
	if o.ClientContext != "" {
		req.Header.Set("X-Amz-Client-Context", o.ClientContext)
	}
	if ep.AccessKeyID != "" {
		sum := sha256.Sum256(payload)
		creds := aws.Credentials{AccessKeyID: ep.AccessKeyID, SecretAccessKey: ep.SecretAccessKey, SessionToken: ep.SessionToken}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", region, time.Now()); err != nil {
			return Result{}, fmt.Errorf("function %s: sign: %w", fn.Name, err)
		}
	}
	resp, err := h.httpClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("function %s: invoke %s: %w", fn.Name, ep.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPayloadSize+64<<10))
	if err != nil {
		return Result{}, fmt.Errorf("function %s: read the response: %w", fn.Name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{}, remoteError(resp, body)
	}
	return Result{
		Payload:         body,
		FunctionError:   resp.Header.Get("X-Amz-Function-Error"),
		StatusCode:      resp.StatusCode,
		LogResult:       resp.Header.Get("X-Amz-Log-Result"),
		RequestID:       resp.Header.Get("X-Amzn-Requestid"),
		ExecutedVersion: resp.Header.Get("X-Amz-Executed-Version"),
	}, nil
}

// remoteError turns a Lambda API error response into an *awsproto.Error with
// the remote code and message.
func remoteError(resp *http.Response, body []byte) error {
	code := resp.Header.Get("X-Amzn-Errortype")
	var doc struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
		Type     string `json:"__type"`
		Code     string `json:"code"`
	}
	_ = json.Unmarshal(body, &doc)
	if code == "" {
		code = doc.Code
	}
	if code == "" {
		code = doc.Type
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = CodeServiceException
	}
	msg := doc.Message
	if msg == "" {
		msg = doc.Message2
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return &awsproto.Error{Status: resp.StatusCode, Code: code, Message: msg}
}
