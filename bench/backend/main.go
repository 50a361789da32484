// Command backend is the benchmark's origin server: it answers every request, on any path
// and method, with the same 101-byte JSON body over keep-alive HTTP/1.1. With -issuer-listen
// it also plays the OIDC issuer of the benchmark's JWTs on a second address: the discovery
// document and the JWKS that "setup jwt" wrote.
//
//	backend -listen 127.0.0.1:18001 [-issuer-listen 127.0.0.1:18002 -jwks out/jwks.json]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// body is the response: exactly 101 bytes of JSON.
const body = `{"message":"hello from the bench backend","service":"pets","id":1234,"ok":true,"tags":["a","b","c"]}` + "\n"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:18001", "address to listen on")
	issuerListen := fs.String("issuer-listen", "", "address of the OIDC issuer (empty: none)")
	jwksFile := fs.String("jwks", "", "the issuer's JWKS (JSON file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	errc := make(chan error, 2)
	if *issuerListen != "" {
		jwks, err := os.ReadFile(*jwksFile)
		if err != nil {
			return fmt.Errorf("-jwks: %w", err)
		}
		issuer := "http://" + *issuerListen
		discovery := fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q,"id_token_signing_alg_values_supported":["RS256"]}`, issuer, issuer+"/jwks.json")
		mux := http.NewServeMux()
		mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, discovery)
		})
		mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(jwks)
		})
		isrv := &http.Server{Addr: *issuerListen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- isrv.ListenAndServe() }()
	}
	if len(body) != 101 {
		return fmt.Errorf("body is %d bytes, want 101", len(body))
	}
	b := []byte(body)
	size := strconv.Itoa(len(b))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hdr := w.Header()
		hdr["Content-Type"] = []string{"application/json"}
		hdr["Content-Length"] = []string{size}
		_, _ = w.Write(b)
	})
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 10 * time.Minute}
	go func() { errc <- srv.ListenAndServe() }()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
