package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/golang-jwt/jwt/v5"

	"gatehouse/internal/gwtest"
)

// authTopology is TwoVPCs plus IAM users: alice (allowed) and mallory (explicitly denied)
// in the provider account, bob (allowed) and carol (no policy) in the consumer account.
var authTopology = strings.Replace(strings.Replace(gwtest.TwoVPCs, `
    accessKeys: [{id: AKIAPROVIDER00000001, secret: provider-secret}]`, `
    accessKeys: [{id: AKIAPROVIDER00000001, secret: provider-secret}]
    users:
      - name: alice
        accessKeys: [{id: AKIAALICE00000000001, secret: alice-secret}]
        policies: [{name: invoke, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "execute-api:Invoke", Resource: "*"}]}}]
      - name: mallory
        accessKeys: [{id: AKIAMALLORY000000001, secret: mallory-secret}]
        policies: [{name: deny, document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "execute-api:*", Resource: "*"}]}}]`, 1), `
    accessKeys: [{id: AKIACONSUMER00000001, secret: consumer-secret}]`, `
    accessKeys: [{id: AKIACONSUMER00000001, secret: consumer-secret}]
    users:
      - name: bob
        accessKeys: [{id: AKIABOB0000000000001, secret: bob-secret}]
        policies: [{name: invoke, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:us-east-1:111111111111:*"}]}}]
      - name: carol
        accessKeys: [{id: AKIACAROL00000000001, secret: carol-secret}]`, 1)

