package proxy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/proxy"
)

// The connection timeouts over real sockets, shortened so the test is
// quick; the slack of the coarse deadlines (proxy/deadline.go) scales
// with them.
const (
	testReadTimeout  = 300 * time.Millisecond
	testWriteTimeout = 400 * time.Millisecond
	testIdleTimeout  = 600 * time.Millisecond
)

func serveWithTimeouts(t *testing.T) string {
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	base := serveReal(t, proxy.Config{
		APIURL: gh.APIURL, Apps: []proxy.AppConfig{{Repo: repo}},
		ReadTimeout: testReadTimeout, WriteTimeout: testWriteTimeout, IdleTimeout: testIdleTimeout,
	})
	// Read the releases before the test's own connection: a cold refresh
	// on a busy machine (-race, parallel tests) can take longer than the
	// shortened write timeout, which would cut the test's first request
	// rather than the timeout under test. A cut request still leaves the
	// refresh running, so ask until it answers.
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/windows/x86_64/1.0.0")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer a check within 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return strings.TrimPrefix(base, "http://")
}

// closedAfter reads from c until the server closes it and returns how long that took.
func closedAfter(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	begin := time.Now()
	_ = c.SetReadDeadline(begin.Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for 10s")
	}
	return time.Since(begin)
}

func TestSlowHeadersAreCut(t *testing.T) {
	t.Parallel()
	addr := serveWithTimeouts(t)
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: updates\r\n") // and never the blank line
	check(t, err)
	if d := closedAfter(t, c); d < testReadTimeout*7/8 {
		t.Fatalf("closed after %v, before the read timeout of %v", d, testReadTimeout)
	}
}

func TestIdleConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	addr := serveWithTimeouts(t)
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	roundTrip(t, c, br, "/windows/x86_64/1.0.0")
	begin := time.Now()
	_ = c.SetReadDeadline(begin.Add(10 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if d := time.Since(begin); d < testIdleTimeout*7/8 {
		t.Fatalf("idle connection closed after %v, before the idle timeout of %v", d, testIdleTimeout)
	}
}

// TestKeptAliveConnectionOutlivesTheTimeouts sends requests on one
// connection for longer than every timeout, with pauses shorter than
// them: no deadline left over from an earlier request may cut it.
func TestKeptAliveConnectionOutlivesTheTimeouts(t *testing.T) {
	t.Parallel()
	addr := serveWithTimeouts(t)
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	end := time.Now().Add(3 * testIdleTimeout)
	n := 0
	for time.Now().Before(end) {
		roundTrip(t, c, br, "/windows/x86_64/1.0.0")
		n++
		time.Sleep(testReadTimeout / 4)
	}
	roundTrip(t, c, br, "/latest.json")
	t.Logf("%d requests on one connection over %v", n+1, 3*testIdleTimeout)
}

// TestClientThatDoesNotReadIsCut pipelines requests for the largest
// answer and never reads: once the socket buffers are full the server's
// write blocks, and the write timeout must end it rather than hold the
// connection for ever.
func TestClientThatDoesNotReadIsCut(t *testing.T) {
	t.Parallel()
	addr := serveWithTimeouts(t)
	c, err := net.Dial("tcp", addr)
	check(t, err)
	defer c.Close()
	check(t, c.(*net.TCPConn).SetReadBuffer(4096))
	const requests = 6000 // of about 3 KiB each: well beyond loopback's buffers
	req := []byte("GET /latest.json HTTP/1.1\r\nHost: updates\r\n\r\n")
	_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	w := bufio.NewWriter(c)
	for range requests {
		if _, err := w.Write(req); err != nil {
			break
		}
	}
	_ = w.Flush()
	// The server's blocked write times out and it closes the connection,
	// unread requests and all: from then on, writing to it fails.
	for {
		if _, err := c.Write(req); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the connection was still open 20s later")
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the connection was still open 20s later")
	}
	if n := bytes.Count(got, []byte("HTTP/1.1 200 OK")); n >= requests {
		t.Fatalf("all %d answers were written to a client that did not read", n)
	}
}

func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, path string) {
	t.Helper()
	_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: updates\r\n\r\n")
	check(t, err)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || len(body) == 0 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("GET %s: %d with %d of %d bytes", path, resp.StatusCode, len(body), resp.ContentLength)
	}
}

// TestSlowAnswerOutlivesTheReadTimeout: a check that waits on a slow
// GitHub for longer than the read timeout still gets its answer; the read
// deadline must be off while the handler runs.
func TestSlowAnswerOutlivesTheReadTimeout(t *testing.T) {
	t.Parallel()
	gh := githubsrctest.NewServer(t)
	seedReleases(t, gh)
	gh.SetLatency(2 * testReadTimeout)
	base := serveReal(t, proxy.Config{
		APIURL: gh.APIURL, Apps: []proxy.AppConfig{{Repo: repo}}, ColdWait: 10 * time.Second,
		ReadTimeout: testReadTimeout, WriteTimeout: 10 * time.Second, IdleTimeout: testIdleTimeout,
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	check(t, err)
	defer c.Close()
	begin := time.Now()
	roundTrip(t, c, bufio.NewReader(c), "/windows/x86_64/1.0.0")
	if d := time.Since(begin); d < testReadTimeout {
		t.Fatalf("answered in %v: GitHub was not slow enough for this test", d)
	}
}
