package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/otapub/ota-action/publisher"
)

// reporter writes what a publisher command did where its reader looks: a
// terminal, a CI log, GitHub Actions (annotations, the step summary and
// step outputs) or a script (--json).
type reporter struct {
	stdout, stderr io.Writer
	json           bool
	actions        bool   // running in GitHub Actions
	summaryPath    string // GITHUB_STEP_SUMMARY
	outputPath     string // GITHUB_OUTPUT
}

func newReporter(stdout, stderr io.Writer, asJSON bool) *reporter {
	return &reporter{
		stdout: stdout, stderr: stderr, json: asJSON,
		actions:     os.Getenv("GITHUB_ACTIONS") == "true",
		summaryPath: os.Getenv("GITHUB_STEP_SUMMARY"),
		outputPath:  os.Getenv("GITHUB_OUTPUT"),
	}
}

// isTerminal reports whether w is a terminal that can redraw progress bars.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" && os.Getenv("CI") == ""
}

func (r *reporter) printf(format string, args ...any) {
	if !r.json {
		fmt.Fprintf(r.stdout, format, args...)
	}
}

// group opens a collapsible log group in GitHub Actions.
func (r *reporter) group(title string) func() {
	if !r.actions || r.json {
		return func() {}
	}
	fmt.Fprintf(r.stdout, "::group::%s\n", title)
	return func() { fmt.Fprintln(r.stdout, "::endgroup::") }
}

// annotate marks a problem in GitHub Actions' summary of the run.
func (r *reporter) annotate(level, msg string) {
	if r.actions {
		// Workflow commands end at a newline; GitHub decodes %0A back.
		msg = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(msg)
		fmt.Fprintf(r.stderr, "::%s::%s\n", level, msg)
	}
}

// setOutputs writes step outputs (GITHUB_OUTPUT) for later workflow steps.
func (r *reporter) setOutputs(kv ...string) error {
	if r.outputPath == "" {
		return nil
	}
	f, err := os.OpenFile(r.outputPath, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write GITHUB_OUTPUT: %w", err)
	}
	defer f.Close()
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if strings.Contains(v, "\n") {
			fmt.Fprintf(f, "%s<<OTAPUB_EOF\n%s\nOTAPUB_EOF\n", kv[i], v)
		} else {
			fmt.Fprintf(f, "%s=%s\n", kv[i], v)
		}
	}
	return nil
}

// summary appends Markdown to the job's step summary (GITHUB_STEP_SUMMARY).
func (r *reporter) summary(markdown string) error {
	if r.summaryPath == "" {
		return nil
	}
	f, err := os.OpenFile(r.summaryPath, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write GITHUB_STEP_SUMMARY: %w", err)
	}
	defer f.Close()
	_, err = io.WriteString(f, markdown)
	return err
}

// writeJSON prints v for scripts (--json).
func (r *reporter) writeJSON(v any) error {
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newProgress shows uploads as bars on a terminal (one per file and a
// total) and as one line per finished file elsewhere.
func (r *reporter) newProgress() (publisher.Progress, func()) {
	if r.json {
		return nil, func() {}
	}
	if !isTerminal(r.stdout) {
		return &lineProgress{w: r.stdout, started: map[string]time.Time{}}, func() {}
	}
	p := mpb.New(mpb.WithOutput(r.stdout), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
	all := p.AddBar(0, mpb.BarPriority(1<<30),
		mpb.PrependDecorators(decor.Name("total", decor.WC{W: 34, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f"), decor.Name("  "), decor.AverageSpeed(decor.SizeB1024(0), "% .1f")))
	bp := &barProgress{p: p, total: all, bars: map[string]*mpb.Bar{}}
	return bp, func() {
		all.SetTotal(-1, true)
		p.Wait()
	}
}

// lineProgress prints a line per finished file: for CI logs.
type lineProgress struct {
	mu      sync.Mutex
	w       io.Writer
	started map[string]time.Time
}

func (l *lineProgress) Start(name string, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.started[name]; !ok {
		l.started[name] = time.Now()
	}
}

func (l *lineProgress) Advance(string, int64) {}

func (l *lineProgress) Finish(name string, action publisher.Action, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		fmt.Fprintf(l.w, "  failed   %s: %v\n", name, err)
	case action == publisher.ActionSkip:
		fmt.Fprintf(l.w, "  skipped  %s (already on the release)\n", name)
	case action == publisher.ActionKeep:
		fmt.Fprintf(l.w, "  kept     %s (already in the folder, checked)\n", name)
	default:
		fmt.Fprintf(l.w, "  %-8s %s (%s)\n", action+"ed", name, time.Since(l.started[name]).Round(time.Millisecond))
	}
}

// barProgress draws mpb bars.
type barProgress struct {
	mu        sync.Mutex
	p         *mpb.Progress
	total     *mpb.Bar
	totalSize int64
	bars      map[string]*mpb.Bar
}

func (b *barProgress) Start(name string, size int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bar, ok := b.bars[name]; ok { // a retry: start over
		b.total.IncrInt64(-bar.Current())
		bar.SetCurrent(0)
		return
	}
	b.totalSize += size
	b.total.SetTotal(b.totalSize, false)
	b.bars[name] = b.p.AddBar(size, mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(truncate(name, 32), decor.WC{W: 34, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5})))
}

func (b *barProgress) Advance(name string, n int64) {
	b.mu.Lock()
	bar := b.bars[name]
	b.mu.Unlock()
	if bar != nil {
		bar.IncrInt64(n)
		b.total.IncrInt64(n)
	}
}

func (b *barProgress) Finish(name string, action publisher.Action, err error) {
	b.mu.Lock()
	bar := b.bars[name]
	b.mu.Unlock()
	if bar != nil {
		bar.Abort(err == nil)
	}
	switch {
	case err != nil:
		fmt.Fprintf(b.p, "failed   %s: %v\n", name, err)
	case action == publisher.ActionKeep:
		fmt.Fprintf(b.p, "kept     %s\n", name)
	case action != publisher.ActionSkip:
		fmt.Fprintf(b.p, "%-8s %s\n", action+"ed", name)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
