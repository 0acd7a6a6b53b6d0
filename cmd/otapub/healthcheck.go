package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// healthcheckCommand probes a running server's /healthz: the Docker image's
// HEALTHCHECK, which has no shell or curl to do it.
func healthcheckCommand() *cli.Command {
	var url string
	var timeout time.Duration
	return &cli.Command{
		Name:  "healthcheck",
		Usage: "exit 0 when the local otapub serve answers /healthz, 1 otherwise (for container health checks)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "the `URL` to probe (default: http://127.0.0.1:$PORT$OTAPUB_BASE_PATH/healthz, from OTAPUB_LISTEN or PORT)", Destination: &url},
			&cli.DurationFlag{Name: "timeout", Value: 3 * time.Second, Usage: "give up after this long", Destination: &timeout},
		},
		Action: func(c *cli.Context) error {
			if url == "" {
				url = localHealthURL()
			}
			ctx, cancel := context.WithTimeout(c.Context, timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return usageError{fmt.Errorf("--url: %w", err)}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("unhealthy: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("unhealthy: %s answered %s", url, resp.Status)
			}
			fmt.Fprintln(c.App.Writer, "healthy")
			return nil
		},
	}
}

// localHealthURL is where the serve command of the same container listens.
func localHealthURL() string {
	port := "8080"
	if p := os.Getenv("PORT"); p != "" {
		port = p
	}
	if l := os.Getenv("OTAPUB_LISTEN"); l != "" {
		if _, p, err := net.SplitHostPort(l); err == nil {
			port = p
		}
	}
	base := strings.TrimRight(os.Getenv("OTAPUB_BASE_PATH"), "/")
	if base != "" && !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	return "http://127.0.0.1:" + port + base + "/healthz"
}
