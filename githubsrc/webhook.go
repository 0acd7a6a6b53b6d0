package githubsrc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"
)

// ErrBadSignature is returned for a webhook delivery whose
// X-Hub-Signature-256 does not match the secret.
var ErrBadSignature = errors.New("webhook signature does not match the secret")

// WebhookEvent is what otapub reads from a webhook delivery.
type WebhookEvent struct {
	Type       string // X-GitHub-Event: "release", "ping", ...
	Action     string // for releases: "published", "edited", "deleted", ...
	Repo       Repo
	Tag        string
	DeliveryID string
}

// ParseWebhook checks a delivery's X-Hub-Signature-256 (HMAC-SHA256 of the
// raw body, compared in constant time) and decodes it. Only SHA-256 counts:
// the legacy SHA-1 header is ignored, and an empty secret is refused rather
// than skipping the check.
func ParseWebhook(h http.Header, body, secret []byte) (WebhookEvent, error) {
	if len(secret) == 0 {
		return WebhookEvent{}, errors.New("no webhook secret is configured: set --webhook-secret")
	}
	sig := h.Get("X-Hub-Signature-256")
	if !strings.HasPrefix(sig, "sha256=") {
		return WebhookEvent{}, fmt.Errorf("missing X-Hub-Signature-256 header: %w", ErrBadSignature)
	}
	if err := github.ValidateSignature(sig, body, secret); err != nil {
		return WebhookEvent{}, ErrBadSignature
	}
	ev := WebhookEvent{Type: github.WebHookType(&http.Request{Header: h}), DeliveryID: h.Get("X-GitHub-Delivery")}
	var payload struct {
		Action     string `json:"action"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		Release struct {
			TagName string `json:"tag_name"`
		} `json:"release"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		return WebhookEvent{}, fmt.Errorf("webhook %s delivery %s: body is not JSON: %w", ev.Type, ev.DeliveryID, err)
	}
	ev.Action, ev.Tag = payload.Action, payload.Release.TagName
	if payload.Repository.FullName != "" {
		ev.Repo, _ = ParseRepo(payload.Repository.FullName)
	}
	return ev, nil
}
