package e2e

import (
	"testing"

	"gatehouse/internal/gwtest"
)

// TestStartIsRaceFree starts gatehouse (several TLS listeners) and calls every TLS
// listener once. It only finds something under -race: every listener's http.Server must
// have a TLS configuration of its own, because Serve (http2ConfigureServer) writes to it.
func TestStartIsRaceFree(t *testing.T) {
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	for name, addr := range map[string]string{
		"public": gw.App.Addrs().Public,
		vpceA:    gw.EndpointTLS(vpceA),
		vpceB:    gw.EndpointTLS(vpceB),
	} {
		source := map[string]string{vpceA: inA, vpceB: inB}[name]
		status, _, body := get(t, gw.Client(source, addr), "https://nosuchapi.execute-api.us-east-1.amazonaws.com/prod/", nil, 403)
		if status != 403 {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
}
