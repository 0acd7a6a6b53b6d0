package taurisig

import (
	"encoding/base64"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

func TestSignWithTheTauriFixtureKey(t *testing.T) {
	t.Parallel()
	priv, err := ParsePrivateKey(string(read(t, "keys/test.key")), "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(string(read(t, "keys/test.key.pub")))
	if err != nil {
		t.Fatal(err)
	}
	if priv.ID() != pub.ID() {
		t.Fatalf("key IDs differ: %s %s", KeyID(priv.ID()), KeyID(pub.ID()))
	}
	path := filepath.Join(fixtures, "tauri-v2/v1.2.0/DemoApp_1.2.0_x64-setup.exe")
	sig, err := SignFile(priv, path, "v1.2.0", time.Unix(1795344485, 0))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(sig, "\n ") {
		t.Errorf(".sig has whitespace: %q", sig)
	}
	f, _ := os.Open(path)
	defer f.Close()
	s, err := Verify(pub, f, []byte(sig))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if s.Algorithm != minisign.HashEdDSA {
		t.Error("not a pre-hashed signature, which Tauri makes")
	}
	if want := "timestamp:1795344485\tfile:DemoApp_1.2.0_x64-setup.exe\tversion:1.2.0"; s.TrustedComment != want {
		t.Errorf("trusted comment %q, want %q", s.TrustedComment, want)
	}
	if s.UntrustedComment != "signature from tauri secret key" {
		t.Errorf("untrusted comment %q", s.UntrustedComment)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	for _, password := range []string{"", "correct horse"} {
		secret, public, err := GenerateKey(password)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ParsePrivateKey(secret, password)
		if err != nil {
			t.Fatalf("password %q: %v", password, err)
		}
		pub, err := ParsePublicKey(public)
		if err != nil || pub.ID() != priv.ID() {
			t.Fatalf("public key %v, IDs %x %x", err, pub.ID(), priv.ID())
		}
		text, _ := base64.StdEncoding.DecodeString(secret)
		if !strings.HasPrefix(string(text), "untrusted comment: rsign encrypted secret key\n") || !minisign.IsEncrypted(text) {
			t.Errorf("secret key file is not what tauri signer writes:\n%s", text)
		}
		if password != "" {
			if _, err := ParsePrivateKey(secret, "wrong"); err == nil || !strings.Contains(err.Error(), "wrong password") {
				t.Errorf("wrong password: %v", err)
			}
			if _, err := ParsePrivateKey(secret, ""); err == nil || !strings.Contains(err.Error(), "TAURI_SIGNING_PRIVATE_KEY_PASSWORD") {
				t.Errorf("no password: %v", err)
			}
		}
	}
}

// TestOldEmptyPasswordKeys reads a key of the shape rust-minisign < 0.9
// wrote for an empty password: scrypt marker, plain key bytes.
func TestOldEmptyPasswordKeys(t *testing.T) {
	t.Parallel()
	pub, priv, _ := minisign.GenerateKey(nil)
	raw, _ := priv.MarshalText()
	b, _ := base64.StdEncoding.DecodeString(strings.SplitN(string(raw), "\n", 2)[1])
	binary.LittleEndian.PutUint16(b[2:], kdfScrypt)
	binary.LittleEndian.PutUint64(b[38:], scryptOps)
	binary.LittleEndian.PutUint64(b[46:], scryptMem)
	sum := blake2bSum(b[54:126])
	copy(b[126:], sum)
	old := base64.StdEncoding.EncodeToString([]byte("untrusted comment: rsign encrypted secret key\n" + base64.StdEncoding.EncodeToString(b) + "\n"))
	got, err := ParsePrivateKey(old, "")
	if err != nil || got.ID() != pub.ID() {
		t.Fatalf("ParsePrivateKey = %x, %v; want key %x", got.ID(), err, pub.ID())
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "nope", string(read(t, "keys/test.key.pub"))} {
		if _, err := ParsePrivateKey(bad, ""); err == nil {
			t.Errorf("ParsePrivateKey(%.20q) accepted", bad)
		}
	}
}

// TestSignaturesVerifyWithMinisign checks otapub's signatures with the
// minisign tool (Debian package minisign), as a third party would.
func TestSignaturesVerifyWithMinisign(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("minisign is not installed: apt-get install minisign")
		}
		t.Skip("minisign is not installed: apt-get install minisign")
	}
	secret, public, err := GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(secret, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "DemoApp_1.2.0_amd64.AppImage")
	if err := os.WriteFile(file, read(t, "tauri-v2/v1.2.0/DemoApp_1.2.0_amd64.AppImage"), 0o644); err != nil {
		t.Fatal(err)
	}
	sig, err := SignFile(priv, file, "1.2.0", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	text, _ := base64.StdEncoding.DecodeString(sig)
	pubText, _ := base64.StdEncoding.DecodeString(public)
	if err := os.WriteFile(file+".minisig", text, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pub"), pubText, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-V", "-m", file, "-p", filepath.Join(dir, "key.pub")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature and comment signature verified") {
		t.Fatalf("minisign -V: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "version:1.2.0") {
		t.Errorf("minisign did not show the trusted comment:\n%s", out)
	}
}
