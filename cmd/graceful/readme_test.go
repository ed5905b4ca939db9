package main

import (
	"os"
	"strings"
	"testing"
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
