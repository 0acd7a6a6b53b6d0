package main

import (
	"os"
	"strings"
	"testing"
)

// TestDockerfile keeps the image conventional: there is no Docker engine to
// build it here, so the properties it must have are checked in the file
// (and .ci/run runs the same build command and the binary as non-root).
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"FROM golang:1.26",                               // the go.mod toolchain
		"COPY go.mod go.sum ./\nRUN go mod download",     // a module layer before the sources
		"CGO_ENABLED=0 go build -trimpath",               // static, reproducible
		"-X main.buildVersion=${VERSION}",                // the version stamped in
		"FROM gcr.io/distroless/static-debian12:nonroot", // CA certificates, no shell
		"USER nonroot:nonroot",
		`HEALTHCHECK --interval=30s --timeout=5s --start-period=5s CMD ["/otapub", "healthcheck"]`, // exec form: no shell needed
		`ENTRYPOINT ["/otapub"]`,
		`CMD ["serve"]`,
		"EXPOSE 8080",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Index(df, "RUN go mod download") > strings.Index(df, "COPY . .") {
		t.Error("the module download must come before the sources are copied, to be cached")
	}
	if ignore, err := os.ReadFile("../../.dockerignore"); err != nil || !strings.Contains(string(ignore), ".git") || !strings.Contains(string(ignore), "node_modules") {
		t.Errorf(".dockerignore: %v %q", err, ignore)
	}
}
