package proxy_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestMain lets more of the package's tests run at once than go test's
// default of GOMAXPROCS, unless -parallel says otherwise: most of them
// wait on sockets and connection timeouts (timeouts_test.go) rather than
// use the CPU, so two at a time left the CPU idle for most of the run.
// The timeout tests assert lower bounds (cut no earlier than the timeout),
// which a busier CPU cannot break.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0)))
	}
	os.Exit(m.Run())
}
