// Package rollout keeps a release's staged-rollout state on the GitHub
// release itself and decides which devices are in it.
//
// The state is one HTML comment line in the release notes:
//
//	<!-- otapub:rollout percent=12.5 -->
//	<!-- otapub:rollout percent=40 halted -->
//
// The notes are the one part of an immutable release that stays editable
// (with the title), GitHub's rendered notes drop HTML comments, and every
// answer otapub builds strips the line (Split), so apps never show it.
// Replicas read the same release and so agree without a shared store.
//
// A device is in a rollout when Bucket(app, tag, device) falls below the
// percentage: the same device gets the same answer on every check and
// every replica, and raising the percentage only ever adds devices.
package rollout

import (
	"fmt"
	"strconv"
	"strings"
)

// Scale is the number of buckets: a percentage is kept in millionths, so
// four decimals ("12.3456") are exact.
const Scale = 1_000_000

// State is a release's rollout. The zero State is "no rollout": every
// device gets the release.
type State struct {
	// Set says the notes carry a rollout line.
	Set bool
	// Share is the rolled-out part in millionths (0 to Scale).
	Share uint32
	// Halted offers the release to nobody, whatever Share says; resuming
	// keeps Share.
	Halted bool
}

// Full reports whether every device gets the release.
func (s State) Full() bool { return !s.Set || !s.Halted && s.Share >= Scale }

// Percent formats Share as a percentage without trailing zeros.
func (s State) Percent() string {
	return strconv.FormatFloat(float64(s.Share)/(Scale/100), 'f', -1, 64)
}

func (s State) String() string {
	switch {
	case !s.Set:
		return "no rollout: every device gets the release"
	case s.Halted:
		return fmt.Sprintf("halted at %s%%: offered to nobody", s.Percent())
	case s.Full():
		return "rolled out to 100% of devices"
	}
	return fmt.Sprintf("rolling out to %s%% of devices", s.Percent())
}

// ParsePercent reads "0" to "100", at most four decimals.
func ParsePercent(s string) (uint32, error) {
	whole, frac, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(s), "%"), ".")
	bad := fmt.Errorf("rollout percentage %q: want a number from 0 to 100, at most four decimals (12.5)", s)
	if whole == "" || len(frac) > 4 || !digits(whole) || !digits(frac) {
		return 0, bad
	}
	w, err := strconv.ParseUint(whole, 10, 32)
	if err != nil || w > 100 {
		return 0, bad
	}
	f := uint64(0)
	if frac != "" {
		f, _ = strconv.ParseUint(frac+strings.Repeat("0", 4-len(frac)), 10, 32)
	}
	share := w*Scale/100 + f
	if share > Scale {
		return 0, bad
	}
	return uint32(share), nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

const marker = "<!-- otapub:rollout "

// markerName is what makes an HTML comment a rollout line, after "<!--"
// and any spaces, in any case: a hand-edited line must not pass for
// ordinary notes (and so go to every device, and show in apps).
const markerName = "otapub:rollout"

// Split returns the state a release's notes carry and the notes without
// the rollout line, as apps are shown them. Every rollout line is taken
// out. A malformed line, one missing its "-->" (which then ends at the end
// of its line), or two lines that disagree count as a halt: an operator's
// typo must not widen a rollout to everyone.
func Split(notes string) (State, string) {
	var (
		st    State
		clean = notes[:0]
		rest  = notes
		bad   bool
	)
	for {
		i, body, next, closed := findLine(rest)
		if i < 0 {
			clean = joinNotes(clean, rest)
			break
		}
		clean = joinNotes(clean, strings.TrimRight(rest[:i], "\r\n"))
		rest = strings.TrimPrefix(strings.TrimPrefix(rest[next:], "\r"), "\n")
		line, err := parseLine(body)
		switch {
		case err != nil || !closed:
			bad = true
		case st.Set && line != st:
			bad = true
		default:
			st = line
		}
	}
	if bad {
		return State{Set: true, Halted: true}, clean
	}
	return st, clean
}

// findLine finds the first rollout line in s: where it starts, its body
// (between the name and "-->"), where what follows it starts, and whether
// it was closed; i is -1 when s has none.
func findLine(s string) (i int, body string, next int, closed bool) {
	for from := 0; ; {
		j := strings.Index(s[from:], "<!--")
		if j < 0 {
			return -1, "", 0, false
		}
		i = from + j
		after := strings.TrimLeft(s[i+len("<!--"):], " \t")
		if len(after) < len(markerName) || !strings.EqualFold(after[:len(markerName)], markerName) {
			from = i + len("<!--")
			continue
		}
		start := len(s) - len(after) + len(markerName)
		if end := strings.Index(s[start:], "-->"); end >= 0 {
			return i, s[start : start+end], start + end + len("-->"), true
		}
		end := strings.IndexAny(s[start:], "\r\n")
		if end < 0 {
			end = len(s) - start
		}
		return i, s[start : start+end], start + end, false
	}
}

// joinNotes puts b after a on a line of its own.
func joinNotes(a, b string) string {
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return a + "\n" + b
}

func parseLine(body string) (State, error) {
	st := State{Set: true}
	seen := false
	for _, f := range strings.Fields(body) {
		switch {
		case f == "halted":
			st.Halted = true
		case strings.HasPrefix(f, "percent="):
			share, err := ParsePercent(strings.TrimPrefix(f, "percent="))
			if err != nil {
				return State{}, err
			}
			st.Share, seen = share, true
		default:
			return State{}, fmt.Errorf("unknown rollout field %q", f)
		}
	}
	if !seen {
		return State{}, fmt.Errorf("rollout line without percent=")
	}
	return st, nil
}

// Join returns notes carrying st (and no other rollout line): the notes
// to write back to the release. The zero State removes the line.
func Join(notes string, st State) string {
	_, clean := Split(notes)
	if !st.Set {
		return clean
	}
	line := marker + "percent=" + st.Percent()
	if st.Halted {
		line += " halted"
	}
	line += " -->"
	if clean == "" {
		return line
	}
	return strings.TrimRight(clean, "\r\n") + "\n\n" + line
}

// Bucket places a device in [0, Scale) for one app's release: FNV-1a
// (64-bit) over app, tag and device, each followed by its length, so it is the same
// in every process and version of otapub. It does not allocate.
func Bucket(app, tag, device string) uint32 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [3]string{app, tag, device} {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
		for n := len(s); n > 0; n >>= 8 { // the length ends the field: ("ab","c") is not ("a","bc")
			h ^= uint64(n & 0xff)
			h *= prime
		}
		h ^= 0xff
		h *= prime
	}
	return uint32(h % Scale)
}

// Includes reports whether device gets the release under st.
func (s State) Includes(app, tag, device string) bool {
	switch {
	case !s.Set:
		return true
	case s.Halted:
		return false
	case s.Share >= Scale:
		return true
	}
	return Bucket(app, tag, device) < s.Share
}
