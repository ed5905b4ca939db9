package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/graceful-dev/graceful/audit"
)

// TestCheckGolden runs every case in testdata/check/<case>/ through the real
// command, from the case's folder:
//
//	input.yaml   the manifests, read from stdin (or as the file input.yaml
//	             when args names it)
//	args         optional flags and paths, one per line
//	config.yaml  optional, passed as --config
//	expected.*   stdout: .txt, .json or .sarif by --output (.yaml for a ResourceList)
//	exit         the expected exit status: 0 clean, 1 findings, 2 no check (bad
//	             flag, config, path or manifest)
//	error.txt    the error: always for exit 2; for exit 1 when the file exists
//
// Every SARIF output is validated against the SARIF 2.1.0 schema, and every
// JSON output must parse. -update rewrites expected.* and exit.
func TestCheckGolden(t *testing.T) {
	inputs, err := filepath.Glob("../../testdata/check/*/input.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no check cases found: %v", err)
	}
	schema := sarifSchema(t)
	for _, in := range inputs {
		dir, err := filepath.Abs(filepath.Dir(in))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Chdir(dir)
			input := readFile(t, "input.yaml")
			args := caseArgs(".", "check")
			stdout, _, err := execute(input, args...)
			// Absolute paths (SARIF's SRCROOT, a file:// URI outside it) differ by checkout.
			stdout = strings.ReplaceAll(stdout, filepath.ToSlash(filepath.Dir(dir)), "/CHECKOUT/testdata/check")
			code := 0
			if err != nil {
				code = checkExitCode(err)
			}
			format := "txt"
			for i, a := range args {
				switch {
				case strings.HasPrefix(a, "--output="):
					format = strings.TrimPrefix(a, "--output=")
				case a == "--output" || a == "-o":
					format = args[i+1]
				}
			}
			if strings.Contains(input, "kind: ResourceList") {
				format = "yaml"
			}
			compareGolden(t, "expected."+format, stdout)
			compareGolden(t, "exit", strconv.Itoa(code)+"\n")
			if _, statErr := os.Stat("error.txt"); code == 2 || (code != 0 && statErr == nil) {
				compareGolden(t, "error.txt", err.Error()+"\n")
			}
			switch format {
			case "json":
				var v any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("not JSON: %v", err)
				}
			case "sarif":
				v, err := jsonschema.UnmarshalJSON(strings.NewReader(stdout))
				if err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				if err := schema.Validate(v); err != nil {
					t.Errorf("not valid SARIF 2.1.0: %v", err)
				}
			}
		})
	}
}

// sarifSchema is the official SARIF 2.1.0 JSON schema (vendored in audit/testdata).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs("../../audit/testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return s
}

// TestREADMECheckRules: the README's table of check codes is the rule
// catalog, and its severity is the most severe any finding of the code has
// in the check goldens and the corpus summary.
func TestREADMECheckRules(t *testing.T) {
	readme := readFile(t, "../../README.md")
	for _, r := range audit.Rules {
		row := "| " + r.Code + " | " + r.Short + " | " + string(r.Level) + " |"
		if !strings.Contains(readme, row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
	rank := map[string]int{"info": 1, "warning": 2, "error": 3}
	files, _ := filepath.Glob("../../testdata/check/*/expected.txt")
	files = append(files, "../../audit/testdata/corpus-summary.txt")
	finding := regexp.MustCompile(`(?m)^  (GS\d{3}) (info|warning|error) `)
	seen := 0
	for _, f := range files {
		for _, m := range finding.FindAllStringSubmatch(readFile(t, f), -1) {
			seen++
			r, ok := audit.RuleFor(m[1])
			if !ok {
				t.Errorf("%s: %s is no rule", f, m[1])
			} else if rank[m[2]] > rank[string(r.Level)] {
				t.Errorf("%s: a %s %s, but the README's table says %s", f, m[1], m[2], r.Level)
			}
		}
	}
	if seen < 20 {
		t.Errorf("only %d findings read from %v", seen, files)
	}
}
