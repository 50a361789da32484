package dataplane

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"gatehouse/internal/deployment"
	"gatehouse/internal/function"
	"gatehouse/internal/lambdaproxy"
)

// Functions is what the data plane needs of the function host: invoke a function, and
// know whether API Gateway may (the function's resource policy, AddPermission).
type Functions interface {
	Invoke(ctx context.Context, ref string, payload []byte) (function.Result, error)
	AllowsInvoke(functionARN, principal, sourceARN string) bool
}

// lambdaProxy is the AWS_PROXY integration: payload 1.0 event in, proxy response out.
func (s *Server) lambdaProxy(rc *request, in *deployment.Integration) *Error {
	if s.functions == nil {
		return errIntegration(http.StatusInternalServerError, errors.New("no function host"))
	}
	if in.HTTPMethod != "" && in.HTTPMethod != http.MethodPost {
		// Lambda is always invoked with POST; AWS fails other integration methods.
		return errIntegration(http.StatusInternalServerError, errors.New("AWS_PROXY integration httpMethod must be POST"))
	}
	if !s.functions.AllowsInvoke(in.FunctionARN, "apigateway.amazonaws.com", rc.resourceARN) {
		return errIntegration(http.StatusInternalServerError,
			errors.New("API Gateway has no permission to invoke "+in.FunctionARN+" (AddPermission)"))
	}
	r := rc.r
	body, berr := rc.bufferBody()
	if berr != nil {
		return berr
	}
	// AWS's event carries Host among the headers; net/http moves it out of r.Header.
	if _, ok := r.Header["Host"]; !ok && r.Host != "" {
		r.Header["Host"] = []string{r.Host}
	}
	proto := r.Proto
	if !rc.origin.Public {
		proto = "HTTP/1.1" // private APIs handle HTTP/2 requests as HTTP/1.1
	}
	ev := lambdaproxy.EventInput{
		Resource:         rc.method.ResourcePath,
		Path:             rc.rest,
		HTTPMethod:       r.Method,
		Headers:          r.Header,
		RawQuery:         r.URL.RawQuery,
		PathParameters:   rc.pathParameters(),
		StageVariables:   rc.stage.Variables,
		Body:             body,
		BinaryMediaTypes: rc.comp.BinaryMediaTypes,
		RequestContext: lambdaproxy.RequestContext{
			AccountID:         rc.stage.API.Account,
			APIID:             rc.apiID,
			ResourceID:        rc.method.ResourceID,
			Stage:             rc.stageName,
			DeploymentID:      rc.comp.DeploymentID,
			Protocol:          proto,
			RequestID:         rc.requestID,
			ExtendedRequestID: rc.extendedID,
			RequestTime:       rc.start,
			DomainName:        rc.host,
			Identity: lambdaproxy.Identity{
				SourceIP:  rc.sourceIP.String(),
				UserAgent: r.UserAgent(),
				APIKey:    rc.apiKey,
				APIKeyID:  rc.apiKeyID,
			},
		},
	}
	if o := rc.origin; !o.Public {
		ev.RequestContext.Identity.VpcID, ev.RequestContext.Identity.VpceID = o.VpcID, o.VpceID
		if r.TLS != nil {
			ev.TLSVersion = tlsVersionName(r.TLS.Version)
			ev.CipherSuite = opensslCipherName(r.TLS.CipherSuite)
		}
	}
	if id := rc.iamIdentity; id != nil {
		idn := &ev.RequestContext.Identity
		idn.AccountID, idn.Caller, idn.User, idn.UserArn, idn.AccessKey, idn.PrincipalOrgID =
			id.Principal.Account, id.Principal.UserID, id.Principal.UserID, id.Principal.ARN, id.AccessKeyID, id.Principal.OrgID
	}
	if lr := rc.lambdaResult; lr != nil {
		a := &lambdaproxy.Authorizer{PrincipalID: lr.PrincipalID, Context: map[string]any{}}
		for k, v := range lr.Context {
			a.Context[k] = v
		}
		ev.RequestContext.Authorizer = a
	} else if rc.claims != nil {
		a := &lambdaproxy.Authorizer{Claims: map[string]any{}}
		for k, v := range rc.claims {
			a.Claims[k] = v
		}
		ev.RequestContext.Authorizer = a
	}
	payload, err := lambdaproxy.BuildEvent(ev)
	if err != nil {
		return errIntegration(http.StatusInternalServerError, err)
	}

	ctx, cancel := context.WithTimeout(r.Context(), in.Timeout)
	defer cancel()
	rc.integrationStart = time.Now()
	res, err := s.functions.Invoke(ctx, in.FunctionARN, payload)
	rc.integrationLatency = time.Since(rc.integrationStart)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errTimeout(err)
		}
		return errIntegration(http.StatusInternalServerError, err)
	}
	rc.integrationStatus = res.StatusCode
	resp, err := lambdaproxy.ParseResponse(res.Payload, res.FunctionError)
	if err != nil {
		return errIntegration(http.StatusBadGateway, err)
	}
	out, err := resp.BodyBytes(r.Header.Get("Accept"), rc.comp.BinaryMediaTypes)
	if err != nil {
		return errIntegration(http.StatusBadGateway, err)
	}
	h := rc.w.Header()
	for k, vs := range resp.Headers {
		h[k] = vs
	}
	h.Set("x-amzn-RequestId", rc.requestID)
	h.Set("x-amz-apigw-id", rc.extendedID)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	rc.w.WriteHeader(resp.StatusCode)
	_, _ = rc.w.Write(out)
	return nil
}
