package accesslog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleRecord() *Record {
	var r Record
	r.Reset()
	r.RequestID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
	r.ExtendedRequestID = "VwjwNFuUIAMFrRA="
	r.SourceIP = "10.0.1.7"
	r.HTTPMethod = "GET"
	r.ResourcePath = "/pets/{petId}"
	r.Protocol = "HTTP/1.1"
	r.Status = 200
	r.ResponseLength = 42
	r.RequestTime = time.Date(2020, 3, 4, 19, 15, 17, 123e6, time.UTC)
	return &r
}

func mustCompile(t testing.TB, format string) *Format {
	t.Helper()
	f, err := Compile(format)
	if err != nil {
		t.Fatalf("Compile(%q): %v", format, err)
	}
	return f
}

func render(t testing.TB, format string, r *Record) string {
	t.Helper()
	return string(mustCompile(t, format).Append(nil, r))
}

func TestSampleFormats(t *testing.T) {
	tests := []struct {
		name   string
		format string
		edit   func(*Record)
		want   string
	}{
		{
			name:   "CLF",
			format: CLF,
			want:   `10.0.1.7 - - [04/Mar/2020:19:15:17 +0000] "GET /pets/{petId} HTTP/1.1" 200 42 c6af9ac6-7b61-11e6-9a41-93e8deadbeef VwjwNFuUIAMFrRA=`,
		},
		{
			name:   "CLF with caller and user",
			format: CLF,
			edit:   func(r *Record) { r.Caller, r.User = "AIDAEXAMPLE", "AIDAEXAMPLE:alice" },
			want:   `10.0.1.7 AIDAEXAMPLE AIDAEXAMPLE:alice [04/Mar/2020:19:15:17 +0000] "GET /pets/{petId} HTTP/1.1" 200 42 c6af9ac6-7b61-11e6-9a41-93e8deadbeef VwjwNFuUIAMFrRA=`,
		},
		{
			name:   "CLF before the response",
			format: CLF,
			edit:   func(r *Record) { r.Status, r.ResponseLength, r.RequestTime = 0, NA, time.Time{} },
			want:   `10.0.1.7 - - [-] "GET /pets/{petId} HTTP/1.1" - - c6af9ac6-7b61-11e6-9a41-93e8deadbeef VwjwNFuUIAMFrRA=`,
		},
		{
			name:   "JSON",
			format: JSON,
			want:   `{ "requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "extendedRequestId":"VwjwNFuUIAMFrRA=", "ip": "10.0.1.7", "caller":"-", "user":"-", "requestTime":"04/Mar/2020:19:15:17 +0000", "httpMethod":"GET", "resourcePath":"/pets/{petId}", "status":"200", "protocol":"HTTP/1.1", "responseLength":"42" }`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleRecord()
			if tt.edit != nil {
				tt.edit(r)
			}
			if got := render(t, tt.format, r); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		format string
		edit   func(*Record)
		want   string
	}{
		{name: "braced form", format: `${context.requestId}|${context.status}`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef|200`},
		{name: "braced form glued to text", format: `id=${context.requestId}x`, want: `id=c6af9ac6-7b61-11e6-9a41-93e8deadbeef` + "x"},
		{name: "unclosed brace is literal", format: `$context.requestId ${context.status`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef ${context.status`},
		{name: "trailing dot is literal", format: `$context.requestId $context.status.`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef 200.`},
		{name: "hyphen ends a name", format: `$context.requestId-$context.status`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef-200`},
		{name: "other dollars are literal", format: `$ $$context.requestId $contextual $context. $input.body $stageVariables.x`, want: `$ $c6af9ac6-7b61-11e6-9a41-93e8deadbeef $contextual $context. $input.body $stageVariables.x`},
		{name: "unknown variables render dash", format: `$context.requestId $context.nope ${context.foo.bar} $context.requestOverride.header.x`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef - - -`},
		{name: "names are case-sensitive", format: `$context.requestId $context.Status`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef -`},
		{name: "missing values render dash", format: `$context.requestId $context.apiId $context.identity.userAgent $context.integrationLatency $context.integrationStatus $context.error.message $context.error.messageString`, want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef - - - - - -`},
		{name: "extendedRequestId alone", format: `$context.extendedRequestId`, want: `VwjwNFuUIAMFrRA=`},
		{name: "trailing newline dropped", format: "$context.requestId\n", want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef`},
		{name: "trailing CRLF dropped", format: "$context.requestId\r\n", want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef`},
		{
			name:   "latencies in milliseconds",
			format: `$context.requestId $context.responseLatency $context.integrationLatency $context.integration.latency $context.authorizer.latency`,
			edit: func(r *Record) {
				r.ResponseLatency, r.IntegrationLatency, r.AuthorizerLatency = 1500*time.Microsecond, 0, NA
			},
			want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef 1 0 0 -`,
		},
		{
			name:   "time is UTC CLF and epoch ms",
			format: `$context.requestId [$context.requestTime] $context.requestTimeEpoch`,
			edit: func(r *Record) {
				r.RequestTime = time.Date(2024, 11, 2, 1, 2, 3, 456e6, time.FixedZone("X", 2*3600))
			},
			want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef [01/Nov/2024:23:02:03 +0000] 1730502123456`,
		},
		{
			name:   "authorizer context and claims",
			format: `$context.requestId $context.authorizer.principalId $context.authorizer.tenant $context.authorizer.numKey $context.authorizer.claims.sub $context.authorizer.claims $context.authorizer.missing`,
			edit: func(r *Record) {
				r.AuthorizerPrincipalID = "user|a1"
				r.Authorizer = map[string]string{"tenant": "acme", "numKey": "1"}
				r.AuthorizerClaims = map[string]string{"sub": "1234"}
			},
			want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef user|a1 acme 1 1234 - -`,
		},
		{
			name:   "private API identity",
			format: `$context.requestId $context.identity.vpceId $context.identity.vpcId`,
			edit:   func(r *Record) { r.VpceID, r.VpcID = "vpce-0123", "vpc-0abc" },
			want:   `c6af9ac6-7b61-11e6-9a41-93e8deadbeef vpce-0123 vpc-0abc`,
		},
		{
			name:   "error message and messageString",
			format: `$context.requestId $context.error.message $context.error.messageString $context.error.responseType`,
			edit: func(r *Record) {
				r.ErrorMessage, r.ErrorResponseType = "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN"
			},
			want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef Missing Authentication Token "Missing Authentication Token" MISSING_AUTHENTICATION_TOKEN`,
		},
		{
			name:   "plain values stay raw except control characters",
			format: `$context.requestId "$context.identity.userAgent" $context.identity.clientCert.clientCertPem`,
			edit: func(r *Record) {
				r.UserAgent = `say "hi" \ ok`
				r.ClientCert.PEM = "-----BEGIN\nAB\r\x01\t-----"
			},
			want: `c6af9ac6-7b61-11e6-9a41-93e8deadbeef "say "hi" \ ok" -----BEGIN\nAB\r\u0001\t-----`,
		},
		{
			name:   "JSON string values escaped",
			format: `{"id":"$context.requestId","ua":"$context.identity.userAgent","raw":$context.identity.userAgent}`,
			edit:   func(r *Record) { r.UserAgent = `a"b\c` + "\n\x02\xff" },
			want:   `{"id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","ua":"a\"b\\c\n\u0002\ufffd","raw":a"b\c\n\u0002` + "\xff}",
		},
		{
			name:   "escaped quote in JSON literal keeps string state",
			format: `{"k\"x":"$context.requestId $context.identity.userAgent"}`,
			edit:   func(r *Record) { r.UserAgent = `"` },
			want:   `{"k\"x":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef \""}`,
		},
		{
			name:   "messageString inside a JSON string",
			format: `{"requestId":"$context.requestId","m":"$context.error.messageString","n":$context.error.messageString}`,
			edit:   func(r *Record) { r.ErrorMessage = `bad "x"` + "\n" },
			want:   `{"requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","m":"\"bad \\\"x\\\"\\n\"","n":"bad \"x\"\n"}`,
		},
		{
			name:   "non-JSON formats never JSON-escape",
			format: `<r id="$context.requestId" ua="$context.identity.userAgent"/>`,
			edit:   func(r *Record) { r.UserAgent = `x"y` },
			want:   `<r id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef" ua="x"y"/>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleRecord()
			if tt.edit != nil {
				tt.edit(r)
			}
			if got := render(t, tt.format, r); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestJSONFormatStaysValid(t *testing.T) {
	f := mustCompile(t, JSON)
	nasty := []string{`"`, `\`, "\n", "\x00", "\xff\xfe", `"},{"x":1`, "ümlaut ✓", "\u2028"}
	for _, v := range nasty {
		r := sampleRecord()
		r.SourceIP, r.Caller, r.User, r.ResourcePath = v, v, v, v
		line := f.Append(nil, r)
		if !json.Valid(line) {
			t.Fatalf("value %q: invalid JSON %s", v, line)
		}
		var m map[string]string
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		if want := perByteUTF8(v); m["ip"] != want {
			t.Fatalf("value %q round-tripped as %q", v, m["ip"])
		}
	}
}

// perByteUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func perByteUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields utf8.RuneError per invalid byte
	}
	return b.String()
}

func TestCompileErrors(t *testing.T) {
	big := "$context.requestId " + strings.Repeat("x", MaxFormatSize)
	tests := []struct {
		name   string
		format string
		msg    string
	}{
		{name: "newline inside", format: "$context.requestId\n$context.status", msg: "Access Log format must be single line, new line character is allowed only at end of the format: '$context.requestId\n$context.status'"},
		{name: "two trailing newlines", format: "$context.requestId\n\n", msg: "Access Log format must be single line, new line character is allowed only at end of the format: '$context.requestId\n\n'"},
		{name: "carriage return", format: "$context.requestId\r$context.status", msg: "Access Log format must be single line, new line character is allowed only at end of the format: '$context.requestId\r$context.status'"},
		{name: "no request id", format: "$context.status $context.identity.sourceIp", msg: MsgNeedID},
		{name: "request id case", format: "$context.requestid", msg: MsgNeedID},
		{name: "request id prefix only", format: "$context.requestIdX", msg: MsgNeedID},
		{name: "empty", format: "", msg: MsgNeedID},
		{name: "unclosed braces", format: "${context.requestId", msg: MsgNeedID},
		{name: "too big", format: big, msg: MsgFormatTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.format)
			if err == nil {
				t.Fatalf("Compile succeeded: %v", f.Variables())
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Message != tt.msg || err.Error() != tt.msg {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
		})
	}
	exact := "$context.requestId " + strings.Repeat("x", MaxFormatSize-len("$context.requestId "))
	if _, err := Compile(exact); err != nil {
		t.Fatalf("format of exactly %d bytes: %v", MaxFormatSize, err)
	}
}

// TestKnownVariables checks that every documented REST variable is wired to a Record field.
func TestKnownVariables(t *testing.T) {
	r := Record{
		AccountID: "v-accountId", APIID: "v-apiId", Stage: "v-stage", DomainName: "v-domainName",
		DomainPrefix: "v-domainPrefix", ResourceID: "v-resourceId", ResourcePath: "v-resourcePath",
		Path: "v-path", HTTPMethod: "v-httpMethod", Protocol: "v-protocol",
		CustomDomainBasePathMatched: "v-basePath", RequestID: "v-requestId",
		ExtendedRequestID: "v-extendedRequestId", XrayTraceID: "v-xray",
		RequestTime: time.Unix(1, 0), TLSVersion: "v-tls", CipherSuite: "v-cipher",
		SourceIP: "v-sourceIp", UserAgent: "v-ua", Caller: "v-caller", User: "v-user",
		UserArn: "v-userArn", AccessKey: "v-accessKey", IdentityAccountID: "v-identityAccount",
		PrincipalOrgID: "v-org", CognitoAuthenticationProvider: "v-cap", CognitoAuthenticationType: "v-cat",
		CognitoIdentityID: "v-cid", CognitoIdentityPoolID: "v-cpool", APIKey: "v-apiKey", APIKeyID: "v-apiKeyId",
		VpcID: "v-vpc", VpceID: "v-vpce",
		ClientCert: ClientCert{PEM: "v-pem", SubjectDN: "v-sdn", IssuerDN: "v-idn", SerialNumber: "v-serial", NotBefore: "v-nb", NotAfter: "v-na"},
		Status:     201, ResponseLength: 70, ResponseLatency: 3 * time.Millisecond,
		IntegrationStatus: 202, IntegrationResponseStatus: 203, IntegrationLatency: 4 * time.Millisecond,
		IntegrationError: "v-ierr", IntegrationErrorMessage: "v-ierrmsg", IntegrationRequestID: "v-ireq",
		AWSEndpointRequestID:  "v-awsreq",
		AuthorizerPrincipalID: "v-principal", Authorizer: map[string]string{"k": "v-prop"},
		AuthorizerClaims: map[string]string{"sub": "v-claim"}, AuthorizerError: "v-aerr",
		AuthorizerRequestID: "v-areq", AuthorizerStatus: 204, AuthorizerIntegrationStatus: 205,
		AuthorizerLatency: 5 * time.Millisecond, AuthorizerIntegrationLatency: 6 * time.Millisecond,
		Authorize:       Phase{Error: "v-authz-err", Latency: 7 * time.Millisecond, Status: 206},
		Authenticate:    Phase{Error: "v-authn-err", Latency: 8 * time.Millisecond, Status: 207},
		WAF:             Phase{Error: "v-waf-err", Latency: 9 * time.Millisecond, Status: 208},
		WAFResponseCode: "v-wafcode", WebACLArn: "v-acl",
		ErrorMessage: "v-msg", ErrorResponseType: "v-type", ErrorValidationErrorString: "v-valid",
	}
	names := []string{
		"accountId", "apiId", "stage", "domainName", "domainPrefix", "resourceId", "resourcePath", "path",
		"httpMethod", "protocol", "customDomain.basePathMatched", "requestId", "extendedRequestId",
		"xrayTraceId", "requestTime", "requestTimeEpoch", "tlsVersion", "cipherSuite",
		"identity.sourceIp", "identity.userAgent", "identity.caller", "identity.user", "identity.userArn",
		"identity.accessKey", "identity.accountId", "identity.principalOrgId",
		"identity.cognitoAuthenticationProvider", "identity.cognitoAuthenticationType",
		"identity.cognitoIdentityId", "identity.cognitoIdentityPoolId", "identity.apiKey", "identity.apiKeyId",
		"identity.vpcId", "identity.vpceId", "identity.clientCert.clientCertPem", "identity.clientCert.subjectDN",
		"identity.clientCert.issuerDN", "identity.clientCert.serialNumber",
		"identity.clientCert.validity.notBefore", "identity.clientCert.validity.notAfter",
		"status", "responseLength", "responseLatency", "integrationStatus", "integration.integrationStatus",
		"integration.status", "integrationLatency", "integration.latency", "integration.error",
		"integrationErrorMessage", "integration.requestId", "awsEndpointRequestId",
		"authorizer.principalId", "authorizer.k", "authorizer.claims.sub", "authorizer.error",
		"authorizer.requestId", "authorizer.status", "authorizer.integrationStatus", "authorizer.latency",
		"authorizer.integrationLatency", "authorize.error", "authorize.latency", "authorize.status",
		"authenticate.error", "authenticate.latency", "authenticate.status", "waf.error", "waf.latency",
		"waf.status", "wafResponseCode", "webaclArn", "error.message", "error.messageString",
		"error.responseType", "error.validationErrorString",
	}
	seen := map[string]string{}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			if v, _ := resolve(n); v == vUnknown {
				t.Fatalf("%s is not known", n)
			}
			got := render(t, "$context.requestId $context."+n, &r)
			got = strings.TrimPrefix(got, "v-requestId ")
			if got == "-" || got == "" {
				t.Fatalf("%s rendered %q", n, got)
			}
			seen[n] = got
		})
	}
	// Distinct fields must render distinct values (aliases excepted).
	aliases := map[string]string{"integration.integrationStatus": "integrationStatus", "integration.latency": "integrationLatency"}
	byValue := map[string]string{}
	for _, n := range names {
		if _, ok := aliases[n]; ok {
			if seen[n] != seen[aliases[n]] {
				t.Errorf("%s = %q, alias %s = %q", n, seen[n], aliases[n], seen[aliases[n]])
			}
			continue
		}
		if other, dup := byValue[seen[n]]; dup && n != "error.messageString" {
			t.Errorf("%s and %s both render %q", n, other, seen[n])
		}
		byValue[seen[n]] = n
	}
}

func TestVariablesAndString(t *testing.T) {
	f := mustCompile(t, "a $context.requestId b ${context.status} $context.x.y")
	if got, want := strings.Join(f.Variables(), ","), "requestId,status,x.y"; got != want {
		t.Fatalf("Variables = %s, want %s", got, want)
	}
	if f.String() != "a $context.requestId b ${context.status} $context.x.y" {
		t.Fatalf("String = %q", f.String())
	}
}

func TestReset(t *testing.T) {
	r := Record{RequestID: "x", Status: 500, Authorizer: map[string]string{"a": "b"}}
	auth := r.Authorizer
	r.Reset()
	if r.RequestID != "" || r.Status != 0 || len(r.Authorizer) != 0 {
		t.Fatalf("not cleared: %+v", r)
	}
	r.Authorizer["z"] = "1"
	if auth["z"] != "1" {
		t.Fatal("Authorizer map not reused")
	}
	got := render(t, "$context.requestId $context.responseLength $context.responseLatency $context.waf.latency", &r)
	if got != "- - - -" {
		t.Fatalf("reset record rendered %q", got)
	}
}

func TestAppendZeroAllocs(t *testing.T) {
	f := mustCompile(t, JSON+` $context.authorizer.tenant $context.error.messageString "$context.identity.userAgent"`)
	r := sampleRecord()
	r.Authorizer = map[string]string{"tenant": "acme"}
	r.ErrorMessage = `quote " here`
	r.UserAgent = "agent \"q\"\n"
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(200, func() { buf = f.Append(buf[:0], r) })
	if allocs != 0 {
		t.Fatalf("%v allocs per Append", allocs)
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct{ name, format string }{{"CLF", CLF}, {"JSON", JSON}} {
		b.Run(bc.name, func(b *testing.B) {
			f := mustCompile(b, bc.format)
			r := sampleRecord()
			r.UserAgent = "Mozilla/5.0 (X11; Linux x86_64)"
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf = f.Append(buf[:0], r)
			}
		})
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{CLF, JSON, "${context.requestId}", "$context.requestId\n", "$context.requestId $context.", `{"a":"$context.requestId\"$context.x"}`, "${context.", "$$${context.requestId}}"} {
		f.Add(s, `ua "x" \`+"\n")
	}
	f.Fuzz(func(t *testing.T, format, value string) {
		fm, err := Compile(format)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not *FormatError", err)
			}
			return
		}
		r := sampleRecord()
		r.UserAgent, r.ErrorMessage, r.SourceIP = value, value, value
		r.Authorizer = map[string]string{"k": value}
		line := fm.Append(nil, r)
		if strings.ContainsAny(string(line), "\r\n") {
			t.Fatalf("line break in output %q", line)
		}
		if again := fm.Append(nil, r); string(again) != string(line) {
			t.Fatal("Append is not deterministic")
		}
		found := false
		for _, v := range fm.Variables() {
			if v == "requestId" || v == "extendedRequestId" {
				found = true
			}
		}
		if !found {
			t.Fatal("compiled without a request id variable")
		}
	})
}

func FuzzJSONValue(f *testing.F) {
	for _, s := range []string{"", `"`, `\`, "\n", "\xff", "\u2028", `"},{"x":`} {
		f.Add(s)
	}
	fm := mustCompile(f, `{"requestId":"$context.requestId","ua":"$context.identity.userAgent","m":"$context.error.messageString"}`)
	f.Fuzz(func(t *testing.T, v string) {
		r := sampleRecord()
		r.UserAgent, r.ErrorMessage = v, v
		line := fm.Append(nil, r)
		var m map[string]string
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("invalid JSON for %q: %s (%v)", v, line, err)
		}
		want := perByteUTF8(v)
		if v == "" {
			want = "-"
		}
		if m["ua"] != want {
			t.Fatalf("ua = %q, want %q", m["ua"], want)
		}
		if v != "" {
			var inner string
			if err := json.Unmarshal([]byte(m["m"]), &inner); err != nil || inner != want {
				t.Fatalf("messageString %q does not decode to %q (%v)", m["m"], want, err)
			}
		}
	})
}
