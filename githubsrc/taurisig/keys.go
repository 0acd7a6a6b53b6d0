package taurisig

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/scrypt"
)

// Key file layout (minisign): algorithm "Ed", KDF "Sc" (scrypt) or 0, checksum
// "B2", 32-byte salt, ops and mem limits, then key ID, secret key and
// checksum, XORed with the scrypt keystream when encrypted.
const (
	keySize   = 158
	kdfScrypt = 0x6353 // "Sc"
	// rust-minisign's limits (Tauri CLI, cargo-packager): scrypt N=2^15,
	// r=8, p=1, 32 MiB. aead.dev/minisign's EncryptKey uses libsodium's
	// "sensitive" limits instead: 1 GiB and eight seconds per key.
	scryptOps = 1 << 20
	scryptMem = 1 << 25
)

// GenerateKey makes a key pair as `tauri signer generate` does: the secret
// key file (base64 of the minisign secret-key text, encrypted with password,
// which may be empty) and the public key (base64, the value an app puts in
// plugins.updater.pubkey).
func GenerateKey(password string) (secretFile, publicKey string, err error) {
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	var salt [32]byte
	if _, err := io.ReadFull(rand.Reader, salt[:]); err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	raw, err := priv.MarshalText() // unencrypted layout; we encrypt it in place
	if err != nil {
		return "", "", err
	}
	b, err := base64.StdEncoding.DecodeString(string(bytes.TrimPrefix(raw, []byte("untrusted comment: minisign encrypted secret key\n"))))
	if err != nil || len(b) != keySize {
		return "", "", fmt.Errorf("generate key: unexpected key layout")
	}
	binary.LittleEndian.PutUint16(b[2:], kdfScrypt)
	copy(b[6:38], salt[:])
	binary.LittleEndian.PutUint64(b[38:], scryptOps)
	binary.LittleEndian.PutUint64(b[46:], scryptMem)
	// Checksum: BLAKE2b-256("Ed" || key ID || secret key), then encrypt.
	copy(b[126:158], blake2bSum(b[54:126]))
	stream, err := scrypt.Key([]byte(password), salt[:], 1<<15, 8, 1, 104)
	if err != nil {
		return "", "", err
	}
	for i, k := range stream {
		b[54+i] ^= k
	}
	text := "untrusted comment: rsign encrypted secret key\n" + base64.StdEncoding.EncodeToString(b) + "\n"
	return base64.StdEncoding.EncodeToString([]byte(text)), EncodePublicKey(pub), nil
}

// ParsePrivateKey reads a secret key as Tauri stores it (base64 of the
// minisign secret-key text, what TAURI_SIGNING_PRIVATE_KEY holds) or as
// minisign writes it, decrypting it with password.
//
// Keys made by rust-minisign before 0.9 with an empty password carry the
// scrypt marker but were never encrypted; those are read as they are.
func ParsePrivateKey(key, password string) (minisign.PrivateKey, error) {
	text := []byte(strings.TrimSpace(key))
	if decoded, err := base64.StdEncoding.DecodeString(string(text)); err == nil && bytes.HasPrefix(decoded, []byte("untrusted comment:")) {
		text = decoded
	}
	if !bytes.HasPrefix(text, []byte("untrusted comment:")) {
		return minisign.PrivateKey{}, errors.New("not a secret key: want the key file from `tauri signer generate` or `otapub keygen` (or its contents)")
	}
	if !minisign.IsEncrypted(text) {
		var k minisign.PrivateKey
		if err := k.UnmarshalText(text); err != nil {
			return k, fmt.Errorf("read secret key: %w", err)
		}
		return k, nil
	}
	k, err := minisign.DecryptKey(password, text)
	if err == nil {
		return k, nil
	}
	if password == "" {
		if k, ok := unencryptedWithMarker(text); ok {
			return k, nil
		}
		return k, errors.New("the secret key is encrypted: set TAURI_SIGNING_PRIVATE_KEY_PASSWORD")
	}
	return k, errors.New("wrong password for the secret key (TAURI_SIGNING_PRIVATE_KEY_PASSWORD)")
}

// unencryptedWithMarker reads an old rust-minisign empty-password key: the
// KDF field says scrypt but the key bytes are plain. Its checksum must hold.
func unencryptedWithMarker(text []byte) (minisign.PrivateKey, bool) {
	lines := strings.SplitN(strings.TrimSpace(string(text)), "\n", 2)
	if len(lines) != 2 {
		return minisign.PrivateKey{}, false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(b) != keySize {
		return minisign.PrivateKey{}, false
	}
	if !bytes.Equal(blake2bSum(b[54:126]), b[126:158]) {
		return minisign.PrivateKey{}, false
	}
	binary.LittleEndian.PutUint16(b[2:], 0) // no KDF
	var k minisign.PrivateKey
	err = k.UnmarshalText([]byte("untrusted comment: minisign secret key\n" + base64.StdEncoding.EncodeToString(b)))
	return k, err == nil
}

// SignFile signs the file at path as `tauri signer sign` does: a
// pre-hashed minisign signature whose trusted comment carries the
// timestamp, the file name and, when version is set, "version:" (newer
// Tauri updaters refuse a payload whose signed version differs from the
// one announced). It returns the .sig contents: base64, no newline.
func SignFile(priv minisign.PrivateKey, path, version string, now time.Time) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := minisign.NewReader(f)
	if _, err := io.Copy(io.Discard, r); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	trusted := "timestamp:" + strconv.FormatInt(now.Unix(), 10) + "\tfile:" + filepath.Base(path)
	if version != "" {
		trusted += "\tversion:" + strings.TrimPrefix(version, "v")
	}
	sig := r.SignWithComments(priv, trusted, "signature from tauri secret key")
	return base64.StdEncoding.EncodeToString(sig), nil
}

// blake2bSum is minisign's key checksum: BLAKE2b-256("Ed" || key ID || secret key).
func blake2bSum(keyIDAndSecret []byte) []byte {
	sum := blake2b.Sum256(append([]byte("Ed"), keyIDAndSecret...))
	return sum[:]
}
