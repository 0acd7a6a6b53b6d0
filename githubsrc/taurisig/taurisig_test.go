package taurisig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aead.dev/minisign"
)

const fixtures = "../../testdata/fixtures"

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pubkey(t *testing.T, path string) string {
	t.Helper()
	return string(read(t, path))
}

// TestVerifyTauriFixtures checks that every signature the real Tauri signer
// made verifies after base64 unwrapping, with its version binding intact.
func TestVerifyTauriFixtures(t *testing.T) {
	t.Parallel()
	pub, err := ParsePublicKey(pubkey(t, "keys/test.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for dir, version := range map[string]string{"tauri-v2/v1.2.0": "1.2.0", "tauri-v1/v1.1.0": ""} {
		sigs, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.sig"))
		if len(sigs) < 4 {
			t.Fatalf("%s: only %d signatures", dir, len(sigs))
		}
		for _, sigPath := range sigs {
			t.Run(filepath.Base(sigPath), func(t *testing.T) {
				sig, _ := os.ReadFile(sigPath)
				f, err := os.Open(strings.TrimSuffix(sigPath, ".sig"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				s, err := Verify(pub, f, sig)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got := s.Field("version"); got != version {
					t.Errorf("version field = %q, want %q", got, version)
				}
				if got := s.Field("file"); got != filepath.Base(strings.TrimSuffix(sigPath, ".sig")) {
					t.Errorf("file field = %q", got)
				}
				if s.Timestamp() == 0 {
					t.Error("no timestamp")
				}
			})
		}
	}
}

func TestVerifyMinisignFixtures(t *testing.T) {
	t.Parallel()
	payload := read(t, "signatures/payload.bin")
	tests := []struct {
		name, pub, sig string
	}{
		{"prehashed, base64", "signatures/minisign.pub.b64", "signatures/payload.bin.minisign-prehashed.sig"},
		{"legacy, base64", "signatures/minisign.pub.b64", "signatures/payload.bin.minisign-legacy.sig"},
		{"prehashed, plain minisign files", "keys/minisign.pub", "signatures/payload.bin.minisig"},
		{"legacy, plain minisign files", "keys/minisign.pub", "signatures/payload.bin.legacy.minisig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicKey(pubkey(t, tt.pub))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(pub, bytes.NewReader(payload), read(t, tt.sig)); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	tauri, err := ParsePublicKey(pubkey(t, "keys/test.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := ParsePublicKey(pubkey(t, "keys/other.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	mini, err := ParsePublicKey(pubkey(t, "signatures/minisign.pub.b64"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		pub      any
		want     error
		wantText string
	}{
		{"signed by the other key", "signed-by-other.bin", tauri, ErrWrongKey, "the signature is from key"},
		{"tampered after signing", "tampered.bin", tauri, ErrMismatch, "the bytes differ from what was signed"},
		{"truncated signature", "truncated.bin", mini, ErrMalformed, "truncated or garbled"},
		{"not base64", "not-base64.bin", mini, ErrMalformed, "neither base64"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := tauri
			if tt.pub != nil {
				pub = tt.pub.(minisign.PublicKey)
			}
			_, err := Verify(pub, bytes.NewReader(read(t, "signatures/"+tt.file)), read(t, "signatures/"+tt.file+".sig"))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("Verify = %v, want %v containing %q", err, tt.want, tt.wantText)
			}
			if seen[err.Error()] {
				t.Errorf("error %q is not distinct", err)
			}
			seen[err.Error()] = true
		})
	}
	t.Run("a real Tauri signature against the other key", func(t *testing.T) {
		_, err := Verify(other, bytes.NewReader(read(t, "tauri-v2/v1.2.0/DemoApp_x64.app.tar.gz")), read(t, "tauri-v2/v1.2.0/DemoApp_x64.app.tar.gz.sig"))
		if !errors.Is(err, ErrWrongKey) {
			t.Fatalf("Verify = %v, want ErrWrongKey", err)
		}
	})
	t.Run("the right signature for another file", func(t *testing.T) {
		_, err := Verify(tauri, bytes.NewReader(read(t, "tauri-v2/v1.2.0/DemoApp_aarch64.app.tar.gz")), read(t, "tauri-v2/v1.2.0/DemoApp_x64.app.tar.gz.sig"))
		if !errors.Is(err, ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch", err)
		}
	})
	t.Run("empty signature", func(t *testing.T) {
		if _, err := Verify(tauri, bytes.NewReader(nil), []byte("\n")); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Verify = %v, want ErrMalformed", err)
		}
	})
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	b64 := strings.TrimSpace(pubkey(t, "keys/test.key.pub"))
	pub, err := ParsePublicKey(b64)
	if err != nil {
		t.Fatal(err)
	}
	if got := KeyID(pub.ID()); got != "28D2E110C909E9B7" {
		t.Errorf("key ID = %s, want 28D2E110C909E9B7 (the ID in the key file's comment)", got)
	}
	if got := EncodePublicKey(pub); got != b64 {
		t.Errorf("EncodePublicKey = %q, want the Tauri file's %q", got, b64)
	}
	for _, bad := range []string{"", "not a key", "dW50cnVzdGVkIGNvbW1lbnQ6IHg=", strings.TrimSpace(string(read(t, "keys/test.key")))} {
		if _, err := ParsePublicKey(bad); err == nil || !strings.Contains(err.Error(), "invalid public key") {
			t.Errorf("ParsePublicKey(%.20q) = %v, want an invalid-public-key error", bad, err)
		}
	}
}

func TestVersionMismatch(t *testing.T) {
	t.Parallel()
	s := Signature{}
	s.TrustedComment = "timestamp:1795344485\tfile:DemoApp_x64.app.tar.gz\tversion:1.2.0"
	if v, bad := s.VersionMismatch("v1.2.0"); bad || v != "1.2.0" {
		t.Errorf("VersionMismatch(v1.2.0) = %q, %v", v, bad)
	}
	if v, bad := s.VersionMismatch("1.3.0"); !bad || v != "1.2.0" {
		t.Errorf("VersionMismatch(1.3.0) = %q, %v", v, bad)
	}
	s.TrustedComment = "timestamp:1\tfile:x"
	if _, bad := s.VersionMismatch("1.3.0"); bad {
		t.Error("a signature without a version binding cannot mismatch")
	}
}
