// Command gatehouse runs a self-hosted, AWS-compatible API Gateway for private APIs.
//
//	gatehouse serve [--config topology.yaml] [--data-dir DIR] [--nats-url URL]
//	gatehouse link-agent --join HOST:PORT --token T --ca CA.pem
//	gatehouse default-config      print the embedded default topology
//	gatehouse version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"syscall"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/linkagent"
)

const version = "0.1.0"

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC trades memory for CPU on the request path: a proxy's heap is mostly short-lived
// request garbage, so collecting less often saves a measurable share of CPU per request
// (bench/RESULTS.md). A soft memory limit keeps the resident size bounded. GOGC and
// GOMEMLIMIT in the environment override both.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(56 << 20)
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "link-agent":
		return linkagent.Main(args[1:], stdout, stderr)
	case "default-config":
		_, _ = stdout.Write(config.DefaultYAML())
		return 0
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "gatehouse", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  gatehouse serve [--config topology.yaml] [--data-dir DIR] [--nats-url URL] [--log-level LEVEL] [--pprof]
  gatehouse link-agent --join HOST:PORT --token T --ca CA.pem
                               run inside a private network: carry VPC-link traffic to it
  gatehouse default-config     print the embedded default topology (YAML)
  gatehouse version
`)
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "topology file (YAML); empty = the embedded default topology")
	dataDir := fs.String("data-dir", "./gatehouse-data", "directory for the store, the CA and access logs")
	natsURL := fs.String("nats-url", "", "use this external NATS server (JetStream) instead of the embedded one")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pprofOn := fs.Bool("pprof", false, "serve runtime profiles under /debug/pprof/ on the control-plane listener")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long in-flight requests may drain on SIGINT/SIGTERM")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "gatehouse: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	var topo *config.Topology
	if *cfgPath == "" {
		topo = config.Default()
	} else {
		t, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: invalid topology:\n%v\n", err)
			return 2
		}
		topo = t
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, app.Options{Topology: topo, DataDir: *dataDir, NATSURL: *natsURL, Logger: log, ShutdownGrace: *grace, Pprof: *pprofOn})
	if err != nil {
		var fe *config.FieldError
		if errors.As(err, &fe) {
			fmt.Fprintf(stderr, "gatehouse: invalid topology:\n%v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	if err := a.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	select {
	case <-a.Ready():
	case <-ctx.Done():
	}
	printBanner(stdout, topo, a, *cfgPath == "")
	<-ctx.Done()
	log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return 0
}

func printBanner(w io.Writer, t *config.Topology, a *app.App, isDefault bool) {
	ad := a.Addrs()
	fmt.Fprintf(w, "gatehouse %s ready (region %s)\n", version, t.Region)
	fmt.Fprintf(w, "  control plane   http://%s   (aws --endpoint-url http://%s ...)\n", ad.ControlPlane, ad.ControlPlane)
	fmt.Fprintf(w, "  public listener https://%s", ad.Public)
	if ad.PublicHTTP != "" {
		fmt.Fprintf(w, "  http://%s", ad.PublicHTTP)
	}
	fmt.Fprintln(w)
	ids := make([]string, 0, len(ad.Endpoints))
	for id := range ad.Endpoints {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		e, _ := t.Endpoint(id)
		for _, ea := range ad.Endpoints[id] {
			fmt.Fprintf(w, "  endpoint %s (%s, %s) https://%s", id, e.VPC, t.EndpointPublicDNSName(e), ea.TLS)
			if ea.HTTP != "" {
				fmt.Fprintf(w, "  http://%s", ea.HTTP)
			}
			fmt.Fprintf(w, "  ingress %v\n", e.Ingress)
		}
	}
	for _, l := range ad.DNS {
		fmt.Fprintf(w, "  dns %s %s  udp %s  tcp %s\n", l.Kind, l.ID, l.UDP, l.TCP)
	}
	if ad.Tunnel != "" {
		fmt.Fprintf(w, "  link-agent tunnel %s\n", ad.Tunnel)
	}
	fmt.Fprintf(w, "  CA certificate  %s\n", a.CAFile())
	for _, acct := range t.Accounts {
		for _, k := range acct.AccessKeys {
			if isDefault {
				fmt.Fprintf(w, "  account %s  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", acct.ID, k.ID, k.Secret)
			} else {
				fmt.Fprintf(w, "  account %s  access key %s\n", acct.ID, k.ID)
			}
		}
	}
}
