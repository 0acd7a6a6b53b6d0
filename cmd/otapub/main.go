// Command otapub publishes desktop-app releases to GitHub and serves them to
// updaters. See README.md for the commands; each file here wires one of
// them onto the publisher and proxy packages and holds no domain logic.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// run runs otapub with args and returns the exit status; tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := checkCommand(app, args)
	if err == nil {
		err = app.RunContext(ctx, normalizeArgs(app, args))
	}
	if err == nil {
		return 0
	}
	var done exitError
	if errors.As(err, &done) {
		return done.code // reported already
	}
	fmt.Fprintf(stderr, "otapub: %v\n", err)
	if hint := hintFor(err); hint != "" {
		fmt.Fprintf(stderr, "otapub: hint: %s\n", hint)
	}
	return exitCode(err)
}
