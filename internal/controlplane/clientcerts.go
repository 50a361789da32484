package controlplane

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

// Client certificates: GenerateClientCertificate issues a certificate from gatehouse's CA
// (Options.IssueClientCert); a stage's clientCertificateId makes the data plane present
// it to HTTP backends, which verify it with the PEM GetClientCertificate returns (or the
// CA's). The private key stays in the store (ClientCertificateRecord).

const (
	clientCertIDLen         = 6
	maxClientCertificates   = 60
	msgClientCertNotFound   = "Invalid Client Certificate identifier specified"
	msgClientCertsNotConfig = "Client certificates are not available: gatehouse has no certificate authority configured"
)

// clientCertWire is apigateway's ClientCertificate shape.
type clientCertWire struct {
	ClientCertificateID   string            `json:"clientCertificateId"`
	Description           string            `json:"description,omitempty"`
	PemEncodedCertificate string            `json:"pemEncodedCertificate"`
	CreatedDate           apimodel.Epoch    `json:"createdDate"`
	ExpirationDate        apimodel.Epoch    `json:"expirationDate"`
	Tags                  map[string]string `json:"tags,omitempty"`
}

func toClientCertWire(cc *apimodel.ClientCertificate) clientCertWire {
	return clientCertWire{ClientCertificateID: cc.ClientCertificateID, Description: cc.Description,
		PemEncodedCertificate: cc.PemEncodedCertificate, CreatedDate: cc.CreatedDate, ExpirationDate: cc.ExpirationDate, Tags: cc.Tags}
}

func (s *Server) generateClientCertificate(c *call) (int, any, error) {
	var in struct {
		Description string            `json:"description"`
		Tags        map[string]string `json:"tags"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	if s.issueClientCert == nil {
		return 0, nil, badRequest(msgClientCertsNotConfig)
	}
	existing, err := s.store.List(c.ctx, apimodel.BucketClientCerts, c.caller.Account+".")
	if err != nil {
		return 0, nil, err
	}
	if len(existing) >= maxClientCertificates {
		return 0, nil, limitExceeded(fmt.Sprintf("The maximum number of client certificates (%d) for this account has been reached", maxClientCertificates))
	}
	for attempt := 0; ; attempt++ {
		id := awsproto.NewID(clientCertIDLen)
		certPEM, keyPEM, err := s.issueClientCert(id)
		if err != nil {
			return 0, nil, fmt.Errorf("issue client certificate: %w", err)
		}
		block, _ := pem.Decode(certPEM)
		if block == nil {
			return 0, nil, errors.New("issue client certificate: no PEM certificate returned")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return 0, nil, fmt.Errorf("issue client certificate: %w", err)
		}
		rec := apimodel.ClientCertificateRecord{
			Account: c.caller.Account,
			ClientCertificate: apimodel.ClientCertificate{
				ClientCertificateID: id, Description: in.Description, PemEncodedCertificate: string(certPEM),
				CreatedDate: c.now, ExpirationDate: apimodel.Epoch(cert.NotAfter.UTC().Truncate(time.Millisecond)), Tags: in.Tags,
			},
			PrivateKeyPEM: string(keyPEM),
		}
		b, err := json.Marshal(&rec)
		if err != nil {
			return 0, nil, err
		}
		_, err = s.store.Create(c.ctx, apimodel.BucketClientCerts, apimodel.ClientCertificateKey(c.caller.Account, id), b)
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, toClientCertWire(&rec.ClientCertificate), nil
	}
}

// loadClientCert returns the caller's client certificate id, or a NotFoundException.
func (s *Server) loadClientCert(c *call, id string) (*apimodel.ClientCertificateRecord, error) {
	if !validID(id) {
		return nil, notFound(msgClientCertNotFound)
	}
	e, err := s.store.Get(c.ctx, apimodel.BucketClientCerts, apimodel.ClientCertificateKey(c.caller.Account, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(msgClientCertNotFound)
	}
	if err != nil {
		return nil, err
	}
	var rec apimodel.ClientCertificateRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return nil, fmt.Errorf("decode client certificate %s: %w", e.Key, err)
	}
	return &rec, nil
}

func (s *Server) getClientCertificate(c *call) (int, any, error) {
	rec, err := s.loadClientCert(c, c.r.PathValue("clientcertificate_id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toClientCertWire(&rec.ClientCertificate), nil
}

func (s *Server) getClientCertificates(c *call) (int, any, error) {
	entries, err := s.store.List(c.ctx, apimodel.BucketClientCerts, c.caller.Account+".")
	if err != nil {
		return 0, nil, err
	}
	certs := make([]*apimodel.ClientCertificate, 0, len(entries))
	for _, e := range entries {
		var rec apimodel.ClientCertificateRecord
		if err := json.Unmarshal(e.Value, &rec); err != nil {
			return 0, nil, fmt.Errorf("decode client certificate %s: %w", e.Key, err)
		}
		certs = append(certs, &rec.ClientCertificate)
	}
	sort.Slice(certs, func(i, j int) bool { return certs[i].ClientCertificateID < certs[j].ClientCertificateID })
	page, pos, err := paginate(c, certs, func(cc *apimodel.ClientCertificate) string { return cc.ClientCertificateID })
	if err != nil {
		return 0, nil, err
	}
	out := list[clientCertWire]{Position: pos, Items: make([]clientCertWire, 0, len(page))}
	for _, cc := range page {
		out.Items = append(out.Items, toClientCertWire(cc))
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateClientCertificate(c *call) (int, any, error) {
	ops, err := decodePatch(c, "updateClientCertificateInput")
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("clientcertificate_id")
	if !validID(id) {
		return 0, nil, notFound(msgClientCertNotFound)
	}
	key := apimodel.ClientCertificateKey(c.caller.Account, id)
	defer s.lock(apimodel.BucketClientCerts, key)()
	var out *apimodel.ClientCertificate
	_, err = s.store.Modify(c.ctx, apimodel.BucketClientCerts, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, notFound(msgClientCertNotFound)
		}
		var rec apimodel.ClientCertificateRecord
		if err := json.Unmarshal(cur, &rec); err != nil {
			return nil, err
		}
		for i := range ops {
			p := &ops[i]
			if p.path() != "/description" {
				return nil, errPatchPath(p.path())
			}
			if err := allowOp(p.Op, opReplace, opAdd, opRemove); err != nil {
				return nil, err
			}
			rec.ClientCertificate.Description = p.value()
			if p.Op == opRemove {
				rec.ClientCertificate.Description = ""
			}
		}
		out = &rec.ClientCertificate
		return json.Marshal(&rec)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toClientCertWire(out), nil
}

func (s *Server) deleteClientCertificate(c *call) (int, any, error) {
	id := c.r.PathValue("clientcertificate_id")
	rec, err := s.loadClientCert(c, id)
	if err != nil {
		return 0, nil, err
	}
	err = s.store.Delete(c.ctx, apimodel.BucketClientCerts, apimodel.ClientCertificateKey(c.caller.Account, rec.ClientCertificate.ClientCertificateID), 0)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

// checkStageClientCertificates validates the client certificate ids an UpdateStage patch
// sets (NotFoundException for one the caller does not own).
func (s *Server) checkStageClientCertificates(c *call, ops []patchOp) error {
	for i := range ops {
		p := &ops[i]
		if p.path() != "/clientCertificateId" || p.Op != opReplace || p.value() == "" {
			continue
		}
		if _, err := s.loadClientCert(c, p.value()); err != nil {
			return err
		}
	}
	return nil
}