// methodAPI creates a PRIVATE API (policy: only vpce-A) with GET /r using auth, MOCK
// integration answering {"ok":true}, deployed to stage prod.
func methodAPI(t *testing.T, ctx context.Context, cp *apigateway.Client, policy string, setup func(apiID, rootID string) (authType, authorizerID string)) string {
	t.Helper()
	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("auth"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
		Policy:                aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	authType, authorizerID := setup(*api.Id, *api.RootResourceId)
	res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	in := &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String(authType)}
	if authorizerID != "" {
		in.AuthorizerId = aws.String(authorizerID)
	}
	steps := []func() error{
		func() error { _, err := cp.PutMethod(ctx, in); return err },
		func() error {
			_, err := cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
				Type: types.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}})
			return err
		},
		func() error {
			_, err := cp.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
				StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"ok":true}`}})
			return err
		},
		func() error {
			_, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return *api.Id
}

func TestIAMAuthorization(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, authTopology, "")
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	apiID := methodAPI(t, ctx, cp, policyOnlyFrom(vpceA), func(string, string) (string, string) { return "AWS_IAM", "" })
	host := gw.ExecuteAPIHost(apiID)
	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	url := "https://" + host + "/prod/r"
	get(t, c, url, nil, 403) // wait for the deployment to be served

	signed := func(akid, secret string, at time.Time) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	send := func(req *http.Request) (int, http.Header, string) {
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := readAll(resp)
		return resp.StatusCode, resp.Header, b
	}
	masked := "arn:aws:execute-api:us-east-1:********1111:" + apiID + "/prod/GET/r"
	tests := []struct {
		name      string
		req       *http.Request
		status    int
		body      string
		errorType string
	}{
		{name: "same account, identity allows", req: signed("AKIAALICE00000000001", "alice-secret", time.Now()), status: 200, body: `{"ok":true}`},
		{name: "same account root", req: signed("AKIAPROVIDER00000001", "provider-secret", time.Now()), status: 200, body: `{"ok":true}`},
		{name: "identity policy denies", req: signed("AKIAMALLORY000000001", "mallory-secret", time.Now()), status: 403,
			body: `{"Message":"User: arn:aws:iam::111111111111:user/mallory is not authorized to perform: execute-api:Invoke on resource: ` + masked + ` with an explicit deny"}`, errorType: "AccessDeniedException"},
		{name: "cross account, both allow", req: signed("AKIABOB0000000000001", "bob-secret", time.Now()), status: 200, body: `{"ok":true}`},
		{name: "cross account, identity silent", req: signed("AKIACAROL00000000001", "carol-secret", time.Now()), status: 403,
			body: `{"Message":"User: arn:aws:iam::222222222222:user/carol is not authorized to perform: execute-api:Invoke on resource: ` + masked + `"}`, errorType: "AccessDeniedException"},
		{name: "no signature", req: func() *http.Request { r, _ := http.NewRequest(http.MethodGet, url, nil); return r }(), status: 403,
			body: `{"message":"Missing Authentication Token"}`, errorType: "MissingAuthenticationTokenException"},
		{name: "unknown key", req: signed("AKIANOBODY0000000001", "x", time.Now()), status: 403,
			body: `{"message":"The security token included in the request is invalid."}`, errorType: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := send(tt.req)
			if status != tt.status || body != tt.body {
				t.Fatalf("got %d %s\nwant %d %s", status, body, tt.status, tt.body)
			}
			if tt.errorType != "" && h.Get("x-amzn-ErrorType") != tt.errorType {
				t.Errorf("x-amzn-ErrorType %q, want %q", h.Get("x-amzn-ErrorType"), tt.errorType)
			}
		})
	}
	t.Run("expired signature", func(t *testing.T) {
		status, h, body := send(signed("AKIAALICE00000000001", "alice-secret", time.Now().Add(-10*time.Minute)))
		if status != 403 || !strings.Contains(body, "Signature expired: ") || !strings.Contains(body, " - 5 min.)") || h.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
			t.Fatalf("%d %s %v", status, body, h)
		}
	})
	t.Run("tampered signature", func(t *testing.T) {
		req := signed("AKIAALICE00000000001", "alice-secret", time.Now())
		auth := req.Header.Get("Authorization")
		req.Header.Set("Authorization", auth[:len(auth)-4]+"0000")
		status, h, body := send(req)
		if status != 403 || !strings.Contains(body, "The request signature we calculated does not match the signature you provided") || h.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
			t.Fatalf("%d %s %v", status, body, h)
		}
	})
}

// oidcIssuer is a real local OpenID provider: discovery document and JWKS over HTTP.
type oidcIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	kid string
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &oidcIssuer{key: key, kid: "k1"}
	mux := http.NewServeMux()
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks.json"})
	})
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		pub := is.key.PublicKey
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": is.kid, "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	return is
}

func (is *oidcIssuer) token(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = is.kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCognitoAuthorizer(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	is := newOIDCIssuer(t)
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	apiID := methodAPI(t, ctx, cp, policyOnlyFrom(vpceA), func(apiID, _ string) (string, string) {
		a, err := cp.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: aws.String(apiID), Name: aws.String("oidc"),
			Type: types.AuthorizerTypeCognitoUserPools, ProviderARNs: []string{is.srv.URL}, IdentitySource: aws.String("method.request.header.Authorization"),
			IdentityValidationExpression: aws.String("client1")}) // matched against aud, as AWS does for Cognito
		if err != nil {
			t.Fatal(err)
		}
		return "COGNITO_USER_POOLS", *a.Id
	})
	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	url := "https://" + gw.ExecuteAPIHost(apiID) + "/prod/r"
	now := time.Now()
	good := jwt.MapClaims{"iss": is.srv.URL, "sub": "u1", "token_use": "id", "aud": "client1", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	expired := jwt.MapClaims{"iss": is.srv.URL, "sub": "u1", "token_use": "id", "aud": "client1", "exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrongAud := jwt.MapClaims{"iss": is.srv.URL, "sub": "u1", "token_use": "id", "aud": "someone-else", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}

	status, _, body := get(t, c, url, map[string]string{"Authorization": is.token(t, is.key, good)}, 200)
	if status != 200 || body != `{"ok":true}` {
		t.Fatalf("good token: %d %s", status, body)
	}
	for name, hdr := range map[string]map[string]string{
		"no token":       nil,
		"expired":        {"Authorization": is.token(t, is.key, expired)},
		"wrong key":      {"Authorization": is.token(t, otherKey, good)},
		"wrong audience": {"Authorization": is.token(t, is.key, wrongAud)},
		"garbage":        {"Authorization": "not-a-jwt"},
	} {
		t.Run(name, func(t *testing.T) {
			status, h, body := do(t, c, "GET", url, hdr, "")
			if status != 401 || body != `{"message":"Unauthorized"}` || h.Get("x-amzn-ErrorType") != "UnauthorizedException" {
				t.Fatalf("%d %s %v", status, body, h)
			}
		})
	}
}
