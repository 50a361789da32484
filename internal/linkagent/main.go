package linkagent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exit codes of Main.
const (
	ExitOK      = 0 // stopped by a signal
	ExitRefused = 1 // gatehouse refused the token, or a configuration problem
	ExitUsage   = 2 // bad command line
)

// TokenEnv is the environment variable Main reads the token from when --token and
// --token-file are absent.
const TokenEnv = "GATEHOUSE_AGENT_TOKEN"

// Main is `gatehouse link-agent`: args are the arguments after the subcommand. It runs
// until SIGINT or SIGTERM (exit 0), or until gatehouse refuses the token (exit 1, with a
// message on stderr, and no retrying).
//
//	gatehouse link-agent --join HOST:PORT --token T --ca CA.pem [--server-name NAME]
//	    [--name NAME] [--allow CIDR,...] [--connections N] [--metrics-listen ADDR]
//	    [--log-level LEVEL]
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("link-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		join       = fs.String("join", "", "gatehouse's tunnel listener, HOST:PORT (required)")
		token      = fs.String("token", "", "agent token (or --token-file, or $"+TokenEnv+")")
		tokenFile  = fs.String("token-file", "", "file holding the agent token")
		caFile     = fs.String("ca", "", "gatehouse's CA certificate, PEM (required)")
		serverName = fs.String("server-name", "", "name on gatehouse's tunnel certificate (default: the join host)")
		name       = fs.String("name", "", "agent name in gatehouse's metrics (default: host name)")
		allow      = fs.String("allow", "", "comma-separated CIDR blocks the agent may reach (default: the whole VPC)")
		metrics    = fs.String("metrics-listen", "", "serve Prometheus metrics at http://ADDR/metrics")
		conns      = fs.Int("connections", 4, "tunnel connections to keep to gatehouse")
		logLevel   = fs.String("log-level", "info", "debug, info, warn or error")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gatehouse link-agent --join HOST:PORT --token TOKEN --ca CA.pem [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "link-agent: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "link-agent: --log-level: %v\n", err)
		return ExitUsage
	}
	tok := *token
	if tok == "" && *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "link-agent: --token-file: %v\n", err)
			return ExitUsage
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		tok = os.Getenv(TokenEnv)
	}
	switch {
	case *join == "":
		fmt.Fprintln(stderr, "link-agent: --join is required")
		return ExitUsage
	case *caFile == "":
		fmt.Fprintln(stderr, "link-agent: --ca is required")
		return ExitUsage
	case tok == "":
		fmt.Fprintln(stderr, "link-agent: a token is required (--token, --token-file or $"+TokenEnv+")")
		return ExitUsage
	}
	var allowList []netip.Prefix
	for s := range strings.SplitSeq(*allow, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			fmt.Fprintf(stderr, "link-agent: --allow: %q is not a CIDR block\n", s)
			return ExitUsage
		}
		allowList = append(allowList, p.Masked())
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := prometheus.NewRegistry()
	if *metrics != "" {
		ln, err := net.Listen("tcp", *metrics)
		if err != nil {
			fmt.Fprintf(stderr, "link-agent: --metrics-listen: %v\n", err)
			return ExitUsage
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(stdout, "link-agent: metrics on http://%s/metrics\n", ln.Addr())
	}

	err := Run(ctx, Options{
		Join: *join, Token: tok, CAFile: *caFile, ServerName: *serverName, Name: *name,
		Allow: allowList, Logger: log, Registry: reg, Connections: *conns,
	})
	var refused *RefusedError
	var cfgErr *ConfigError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &refused):
		fmt.Fprintf(stderr, "link-agent: %v; not retrying\n", err)
		return ExitRefused
	case errors.As(err, &cfgErr):
		fmt.Fprintf(stderr, "link-agent: %v\n", err)
		return ExitRefused
	default:
		fmt.Fprintf(stderr, "link-agent: %v\n", err)
		return ExitRefused
	}
}
