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
