package throttle

import (
	"net/http"
	"testing"
)

func TestKeyFromRequest(t *testing.T) {
	h := http.Header{}
	h.Set("x-api-KEY", "from-header") // any case, canonicalized as net/http does
	tests := []struct {
		name, source, authorizer, want string
		header                         http.Header
	}{
		{"header source", KeySourceHeader, "from-authorizer", "from-header", h},
		{"default source is the header", "", "", "from-header", h},
		{"authorizer source ignores the header", KeySourceAuthorizer, "from-authorizer", "from-authorizer", h},
		{"no header", KeySourceHeader, "", "", http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeyFromRequest(tt.source, tt.header, tt.authorizer); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
