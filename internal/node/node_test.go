package node

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func parse(t *testing.T, s string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

// TestIntReadsYAML11: integers read as Kubernetes' YAML reader reads them.
func TestIntReadsYAML11(t *testing.T) {
	for in, want := range map[string]int{"30": 30, "030": 24, "0x1f": 31, "0b11": 3, "1_000": 1000, "1:30": 90, "-5": -5, "+7": 7, "0": 0} {
		got, ok := Int(Get(parse(t, "v: "+in), "v"))
		if !ok || got != want {
			t.Errorf("%s: got %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{`"30"`, "0o17", "3.0", "09", "thirty", "99999999999999"} {
		if got, ok := Int(Get(parse(t, "v: "+in), "v")); ok {
			t.Errorf("%s: read as %d", in, got)
		}
	}
}

// TestBoolReadsYAML11: booleans read as Kubernetes' YAML reader reads them.
func TestBoolReadsYAML11(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "True": true, "yes": true, "on": true, "ON": true, "y": true, "false": false, "no": false, "Off": false, "n": false, "!!bool true": true} {
		got, ok := Bool(Get(parse(t, "v: "+in), "v"))
		if !ok || got != want {
			t.Errorf("%s: got %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{`"true"`, "'yes'", "1", "enabled", "!!str true", ""} {
		if got, ok := Bool(Get(parse(t, "v: "+in), "v")); ok {
			t.Errorf("%s: read as %v", in, got)
		}
	}
}

// TestGetFollowsAliasesAndMerges: a value through an alias or a merge key is
// the user's; the mapping's own keys win over merged ones.
func TestGetFollowsAliasesAndMerges(t *testing.T) {
	m := parse(t, "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\ny: *b\n")
	x := Get(m, "x")
	if Str(Get(x, "a")) != "1" || Str(Get(x, "b")) != "3" || Str(Get(Get(m, "y"), "a")) != "1" {
		t.Errorf("x.a %q x.b %q y.a %q", Str(Get(x, "a")), Str(Get(x, "b")), Str(Get(Get(m, "y"), "a")))
	}
	if l := Labels(x); l["a"] != "1" || l["b"] != "3" {
		t.Errorf("labels %v", l)
	}
	if Duplicate(parse(t, "a: 1\nb: 2\na: 3\n")) != "a" || Duplicate(parse(t, "a: 1\nb: 2\na: 3\n"), "b") != "" {
		t.Error("duplicates")
	}
}

// TestBoundedOnAliasBombs: Equal and Get with merges do not expand aliases.
func TestBoundedOnAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [" + strings.Repeat("*a"+itoa(i-1)+", ", 9) + "x]\n")
	}
	b.WriteString("m0: &m0 {k: v}\n")
	for i := 1; i < 30; i++ {
		b.WriteString("m" + itoa(i) + ": &m" + itoa(i) + " {<<: [*m" + itoa(i-1) + ", *m" + itoa(i-1) + "]}\n")
	}
	start := time.Now()
	a, c := parse(t, b.String()), parse(t, b.String())
	if !Equal(a, c) {
		t.Error("a tree differs from itself")
	}
	if Get(Get(a, "m29"), "missing") != nil || Str(Get(Get(a, "m29"), "k")) != "v" {
		t.Error("merge chain")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
