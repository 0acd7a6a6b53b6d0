package publisher_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/otapub/ota-action/githubsrc/githubsrctest"
	"github.com/otapub/ota-action/publisher"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkHashVsSha256sum hashes one file (1 GiB unless
// OTAPUB_BENCH_HASH_MIB says otherwise) with otapub's streaming SHA-256
// and with coreutils' sha256sum, from a warm page cache, best of three,
// and prints both throughputs and their ratio (goal: ≥ 0.9).
//
//	go test ./publisher -run '^$' -bench HashVsSha256sum -benchtime 1x
func BenchmarkHashVsSha256sum(b *testing.B) {
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Skip("no sha256sum")
	}
	mib := envInt("OTAPUB_BENCH_HASH_MIB", 1024)
	path := filepath.Join(b.TempDir(), "payload.bin")
	f, err := os.Create(path)
	check(b, err)
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*7 + i>>8)
	}
	for range mib {
		_, err := f.Write(chunk)
		check(b, err)
	}
	check(b, f.Close())
	size := float64(mib) / 1024 // GiB
	var best [2]time.Duration
	for round := range 3 {
		start := time.Now()
		out, err := exec.Command(sha256sum, path).Output()
		if err != nil {
			b.Fatalf("sha256sum: %v", err)
		}
		theirs := time.Since(start)
		files := []publisher.File{{Path: path}}
		start = time.Now()
		check(b, publisher.Hash(context.Background(), files, 1))
		ours := time.Since(start)
		if string(out[:64]) != files[0].SHA256 {
			b.Fatalf("digests differ: %s vs %s", out[:64], files[0].SHA256)
		}
		if round == 0 || theirs < best[0] {
			best[0] = theirs
		}
		if round == 0 || ours < best[1] {
			best[1] = ours
		}
	}
	theirs, ours := size/best[0].Seconds(), size/best[1].Seconds()
	b.ReportMetric(ours, "otapub-GiB/s")
	b.ReportMetric(theirs, "sha256sum-GiB/s")
	b.ReportMetric(ours/theirs, "ratio")
	fmt.Printf("SHA-256 of %d MiB, best of 3: sha256sum %.2f GiB/s, otapub %.2f GiB/s, ratio %.2f\n", mib, theirs, ours, ours/theirs)
}

// BenchmarkUploadConcurrency uploads 12 files to a fake GitHub that takes
// 100 ms per request, with --concurrency 4 and 1, and prints both wall
// times and their ratio (goal: ≤ 0.35).
//
//	go test ./publisher -run '^$' -bench UploadConcurrency -benchtime 1x
func BenchmarkUploadConcurrency(b *testing.B) {
	dir := b.TempDir()
	for i := range 12 {
		data := make([]byte, 256<<10)
		data[0] = byte(i)
		check(b, os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d.bin", i)), data, 0o644))
	}
	p := plan(b, "v1.0.0", dir)
	run := func(concurrency int) (total, uploads time.Duration) {
		gh := githubsrctest.NewServer(b)
		gh.AddRepo(fullName, githubsrctest.RepoOptions{})
		gh.AddRelease(fullName, githubsrctest.ReleaseSpec{Tag: "v1.0.0", Draft: true})
		gh.SetLatency(100 * time.Millisecond)
		opts := uploadOpts()
		opts.Concurrency = concurrency
		var first, last time.Time
		opts.Progress = &timing{first: &first, last: &last}
		start := time.Now()
		_, err := publisher.Upload(context.Background(), client(b, gh), p, opts)
		check(b, err)
		return time.Since(start), last.Sub(first)
	}
	seq, seqUploads := run(1)
	par, parUploads := run(4)
	b.ReportMetric(par.Seconds()/seq.Seconds(), "ratio")
	b.ReportMetric(parUploads.Seconds()/seqUploads.Seconds(), "upload-phase-ratio")
	fmt.Printf("12 files (+ the run's manifest), 100 ms per request:\n  --concurrency 1: %v (uploads %v)\n  --concurrency 4: %v (uploads %v)\n  ratio %.2f, upload phase %.2f (the rest: one API call to find the draft)\n",
		seq.Round(time.Millisecond), seqUploads.Round(time.Millisecond), par.Round(time.Millisecond), parUploads.Round(time.Millisecond),
		par.Seconds()/seq.Seconds(), parUploads.Seconds()/seqUploads.Seconds())
}

// timing records when the first upload started and the last finished.
type timing struct{ first, last *time.Time }

// Start and Finish are called from the upload goroutines.
var timingMu sync.Mutex

func (t *timing) Start(string, int64) {
	timingMu.Lock()
	defer timingMu.Unlock()
	if t.first.IsZero() {
		*t.first = time.Now()
	}
}

func (t *timing) Advance(string, int64) {}

func (t *timing) Finish(string, publisher.Action, error) {
	timingMu.Lock()
	defer timingMu.Unlock()
	*t.last = time.Now()
}
