package proxy

import (
	"errors"
	"strconv"
	"testing"
)

func TestParseCache(t *testing.T) {
	t.Parallel()
	var c parseCache[int]
	calls := 0
	parse := func(v int, err error) func() (int, error) {
		return func() (int, error) { calls++; return v, err }
	}
	if v, _ := c.get("a", parse(1, nil)); v != 1 {
		t.Fatalf("first get = %d", v)
	}
	if v, _ := c.get("a", parse(2, nil)); v != 1 || calls != 1 {
		t.Fatalf("second get = %d after %d parses, want the kept 1 after 1", v, calls)
	}
	boom := errors.New("boom")
	for range 2 {
		if _, err := c.get("bad", parse(0, boom)); !errors.Is(err, boom) {
			t.Fatalf("failing parse: %v", err)
		}
	}
	if calls != 3 {
		t.Fatalf("%d parses, want failures parsed every time (3)", calls)
	}
	c.get("", parse(5, nil))
	c.get("", parse(5, nil))
	if calls != 5 {
		t.Fatalf("%d parses, want the empty key parsed every time (5)", calls)
	}
	for i := range 2 * maxCached {
		c.get(strconv.Itoa(i), parse(i, nil))
	}
	if n := len(*c.m.Load()); n != maxCached {
		t.Fatalf("%d kept, want at most %d", n, maxCached)
	}
}

func TestQueryValues(t *testing.T) {
	keys := []string{"binary_version", "platform", "arch", "channel"}
	for raw, want := range map[string][4]string{
		"binary_version=1.2.0&platform=macos&arch=aarch64":             {"1.2.0", "macos", "aarch64", ""},
		"arch=x86_64&channel=beta&platform=linux&binary_version=2.0.0": {"2.0.0", "linux", "x86_64", "beta"},
		"platform=macos&platform=windows&binary_version=1.0.0%2Bbuild": {"1.0.0+build", "macos", "", ""},
		"platform=&platform=linux":                                     {"", "", "", ""},
		"channel=a+b&noise&=x&arch":                                    {"", "", "", "a b"},
		"":                                                             {},
	} {
		var got [4]string
		queryValues(raw, keys, got[:])
		if got != want {
			t.Errorf("queryValues(%q) = %q, want %q", raw, got, want)
		}
		for i, k := range keys {
			if v := queryValue(raw, k); v != want[i] {
				t.Errorf("queryValue(%q, %q) = %q, want %q (the first value, like queryValues)", raw, k, v, want[i])
			}
		}
	}
}
