package promises

import "testing"

// TestCheckCatchesCorruption: outputs that the old line-based patcher wrote
// (a hook inside a script, a null turned into a string, a value changed
// through an alias) are each caught.
func TestCheckCatchesCorruption(t *testing.T) {
	for name, c := range map[string]struct{ in, out string }{
		"script line became a comment": {
			"c:\n- name: a\n  args:\n  - |\n    run\n    # last\n",
			"c:\n- name: a\n  args:\n  - |\n    run\n  lifecycle: {}\n    # last\n",
		},
		"null became a string": {"a: {b: }\n", "a: {b: ''}\nc: 1\n"},
		"edit through an alias": {
			"x: &e [1]\ny: *e\n",
			"x: &e [1, 2]\ny: *e\n",
		},
		"quoted value took a line": {
			"a:\n  w: \"x\n    y\"\n",
			"a:\n  w: \"x\n  z: 1\n    y\"\n",
		},
	} {
		if err := Check([]byte(c.in), []byte(c.out)); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
	if err := Check([]byte("a: {b: }\n"), []byte("a: {b: null, terminationGracePeriodSeconds: 1}\n")); err != nil {
		t.Errorf("an added key: %v", err)
	}
}

// TestCheckAddedBudgets: render --pdb may add a marked PodDisruptionBudget
// after a document, and nothing else.
func TestCheckAddedBudgets(t *testing.T) {
	in := "kind: Deployment\nmetadata: {name: web}\n"
	pdb := "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web-graceful\n  annotations:\n    graceful.dev/pdb-for: Deployment/web\n"
	if err := Check([]byte(in), []byte(in+pdb)); err != nil {
		t.Errorf("an added budget: %v", err)
	}
	if err := Check([]byte(in[:len(in)-1]), []byte(in+pdb)); err != nil {
		t.Errorf("an added budget after a document without a final line end: %v", err)
	}
	for name, out := range map[string]string{
		"unmarked":   in + "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web-graceful}\n",
		"not a PDB":  in + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    graceful.dev/pdb-for: Deployment/web\n",
		"before all": pdb[4:] + "---\n" + in,
	} {
		if err := Check([]byte(in), []byte(out)); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}
