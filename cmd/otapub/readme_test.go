package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryFlag keeps the README's reference true: every
// flag of every command must be named there.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	app := newApp(io.Discard, io.Discard)
	check := func(where string, names []string) {
		for _, n := range names {
			if n == "help" || n == "h" || n == "version" || n == "v" || len(n) == 1 {
				continue
			}
			if !strings.Contains(string(readme), "`--"+n+"`") {
				t.Errorf("README.md does not document %s flag --%s", where, n)
			}
		}
	}
	for _, f := range app.Flags {
		check("the global", f.Names())
	}
	for _, c := range app.Commands {
		if !strings.Contains(string(readme), "otapub "+c.Name) {
			t.Errorf("README.md does not mention otapub %s", c.Name)
		}
		for _, f := range c.Flags {
			check("the "+c.Name, f.Names())
		}
	}
}
