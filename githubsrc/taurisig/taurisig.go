// Package taurisig reads, checks and makes signatures in the format the
// Tauri and cargo-packager updaters verify: minisign, wrapped in base64.
//
// A Tauri ".sig" file is base64 (standard alphabet, padded) of the whole
// minisign signature text; a Tauri public key is base64 of the whole
// minisign public-key file. Both are decoded once here and then handled by
// aead.dev/minisign. Plain minisign text is accepted too, so keys and
// signatures made by the minisign tool work unchanged.
package taurisig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"aead.dev/minisign"
)

// Errors that say why a signature did not verify; match with errors.Is.
var (
	// ErrMalformed: the text is not a signature (not base64, truncated, garbled).
	ErrMalformed = errors.New("not a minisign signature")
	// ErrWrongKey: the signature was made by another key than the one given.
	ErrWrongKey = errors.New("signed by another key")
	// ErrMismatch: the signature does not cover these bytes.
	ErrMismatch = errors.New("signature does not match the file")
)

// KeyID formats a minisign key ID as minisign prints it: 16 upper-case hex digits.
func KeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// ParsePublicKey parses a public key as an app's tauri.conf.json holds it
// (plugins.updater.pubkey: base64 of the key file), or as minisign writes it
// (the two-line .pub file, or just its "RW..." line).
func ParsePublicKey(s string) (minisign.PublicKey, error) {
	text := []byte(strings.TrimSpace(s))
	if decoded, ok := unwrap(text); ok {
		text = decoded
	}
	var pub minisign.PublicKey
	if err := pub.UnmarshalText(text); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("invalid public key: want the base64 line from `tauri signer generate` (the app's plugins.updater.pubkey) or a minisign .pub file: %v", err)
	}
	return pub, nil
}

// EncodePublicKey returns pub in Tauri's form: base64 of the minisign
// public-key file, the value an app puts in plugins.updater.pubkey.
func EncodePublicKey(pub minisign.PublicKey) string {
	text, _ := pub.MarshalText() // "untrusted comment: minisign public key: ID\nRW..."
	// Tauri's key file ends in a newline; keep the encoding byte-identical.
	return base64.StdEncoding.EncodeToString(append(text, '\n'))
}

// Signature is a decoded ".sig".
type Signature struct {
	minisign.Signature
	// Text is the minisign signature text the .sig wraps.
	Text []byte
}

// ParseSignature decodes the contents of a .sig file: base64 of minisign
// text as Tauri writes it, or the minisign text itself.
func ParseSignature(sig []byte) (Signature, error) {
	text := bytes.TrimSpace(sig)
	if len(text) == 0 {
		return Signature{}, fmt.Errorf("%w: the .sig is empty", ErrMalformed)
	}
	if !bytes.HasPrefix(text, []byte("untrusted comment:")) {
		decoded, ok := unwrap(text)
		if !ok {
			return Signature{}, fmt.Errorf("%w: the .sig is neither base64 (as `tauri signer sign` writes it) nor minisign text", ErrMalformed)
		}
		text = decoded
	}
	var s Signature
	if err := s.Signature.UnmarshalText(text); err != nil {
		return Signature{}, fmt.Errorf("%w: the .sig decodes but is truncated or garbled (%v): sign the file again", ErrMalformed, err)
	}
	s.Text = text
	return s, nil
}

// unwrap base64-decodes text when it is base64 of minisign text.
func unwrap(text []byte) ([]byte, bool) {
	decoded, err := base64.StdEncoding.DecodeString(string(text))
	if err != nil || !bytes.HasPrefix(decoded, []byte("untrusted comment:")) {
		return nil, false
	}
	return decoded, true
}

// Field returns a field of the trusted comment, such as "file" or
// "version" in Tauri's "timestamp:1795344485\tfile:App.app.tar.gz\tversion:1.2.0".
// It is authentic only once Verify has passed.
func (s Signature) Field(name string) string {
	for _, f := range strings.Split(s.TrustedComment, "\t") {
		if v, ok := strings.CutPrefix(f, name+":"); ok {
			return v
		}
	}
	return ""
}

// MaxLegacySize bounds files checked against legacy (non-prehashed)
// signatures, which must be held in memory whole.
const MaxLegacySize = 256 << 20

// Verify reads r to the end and checks that sig (the .sig contents) is pub's
// signature of exactly those bytes. Pre-hashed signatures (what Tauri,
// cargo-packager and minisign make by default) are checked while streaming;
// legacy ones need the whole file in memory and are refused past
// MaxLegacySize. It returns the parsed signature, and an error wrapping
// ErrMalformed, ErrWrongKey or ErrMismatch.
func Verify(pub minisign.PublicKey, r io.Reader, sig []byte) (Signature, error) {
	s, err := ParseSignature(sig)
	if err != nil {
		return Signature{}, err
	}
	if s.KeyID != pub.ID() {
		return s, fmt.Errorf("%w: the signature is from key %s, the public key is %s: sign with the key whose public half the app ships, or fix --pubkey",
			ErrWrongKey, KeyID(s.KeyID), KeyID(pub.ID()))
	}
	var ok bool
	switch s.Algorithm {
	case minisign.HashEdDSA:
		mr := minisign.NewReader(r)
		if _, err := io.Copy(io.Discard, mr); err != nil {
			return s, fmt.Errorf("read the signed file: %w", err)
		}
		ok = mr.Verify(pub, s.Text)
	default:
		msg, err := io.ReadAll(io.LimitReader(r, MaxLegacySize+1))
		if err != nil {
			return s, fmt.Errorf("read the signed file: %w", err)
		}
		if len(msg) > MaxLegacySize {
			return s, fmt.Errorf("%w: a legacy (non-prehashed) signature of a file over %d MiB cannot be checked: sign again with minisign's default (pre-hashed), as Tauri does", ErrMalformed, MaxLegacySize>>20)
		}
		ok = minisign.Verify(pub, msg, s.Text)
	}
	if !ok {
		return s, fmt.Errorf("%w: the bytes differ from what was signed (changed after signing, or the .sig belongs to another file)", ErrMismatch)
	}
	return s, nil
}

// VersionMismatch reports, for a verified signature, whether its trusted
// comment binds it to another version than want. Newer Tauri updaters
// refuse such a payload ("version:1.1.0" on a 1.2.0 release), so a release
// must never carry one.
func (s Signature) VersionMismatch(want string) (signed string, mismatch bool) {
	signed = s.Field("version")
	if signed == "" {
		return "", false
	}
	return signed, strings.TrimPrefix(signed, "v") != strings.TrimPrefix(want, "v")
}

// Timestamp returns the trusted comment's "timestamp", or 0.
func (s Signature) Timestamp() int64 {
	n, _ := strconv.ParseInt(s.Field("timestamp"), 10, 64)
	return n
}
