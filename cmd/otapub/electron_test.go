package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyElectronTable: verify of an electron-builder folder prints
// Electron's columns (no .sig, no signature), passes --require in the
// same platform keys as Tauri's, and names a missing blockmap in its cell
// and with its fix.
func TestVerifyElectronTable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "v1.2.0")
	copyTree(t, filepath.Join(testdata, "fixtures", "electron", "v1.2.0"), dir)
	offline := " --github-api-url http://127.0.0.1:1/api/v3/"
	code, stdout, stderr := otapub(t, "verify --dir "+dir+offline+" --require darwin-aarch64,darwin-x86_64,windows-x86_64,linux-x86_64,linux-aarch64")
	if code != 0 || !strings.Contains(stdout, "complete: ") {
		t.Fatalf("verify --dir of electron-builder's outputs: exit %d\n%s%s", code, stdout, stderr)
	}
	header := ""
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "PLATFORM") {
			header = strings.Join(strings.Fields(l), " ")
		}
	}
	if header != "PLATFORM CHANNEL FILE FILE SIZE SHA512 BLOCKMAP FILE TAKEN" {
		t.Errorf("table header %q, want Electron's columns\n%s", header, stdout)
	}
	if !strings.Contains(stdout, "darwin-aarch64") || !strings.Contains(stdout, "DemoApp-1.2.0-arm64-mac.zip") {
		t.Errorf("no darwin-aarch64 row taking the arm64 zip:\n%s", stdout)
	}

	if err := os.Remove(filepath.Join(dir, "DemoApp Setup 1.2.0.exe.blockmap")); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = otapub(t, "verify --dir "+dir+offline)
	var row string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "windows-x86_64") {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if code != 1 || row != "windows-x86_64 ok ok ok ok FAIL DemoApp-Setup-1.2.0.exe" ||
		!strings.Contains(stdout, "PROBLEM windows-x86_64: DemoApp-Setup-1.2.0.exe.blockmap is missing") {
		t.Errorf("a missing blockmap: exit %d, row %q\n%s", code, row, stdout)
	}
}
