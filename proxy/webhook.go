package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/otapub/ota-action/githubsrc"
)

// webhookWait is how long a webhook delivery waits for its refresh.
const webhookWait = 8 * time.Second

// webhookRecheck is when a webhook's app is refreshed again, in case
// GitHub listed the change late.
const webhookRecheck = 10 * time.Second

// maxWebhookBody bounds a webhook delivery; GitHub caps payloads at 25 MB
// but release events are a few KiB.
const maxWebhookBody = 1 << 20

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	if s.cfg.WebhookSecret == "" {
		s.writeError(w, r, http.StatusNotFound, "webhooks are off: start otapub serve with --webhook-secret")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, r, http.StatusRequestEntityTooLarge, "webhook body over 1 MiB")
			return
		}
		s.writeError(w, r, http.StatusBadRequest, "read webhook body: "+err.Error())
		return
	}
	ev, err := githubsrc.ParseWebhook(r.Header, body, []byte(s.cfg.WebhookSecret))
	switch {
	case errors.Is(err, githubsrc.ErrBadSignature):
		s.writeError(w, r, http.StatusUnauthorized, err.Error())
		return
	case err != nil:
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if ev.Type != "release" {
		w.WriteHeader(http.StatusNoContent) // ping and anything else: acknowledged
		return
	}
	apps := s.byRepo[strings.ToLower(ev.Repo.String())]
	if len(apps) == 0 {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("no app serves %s", ev.Repo))
		return
	}
	// Refresh every app of the repository now; GitHub gives a delivery ten
	// seconds, so answer 202 if the refresh takes longer and let it finish.
	done := make(chan error, len(apps))
	for _, a := range apps {
		// GitHub may list the change a moment after it sends the event:
		// refresh now, and again soon after.
		a.invalidate(s.cfg.Now())
		go func() {
			err := s.refreshNow(a)
			a.recheckAt(s.cfg.Now().Add(webhookRecheck))
			done <- err
		}()
	}
	timeout := time.NewTimer(webhookWait)
	defer timeout.Stop()
	for range apps {
		select {
		case err := <-done:
			if err != nil {
				s.fail(w, r, err)
				return
			}
		case <-timeout.C:
			s.log.Info("webhook refresh still running", "repo", ev.Repo.String(), "delivery", ev.DeliveryID)
			w.WriteHeader(http.StatusAccepted)
			return
		}
	}
	s.log.Info("webhook refreshed", "repo", ev.Repo.String(), "action", ev.Action, "tag", ev.Tag, "delivery", ev.DeliveryID)
	w.WriteHeader(http.StatusNoContent)
}
