package main

import (
	"os"
	"strings"
	"testing"

	"github.com/graceful-dev/graceful/profiles"
)

// TestREADMEProfiles: the README's profile table is the output of
// `graceful profiles`, so the docs follow the profile files.
func TestREADMEProfiles(t *testing.T) {
	table, _, err := execute("", "profiles")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```text\n"+table+"```") {
		t.Errorf("README.md's profile table is not the output of `graceful profiles`:\n%s", table)
	}
	sources, _, err := execute("", "profiles", "--sources")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```text\n"+sources+"```") {
		t.Errorf("README.md's source list is not the output of `graceful profiles --sources`:\n%s", sources)
	}
}

// TestArgoCDProfileParameter: the Argo CD plugin's profile parameter points
// to `graceful profiles` or names them all, never a stale subset.
func TestArgoCDProfileParameter(t *testing.T) {
	data, err := os.ReadFile("../../examples/argocd/plugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "title: graceful profile") || strings.Contains(line, "`graceful profiles`") {
			continue
		}
		for _, name := range profiles.Names() {
			if !strings.Contains(line, name) {
				t.Errorf("the profile parameter's title lacks %s and does not point to `graceful profiles`:\n%s", name, line)
			}
		}
	}
}

// TestREADMEProfileFile: the README's example ShutdownProfile loads.
func TestREADMEProfileFile(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, block := range strings.Split(string(readme), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.Contains(block, "kind: ShutdownProfile") {
			continue
		}
		found++
		if _, err := profiles.Parse([]byte(block)); err != nil {
			t.Errorf("README.md's ShutdownProfile does not load: %v\n%s", err, block)
		}
	}
	if found == 0 {
		t.Error("README.md shows no ShutdownProfile")
	}
}
