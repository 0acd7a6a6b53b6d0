package squirrel

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PubDateLayout is the pub_date format Squirrel.Mac reads first:
// yyyy'-'MM'-'dd'T'HH':'mm':'ssZZZZZ (Squirrel/Squirrel.Mac
// Squirrel/SQRLUpdate.m, releaseDateJSONTransformer): RFC 3339 without
// fractional seconds. electron-builder's releaseDate
// ("2026-11-20T10:00:00.000Z") does not match it.
const PubDateLayout = "2006-01-02T15:04:05Z07:00"

// pubDateLegacyLayout is the second format SQRLUpdate.m tries,
// "EEE MMM dd HH:mm:ss Z yyyy" ("Central backwards compatibility").
const pubDateLegacyLayout = "Mon Jan 02 15:04:05 -0700 2006"

// PubDate formats t for Squirrel.Mac's pub_date: UTC, whole seconds,
// "2026-11-20T10:00:00Z".
func PubDate(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(PubDateLayout)
}

// ParsePubDate reads a pub_date as Squirrel.Mac does, in either of its two
// formats. Squirrel.Mac turns a date it cannot read into no date rather
// than an error; ParsePubDate says so, for a server to check what it sends.
func ParsePubDate(s string) (time.Time, error) {
	// Go's time.Parse takes fractional seconds the layout does not
	// mention; Squirrel.Mac's formatter does not.
	for _, layout := range []string{PubDateLayout, pubDateLegacyLayout} {
		if t, err := time.Parse(layout, s); err == nil && !strings.Contains(s, ".") {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("pub_date %q: Squirrel.Mac reads 2006-01-02T15:04:05Z07:00 (no fractional seconds) or \"Mon Jan 02 15:04:05 -0700 2006\", and drops anything else", s)
}

// MacUpdate is the JSON a Squirrel.Mac feed answers with 200 when there
// is an update (a 204 says there is none; Squirrel installs whatever it
// is given, even the version it runs). Squirrel.Mac reads url, name, notes
// and pub_date (SQRLUpdate.m JSONKeyPathsByPropertyKey).
type MacUpdate struct {
	URL     string `json:"url"`
	Name    string `json:"name,omitempty"`
	Notes   string `json:"notes,omitempty"`
	PubDate string `json:"pub_date,omitempty"`
}

// Validate checks u as SQRLUpdate.m does (validateUpdateURL: a scheme, a
// host unless file:, a path) and its pub_date as ParsePubDate does.
func (u MacUpdate) Validate() error {
	if u.URL == "" {
		return errors.New("Squirrel.Mac update: no url")
	}
	p, err := url.Parse(u.URL)
	if err != nil {
		return fmt.Errorf("Squirrel.Mac update url: %w", err)
	}
	if p.Scheme == "" || (p.Scheme != "file" && p.Host == "") || p.Path == "" {
		return fmt.Errorf("Squirrel.Mac update url %q: needs a scheme, a host and a path", u.URL)
	}
	if u.PubDate != "" {
		if _, err := ParsePubDate(u.PubDate); err != nil {
			return fmt.Errorf("Squirrel.Mac update: %w", err)
		}
	}
	return nil
}
