package githubsrctest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"strings"
)

// TarGz returns a gzipped tar of files (name -> contents), in name order,
// as `tar -czf bundle.tar.gz -C dist .` makes a hot-swap bundle; a name
// ending in "/" is a folder.
func TarGz(files map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range sortedKeys(files) {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		_ = tw.WriteHeader(h) // writes to memory do not fail
		if h.Typeflag == tar.TypeReg {
			_, _ = tw.Write([]byte(files[name]))
		}
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

// Zip returns a zip of files (name -> contents), in name order.
func Zip(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(files[name]))
	}
	_ = zw.Close()
	return buf.Bytes()
}
