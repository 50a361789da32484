package dataplane

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/deployment"
	"gatehouse/internal/upstream"
	"gatehouse/internal/vpclink"
)

// proxyVPCLink sends an HTTP/HTTP_PROXY integration through a VPC link: the link (not
// the uri) decides where the request goes — an NLB's targets, an ALB's rules, a Cloud
// Map service — directly or through the VPC's link agents. The uri sets Host and SNI.
func (s *Server) proxyVPCLink(rc *request, in *deployment.Integration, target, method string, extra []upstream.Field) *Error {
	if s.links == nil {
		return errConfig(errors.New("VPC links are not configured"))
	}
	r := rc.r
	route, err := s.links.Resolve(vpclink.Request{Account: rc.stage.API.Account, ConnectionID: in.ConnectionID,
		IntegrationTarget: in.IntegrationTarget, URI: in.URI})
	if err != nil {
		return vpcLinkError(err)
	}
	rawPath, rawQuery, _ := strings.Cut(target, "?")
	u := &url.URL{Scheme: in.Scheme, Host: in.Host, RawPath: rawPath, RawQuery: rawQuery}
	if p, err := url.PathUnescape(rawPath); err == nil {
		u.Path = p
	} else {
		u.Path, u.RawPath = rawPath, ""
	}
	ctx, cancel := context.WithTimeout(r.Context(), in.Timeout)
	defer cancel()
	var body io.Reader = http.NoBody
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		body = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
	}
	out, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return errIntegration(http.StatusBadGateway, err)
	}
	out.URL = u
	out.ContentLength = r.ContentLength
	out.Host = in.Host
	for k, vs := range r.Header {
		if isHopHeader(k) || k == "X-Apigw-Api-Id" {
			continue
		}
		out.Header[k] = vs
	}
	for _, f := range extra {
		out.Header.Set(f.Name, f.Value)
	}
	serverName := in.Host
	if i := strings.LastIndexByte(serverName, ':'); i > 0 && !strings.Contains(serverName[i:], "]") {
		serverName = serverName[:i]
	}
	rt := route.RoundTripper(vpclink.TLSOptions{ServerName: serverName, InsecureSkipVerification: in.TLSInsecure,
		ClientCertificateID: rc.stage.ClientCertificateID})
	rc.integrationStart = time.Now()
	resp, err := rt.RoundTrip(out)
	if err != nil {
		rc.integrationLatency = time.Since(rc.integrationStart)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return errTooLarge(http.StatusRequestEntityTooLarge, "Request Too Long")
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return errTimeout(err)
		}
		return vpcLinkError(err)
	}
	defer resp.Body.Close()
	rc.integrationStatus = resp.StatusCode
	status := resp.StatusCode
	h := rc.w.Header()
	if in.Type == apimodel.IntegrationHTTP {
		if ir := in.SelectResponse(resp.StatusCode); ir != nil {
			status = ir.StatusCode
			for k, v := range ir.Headers {
				h.Set(k, v)
			}
		}
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			h.Set("Content-Type", ct)
		}
	} else {
		for k, vs := range resp.Header {
			if !isHopHeader(k) {
				h[k] = vs
			}
		}
	}
	h.Set("x-amzn-RequestId", rc.requestID)
	h.Set("x-amz-apigw-id", rc.extendedID)
	rc.w.WriteHeader(status)
	bp := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(rc.w, resp.Body, *bp)
	copyBufs.Put(bp)
	rc.integrationLatency = time.Since(rc.integrationStart)
	if err != nil {
		s.log.Debug("copying backend response", "requestId", rc.requestID, "err", err)
	}
	return nil
}

// vpcLinkError maps a VPC-link failure to AWS's integration errors.
func vpcLinkError(err error) *Error {
	switch vpclink.HTTPStatus(err) {
	case http.StatusGatewayTimeout:
		return errTimeout(err)
	case http.StatusInternalServerError:
		return errIntegration(http.StatusInternalServerError, err)
	default:
		return errIntegration(http.StatusBadGateway, err)
	}
}

func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}
