package dataplane

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/deployment"
	"gatehouse/internal/upstream"
	"gatehouse/internal/vpclink"
)

// sendVPCLink sends an HTTP/HTTP_PROXY integration's request through a VPC link: the
// link (not the uri) decides where it goes — an NLB's targets, an ALB's rules, a Cloud
// Map service — directly or through the VPC's link agents; the uri sets Host and SNI. On
// success resp holds the response and done must be called after resp.Close. A load
// balancer rule's fixed response is written here: done and the error are then nil.
func (s *Server) sendVPCLink(rc *request, in *deployment.Integration, req *upstream.Request, resp *upstream.Response) (done func(), _ *Error) {
	if s.links == nil {
		return nil, errConfig(errors.New("VPC links are not configured"))
	}
	route, err := s.links.Resolve(vpclink.Request{Account: rc.stage.API.Account, ConnectionID: in.ConnectionID,
		IntegrationTarget: in.IntegrationTarget, URI: in.URI})
	if err != nil {
		return nil, vpcLinkError(err)
	}
	serverName := in.Host
	if i := strings.LastIndexByte(serverName, ':'); i > 0 && !strings.Contains(serverName[i:], "]") {
		serverName = serverName[:i]
	}
	rc.integrationStart = time.Now()
	req.Deadline = rc.integrationStart.Add(in.Timeout)
	done, fixed, err := route.Do(rc.r.Context(), vpclink.TLSOptions{ServerName: serverName,
		InsecureSkipVerification: in.TLSInsecure, ClientCertificateID: rc.stage.ClientCertificateID}, req, resp)
	if err != nil {
		rc.integrationLatency = time.Since(rc.integrationStart)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, errTooLarge(http.StatusRequestEntityTooLarge, "Request Too Long")
		case errors.Is(err, upstream.ErrTimeout):
			return nil, errTimeout(err)
		}
		return nil, vpcLinkError(err)
	}
	if fixed != nil {
		rc.integrationLatency = time.Since(rc.integrationStart)
		s.writeFixed(rc, in, fixed)
		return nil, nil
	}
	return done, nil
}

// writeFixed answers with an application load balancer rule's fixed response, as if the
// backend had sent it.
func (s *Server) writeFixed(rc *request, in *deployment.Integration, f *apimodel.FixedResponseActionConfig) {
	code, err := strconv.Atoi(f.StatusCode)
	if err != nil {
		code = http.StatusServiceUnavailable
	}
	rc.integrationStatus = code
	h := rc.w.Header()
	if in.Type == apimodel.IntegrationHTTP {
		if ir := in.SelectResponse(code); ir != nil {
			code = ir.StatusCode
			for k, v := range ir.Headers {
				h.Set(k, v)
			}
		}
	}
	if f.ContentType != "" {
		h.Set("Content-Type", f.ContentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(f.MessageBody)))
	h.Set("x-amzn-RequestId", rc.requestID)
	h.Set("x-amz-apigw-id", rc.extendedID)
	rc.w.WriteHeader(code)
	_, _ = io.WriteString(rc.w, f.MessageBody)
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
