package controlplane

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
)

// issueTestClientCert issues self-signed client certificates valid for a year.
func issueTestClientCert(cn string) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

func TestClientCertificates(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.IssueClientCert = issueTestClientCert })
	ctx := ctxT(t)
	cc := must[*apigateway.GenerateClientCertificateOutput](t)(e.a.GenerateClientCertificate(ctx, &apigateway.GenerateClientCertificateInput{
		Description: aws.String("backend mTLS"), Tags: map[string]string{"env": "prod"}}))
	block, _ := pem.Decode([]byte(*cc.PemEncodedCertificate))
	if block == nil || len(*cc.ClientCertificateId) != 6 || *cc.Description != "backend mTLS" || cc.Tags["env"] != "prod" ||
		!cc.ExpirationDate.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) || cc.CreatedDate == nil {
		t.Fatalf("certificate %+v", cc)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.Subject.CommonName != *cc.ClientCertificateId {
		t.Errorf("issued for %v (%v)", cert.Subject, err)
	}
	// The private key is stored, never returned.
	ent, err := e.store.Get(ctx, apimodel.BucketClientCerts, apimodel.ClientCertificateKey(accountA, *cc.ClientCertificateId))
	if err != nil {
		t.Fatal(err)
	}
	var rec apimodel.ClientCertificateRecord
	if err := json.Unmarshal(ent.Value, &rec); err != nil || rec.PrivateKeyPEM == "" || rec.Account != accountA {
		t.Errorf("stored %+v (%v)", rec, err)
	}

	got := must[*apigateway.GetClientCertificateOutput](t)(e.a.GetClientCertificate(ctx, &apigateway.GetClientCertificateInput{ClientCertificateId: cc.ClientCertificateId}))
	if *got.PemEncodedCertificate != *cc.PemEncodedCertificate {
		t.Error("GetClientCertificate PEM differs")
	}
	upd := must[*apigateway.UpdateClientCertificateOutput](t)(e.a.UpdateClientCertificate(ctx, &apigateway.UpdateClientCertificateInput{
		ClientCertificateId: cc.ClientCertificateId, PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/description", "rotated")}}))
	if *upd.Description != "rotated" {
		t.Errorf("updated %+v", upd)
	}
	_, err = e.a.UpdateClientCertificate(ctx, &apigateway.UpdateClientCertificateInput{
		ClientCertificateId: cc.ClientCertificateId, PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/pemEncodedCertificate", "x")}})
	wantAPIError(t, err, "BadRequestException", "Invalid patch path /pemEncodedCertificate")
	must[*apigateway.GenerateClientCertificateOutput](t)(e.a.GenerateClientCertificate(ctx, &apigateway.GenerateClientCertificateInput{}))
	list := must[*apigateway.GetClientCertificatesOutput](t)(e.a.GetClientCertificates(ctx, &apigateway.GetClientCertificatesInput{}))
	if len(list.Items) != 2 {
		t.Errorf("listed %d", len(list.Items))
	}
	if other := must[*apigateway.GetClientCertificatesOutput](t)(e.b.GetClientCertificates(ctx, &apigateway.GetClientCertificatesInput{})); len(other.Items) != 0 {
		t.Errorf("account B lists %d", len(other.Items))
	}
	_, err = e.b.GetClientCertificate(ctx, &apigateway.GetClientCertificateInput{ClientCertificateId: cc.ClientCertificateId})
	wantAPIError(t, err, "NotFoundException", "Invalid Client Certificate identifier specified")

	t.Run("stage clientCertificateId", func(t *testing.T) {
		f := e.deployable(t, nil)
		must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(f.apiID), StageName: aws.String("prod")}))
		_, err := e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(f.apiID), StageName: aws.String("prod"),
			PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/clientCertificateId", "nosuch")}})
		wantAPIError(t, err, "NotFoundException", "Invalid Client Certificate identifier specified")
		st := must[*apigateway.UpdateStageOutput](t)(e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(f.apiID), StageName: aws.String("prod"),
			PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/clientCertificateId", *cc.ClientCertificateId)}}))
		if *st.ClientCertificateId != *cc.ClientCertificateId {
			t.Errorf("stage certificate %v", st.ClientCertificateId)
		}
		st = must[*apigateway.UpdateStageOutput](t)(e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(f.apiID), StageName: aws.String("prod"),
			PatchOperations: []types.PatchOperation{patch(types.OpRemove, "/clientCertificateId", "")}}))
		if st.ClientCertificateId != nil {
			t.Errorf("stage certificate after remove %v", *st.ClientCertificateId)
		}
	})

	must[*apigateway.DeleteClientCertificateOutput](t)(e.a.DeleteClientCertificate(ctx, &apigateway.DeleteClientCertificateInput{ClientCertificateId: cc.ClientCertificateId}))
	_, err = e.a.GetClientCertificate(ctx, &apigateway.GetClientCertificateInput{ClientCertificateId: cc.ClientCertificateId})
	wantAPIError(t, err, "NotFoundException", "Invalid Client Certificate identifier specified")
	_, err = e.a.DeleteClientCertificate(ctx, &apigateway.DeleteClientCertificateInput{ClientCertificateId: cc.ClientCertificateId})
	wantAPIError(t, err, "NotFoundException", "Invalid Client Certificate identifier specified")
}

func TestClientCertificatesWithoutCA(t *testing.T) {
	e := newEnv(t)
	_, err := e.a.GenerateClientCertificate(ctxT(t), &apigateway.GenerateClientCertificateInput{})
	wantAPIError(t, err, "BadRequestException", "Client certificates are not available: gatehouse has no certificate authority configured")
	e2 := newEnv(t, func(o *Options) {
		o.IssueClientCert = func(string) ([]byte, []byte, error) { return nil, nil, errors.New("CA offline") }
	})
	_, err = e2.a.GenerateClientCertificate(ctxT(t), &apigateway.GenerateClientCertificateInput{})
	wantStatus(t, err, http.StatusInternalServerError)
}

func TestAgentTokens(t *testing.T) {
	const vpcA, vpcB = "vpc-0aaaaaaaaaaaaaaa1", "vpc-0bbbbbbbbbbbbbbb1"
	owners := map[string]string{vpcA: accountA, vpcB: accountB}
	e := newEnv(t, func(o *Options) {
		o.VPCOwner = func(id string) (string, bool) { a, ok := owners[id]; return a, ok }
	})
	// The extension has no SDK operation: call the handler over plain HTTP (the test
	// server attributes every request to account A).
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctxT(t), method, e.url+path, bytes.NewReader([]byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		if resp.StatusCode >= 400 {
			out = map[string]any{"type": resp.Header.Get("X-Amzn-Errortype"), "message": out["message"]}
		}
		return resp.StatusCode, out
	}
	base := "/gatehouse/vpcs/" + vpcA + "/agenttokens"
	status, tok := do(http.MethodPost, base, `{"description":"site A"}`)
	if status != http.StatusCreated || tok["vpcId"] != vpcA || tok["description"] != "site A" || tok["revoked"] != false {
		t.Fatalf("create: %d %v", status, tok)
	}
	token, _ := tok["token"].(string)
	id, _ := tok["tokenId"].(string)
	if len(token) < 40 || id == "" {
		t.Fatalf("token %q id %q", token, id)
	}
	ent, err := e.store.Get(ctxT(t), apimodel.BucketAgentTokens, apimodel.AgentTokenHash(token))
	if err != nil {
		t.Fatalf("token not stored under its hash: %v", err)
	}
	if bytes.Contains(ent.Value, []byte(token)) {
		t.Error("the token itself is stored")
	}
	status, lst := do(http.MethodGet, base, "")
	items, _ := lst["item"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["token"] != nil {
		t.Errorf("list: %d %v", status, lst)
	}
	tests := []struct {
		name, method, path string
		status             int
		typ, msg           string
	}{
		{"unknown VPC", http.MethodPost, "/gatehouse/vpcs/vpc-0123456789abcdef0/agenttokens", 404, "NotFoundException", "Invalid VPC identifier specified"},
		{"another account's VPC", http.MethodGet, "/gatehouse/vpcs/" + vpcB + "/agenttokens", 404, "NotFoundException", "Invalid VPC identifier specified"},
		{"unknown token", http.MethodDelete, base + "/nosuch", 404, "NotFoundException", "Invalid agent token identifier specified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := do(tt.method, tt.path, "{}")
			if status != tt.status || out["type"] != tt.typ || out["message"] != tt.msg {
				t.Errorf("got %d %v", status, out)
			}
		})
	}
	if status, _ := do(http.MethodDelete, base+"/"+id, ""); status != http.StatusAccepted {
		t.Fatalf("revoke: %d", status)
	}
	status, got := do(http.MethodGet, base+"/"+id, "")
	if status != 200 || got["revoked"] != true || got["revokedDate"] == nil {
		t.Errorf("after revoke: %d %v", status, got)
	}
	var doc apimodel.AgentToken
	ent, _ = e.store.Get(ctxT(t), apimodel.BucketAgentTokens, apimodel.AgentTokenHash(token))
	if err := json.Unmarshal(ent.Value, &doc); err != nil || !doc.Revoked || doc.Account != accountA || doc.VpcID != vpcA {
		t.Errorf("stored %+v", doc)
	}
	if status, _ := do(http.MethodDelete, base+"/"+id, ""); status != http.StatusAccepted {
		t.Errorf("second revoke: %d", status)
	}
}
