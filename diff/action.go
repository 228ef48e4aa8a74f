package diff

import "fmt"

// Action is what applying would do to one object.
type Action int

// The actions of a Change. The zero value is Unchanged, so that a Change
// built by hand claims nothing by accident.
const (
	Unchanged Action = iota
	Create
	Update
	Delete
	// Adopt: the object exists, but mcp never applied it (no managed-by
	// label, not in the inventory); applying takes it over. Its Fields
	// are what the apply changes, as for Update.
	Adopt
	// Keep: prune would delete the object, but does not, for the Reason
	// of the Change (a Namespace that holds objects mcp does not manage).
	// Nothing is written; it is not a change.
	Keep
	// Orphan: the object is no longer desired, but its Placement says
	// prune: false, so it stays on the cluster as it is and mcp stops
	// managing it (it leaves the inventory). Nothing is deleted, but what
	// mcp manages changes, so it counts as a change.
	Orphan
	// Replace: the server refuses to change the object in place (an
	// immutable field: a Job's template, a Service's clusterIP, a
	// Deployment's selector), so applying deletes it and creates it anew.
	// Its Fields are the refused fields, its Reason names them.
	Replace
)

var actionNames = [...]string{
	Unchanged: "unchanged",
	Create:    "create",
	Update:    "update",
	Delete:    "delete",
	Adopt:     "adopt",
	Keep:      "keep",
	Orphan:    "orphan",
	Replace:   "replace",
}

// IsChange reports whether applying changes anything for an object with
// action a: create, update, delete, adopt, orphan or replace.
func (a Action) IsChange() bool {
	return a == Create || a == Update || a == Delete || a == Adopt || a == Orphan || a == Replace
}

// String is the lower-case name used in text and JSON: "create", "update",
// "delete", "adopt", "keep", "orphan", "replace" or "unchanged".
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("Action(%d)", int(a))
	}
	return actionNames[a]
}

// MarshalText writes the action as its name, which is also its JSON form.
func (a Action) MarshalText() ([]byte, error) {
	if a < 0 || int(a) >= len(actionNames) {
		return nil, fmt.Errorf("unknown action %d", int(a))
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText reads a name written by MarshalText.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}
