package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// shorthandPrefix starts a Resource written in API Gateway's short form.
const shorthandPrefix = "execute-api:"

// ExpandShorthand rewrites every Resource/NotResource string that begins with
// "execute-api:" (e.g. "execute-api:/*", "execute-api:/prod/GET/pets") into
// "arn:PARTITION:execute-api:REGION:ACCOUNT:APIID/..." and returns the
// document. API Gateway stores the expanded form when a policy is saved
// (DG-2023 apigateway-resource-policies-examples.md).
//
// Only those strings change: every other byte of src (formatting, element
// order, other elements) is kept. PARTITION follows the region ("aws-cn" for
// cn-*, "aws-us-gov" for us-gov-*, ...; "aws" otherwise). A shorthand whose
// path does not start with '/' gets one ("execute-api:*" → ".../APIID/*").
// For a private custom domain policy pass "/domainnames/NAME+ID" as apiID.
//
// The document must be JSON; it is not otherwise validated (use Parse).
func ExpandShorthand(src []byte, region, account, apiID string) ([]byte, error) {
	if region == "" || account == "" || apiID == "" {
		return nil, errors.New("policy: ExpandShorthand needs a region, an account and an API id")
	}
	if !json.Valid(src) {
		return nil, docErr("", "document is not valid JSON")
	}
	prefix := "arn:" + partitionOf(region) + ":execute-api:" + region + ":" + account + ":" + apiID
	var edits []edit
	top, err := membersAt(src, 0)
	if err != nil {
		return nil, docErr("", "document must be a JSON object")
	}
	for _, m := range top {
		if m.name != "Statement" {
			continue
		}
		var stmts []valueAt
		switch kindOf(m.raw) {
		case '{':
			stmts = []valueAt{{raw: m.raw, start: m.start}}
		case '[':
			if stmts, err = elementsAt(m.raw, m.start); err != nil {
				return nil, err
			}
		}
		for _, st := range stmts {
			if kindOf(st.raw) != '{' {
				continue
			}
			fields, err := membersAt(st.raw, st.start)
			if err != nil {
				return nil, err
			}
			for _, f := range fields {
				if f.name != "Resource" && f.name != "NotResource" {
					continue
				}
				vals := []valueAt{{raw: f.raw, start: f.start}}
				if kindOf(f.raw) == '[' {
					if vals, err = elementsAt(f.raw, f.start); err != nil {
						return nil, err
					}
				}
				for _, v := range vals {
					s, ok := jsonString(v.raw)
					if !ok || !strings.HasPrefix(s, shorthandPrefix) {
						continue
					}
					rest := s[len(shorthandPrefix):]
					if !strings.HasPrefix(rest, "/") {
						rest = "/" + rest
					}
					enc, err := encodeString(prefix + rest)
					if err != nil {
						return nil, err
					}
					edits = append(edits, edit{start: v.start, end: v.start + len(v.raw), text: enc})
				}
			}
		}
	}
	if len(edits) == 0 {
		return bytes.Clone(src), nil
	}
	var out bytes.Buffer
	out.Grow(len(src) + 64*len(edits))
	at := 0
	for _, e := range edits {
		out.Write(src[at:e.start])
		out.Write(e.text)
		at = e.end
	}
	out.Write(src[at:])
	return out.Bytes(), nil
}

// partitionOf returns the ARN partition of an AWS region name.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	}
	return "aws"
}

type edit struct {
	start, end int
	text       []byte
}

// valueAt is a JSON value and its byte offset in the whole document.
type valueAt struct {
	raw   json.RawMessage
	start int
}

type memberAt struct {
	name string
	valueAt
}

// membersAt is members with document offsets; base is raw's offset.
func membersAt(raw []byte, base int) ([]memberAt, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []memberAt
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		end := base + int(dec.InputOffset())
		out = append(out, memberAt{name: name, valueAt: valueAt{raw: v, start: end - len(v)}})
	}
	return out, nil
}

// elementsAt splits a JSON array into its elements with document offsets.
func elementsAt(raw []byte, base int) ([]valueAt, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("not a JSON array")
	}
	var out []valueAt
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		end := base + int(dec.InputOffset())
		out = append(out, valueAt{raw: v, start: end - len(v)})
	}
	return out, nil
}

// encodeString renders s as a JSON string without HTML escaping.
func encodeString(s string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("policy: encoding %q: %w", s, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
