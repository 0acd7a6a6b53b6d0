package githubsrc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	const secret = "It's a Secret to Everybody"
	// GitHub's documented test vector.
	if got := sign(secret, "Hello, World!"); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Fatalf("HMAC of the docs' vector = %s", got)
	}
	body := `{"action":"published","release":{"tag_name":"v1.2.0"},"repository":{"full_name":"demo-org/demo-app"}}`
	header := func(sig string) http.Header {
		h := http.Header{}
		h.Set("X-GitHub-Event", "release")
		h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		if sig != "" {
			h.Set("X-Hub-Signature-256", sig)
		}
		return h
	}
	ev, err := ParseWebhook(header(sign(secret, body)), []byte(body), []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	want := WebhookEvent{Type: "release", Action: "published", Repo: Repo{"demo-org", "demo-app"}, Tag: "v1.2.0", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
	if ev != want {
		t.Errorf("ParseWebhook = %+v, want %+v", ev, want)
	}
	for name, h := range map[string]http.Header{
		"wrong secret": header(sign("other", body)),
		"no signature": header(""),
		"sha1 only":    func() http.Header { h := header(""); h.Set("X-Hub-Signature", "sha1=abc"); return h }(),
		"garbled":      header("sha256=zz"),
		"body changed": header(sign(secret, body+" ")),
	} {
		if _, err := ParseWebhook(h, []byte(body), []byte(secret)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: ParseWebhook = %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := ParseWebhook(header(sign("", body)), []byte(body), nil); err == nil || !strings.Contains(err.Error(), "--webhook-secret") {
		t.Errorf("no secret configured: %v", err)
	}
}
