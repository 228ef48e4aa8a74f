package diff

import "testing"

func TestFieldChangeTexts(t *testing.T) {
	tests := map[string]struct {
		fc       FieldChange
		old, new string
	}{
		"number":    {FieldChange{Path: "spec.replicas", Old: int64(2), New: int64(3)}, "2", "3"},
		"absent":    {FieldChange{Path: "data.b", New: "x"}, absentText, `"x"`},
		"html kept": {FieldChange{Path: "data.a", Old: "<b>", New: "a&b"}, `"<b>"`, `"a&b"`},
		// Old and New of a sensitive field are nil by contract; a value set
		// by mistake must still not be printed.
		"sensitive": {FieldChange{Path: "data.password", Old: "hunter2", Sensitive: true}, sensitiveText, sensitiveText},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			old, new := tc.fc.Texts()
			if old != tc.old || new != tc.new {
				t.Fatalf("Texts() = %q, %q; want %q, %q", old, new, tc.old, tc.new)
			}
		})
	}
}
