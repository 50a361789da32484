package controlplane

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

// Link agent tokens: a gatehouse extension of the apigateway API (SigV4 service
// "apigateway", REST-JSON, camelCase) with which a VPC's owner issues and revokes the
// tokens `gatehouse link-agent --token` joins that VPC with:
//
//	POST   /gatehouse/vpcs/{vpcId}/agenttokens            {"description": "..."}
//	       → 201 {"tokenId", "token", "vpcId", "description", "createdDate", "revoked": false}
//	       The token is shown only in this response; the store keeps its SHA-256.
//	GET    /gatehouse/vpcs/{vpcId}/agenttokens            → 200 {"item": [ ...without "token"... ], "position"}
//	GET    /gatehouse/vpcs/{vpcId}/agenttokens/{tokenId}  → 200 one token, without "token"
//	DELETE /gatehouse/vpcs/{vpcId}/agenttokens/{tokenId}  → 202; the token is revoked
//	       (kept with "revoked": true so agents presenting it get a clear refusal).
//
// The VPC must be a topology VPC of the caller's account (NotFoundException
// "Invalid VPC identifier specified" otherwise). Tokens declared in the topology file
// (vpcs[].agentTokens) are not listed here and cannot be revoked here.
//
// With the aws CLI (which has no command for it) the call can be signed by curl:
//
//	curl --aws-sigv4 "aws:amz:us-east-1:apigateway" --user "$AKID:$SECRET" \
//	     -X POST -d '{"description":"site A"}' http://127.0.0.1:4566/gatehouse/vpcs/vpc-0abc.../agenttokens

const (
	agentTokenIDLen      = 10
	agentTokenPrefix     = "ghat_"
	maxAgentTokensPerVPC = 100
	msgVPCNotFound       = "Invalid VPC identifier specified"
	msgAgentTokenMissing = "Invalid agent token identifier specified"
)

type agentTokenWire struct {
	TokenID     string         `json:"tokenId"`
	Token       string         `json:"token,omitempty"`
	VpcID       string         `json:"vpcId"`
	Description string         `json:"description,omitempty"`
	CreatedDate apimodel.Epoch `json:"createdDate"`
	Revoked     bool           `json:"revoked"`
	RevokedDate apimodel.Epoch `json:"revokedDate,omitzero"`
}

func toAgentTokenWire(t *apimodel.AgentToken) agentTokenWire {
	return agentTokenWire{TokenID: t.TokenID, VpcID: t.VpcID, Description: t.Description, CreatedDate: t.CreatedDate,
		Revoked: t.Revoked, RevokedDate: t.RevokedDate}
}

// agentTokenVPC returns the path's VPC id after checking the caller owns it.
func (s *Server) agentTokenVPC(c *call) (string, error) {
	vpc := c.r.PathValue("vpc_id")
	if s.vpcOwner == nil {
		return "", notFound(msgVPCNotFound)
	}
	if owner, ok := s.vpcOwner(vpc); !ok || owner != c.caller.Account {
		return "", notFound(msgVPCNotFound)
	}
	return vpc, nil
}

// vpcAgentTokens returns the tokens of vpc the caller issued, with their store keys.
func (s *Server) vpcAgentTokens(c *call, vpc string) ([]*apimodel.AgentToken, []string, error) {
	entries, err := s.store.List(c.ctx, apimodel.BucketAgentTokens, "")
	if err != nil {
		return nil, nil, err
	}
	var out []*apimodel.AgentToken
	var keys []string
	for _, e := range entries {
		var t apimodel.AgentToken
		if err := json.Unmarshal(e.Value, &t); err != nil {
			return nil, nil, fmt.Errorf("decode agent token %s: %w", e.Key, err)
		}
		if t.Account == c.caller.Account && t.VpcID == vpc {
			out = append(out, &t)
			keys = append(keys, e.Key)
		}
	}
	return out, keys, nil
}

func (s *Server) createAgentToken(c *call) (int, any, error) {
	vpc, err := s.agentTokenVPC(c)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Description string `json:"description"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Description) > 1024 {
		return 0, nil, badRequest("Description must be at most 1024 characters")
	}
	existing, _, err := s.vpcAgentTokens(c, vpc)
	if err != nil {
		return 0, nil, err
	}
	if len(existing) >= maxAgentTokensPerVPC {
		return 0, nil, limitExceeded(fmt.Sprintf("A VPC can have at most %d agent tokens; delete revoked ones first", maxAgentTokensPerVPC))
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	token := agentTokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := apimodel.AgentToken{Account: c.caller.Account, VpcID: vpc, TokenID: awsproto.NewID(agentTokenIDLen),
		TokenSHA256: apimodel.AgentTokenHash(token), Description: in.Description, CreatedDate: c.now}
	b, err := json.Marshal(&t)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.store.Create(c.ctx, apimodel.BucketAgentTokens, t.TokenSHA256, b); err != nil {
		return 0, nil, err
	}
	out := toAgentTokenWire(&t)
	out.Token = token
	return http.StatusCreated, out, nil
}

func (s *Server) getAgentTokens(c *call) (int, any, error) {
	vpc, err := s.agentTokenVPC(c)
	if err != nil {
		return 0, nil, err
	}
	tokens, _, err := s.vpcAgentTokens(c, vpc)
	if err != nil {
		return 0, nil, err
	}
	sort.Slice(tokens, func(i, j int) bool { return tokens[i].TokenID < tokens[j].TokenID })
	page, pos, err := paginate(c, tokens, func(t *apimodel.AgentToken) string { return t.TokenID })
	if err != nil {
		return 0, nil, err
	}
	out := list[agentTokenWire]{Position: pos, Items: make([]agentTokenWire, 0, len(page))}
	for _, t := range page {
		out.Items = append(out.Items, toAgentTokenWire(t))
	}
	return http.StatusOK, out, nil
}

// findAgentToken returns the path's token of the path's VPC and its store key.
func (s *Server) findAgentToken(c *call) (*apimodel.AgentToken, string, error) {
	vpc, err := s.agentTokenVPC(c)
	if err != nil {
		return nil, "", err
	}
	id := c.r.PathValue("token_id")
	tokens, keys, err := s.vpcAgentTokens(c, vpc)
	if err != nil {
		return nil, "", err
	}
	for i, t := range tokens {
		if t.TokenID == id {
			return t, keys[i], nil
		}
	}
	return nil, "", notFound(msgAgentTokenMissing)
}

func (s *Server) getAgentToken(c *call) (int, any, error) {
	t, _, err := s.findAgentToken(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toAgentTokenWire(t), nil
}

func (s *Server) deleteAgentToken(c *call) (int, any, error) {
	t, key, err := s.findAgentToken(c)
	if err != nil {
		return 0, nil, err
	}
	if t.Revoked {
		return http.StatusAccepted, nil, nil
	}
	defer s.lock(apimodel.BucketAgentTokens, key)()
	_, err = s.store.Modify(c.ctx, apimodel.BucketAgentTokens, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, notFound(msgAgentTokenMissing)
		}
		var doc apimodel.AgentToken
		if err := json.Unmarshal(cur, &doc); err != nil {
			return nil, err
		}
		if !doc.Revoked {
			doc.Revoked, doc.RevokedDate = true, c.now
		}
		return json.Marshal(&doc)
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound(msgAgentTokenMissing)
		}
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
