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
)

var actionNames = [...]string{
	Unchanged: "unchanged",
	Create:    "create",
	Update:    "update",
	Delete:    "delete",
}

// String is the lower-case name used in text and JSON: "create", "update",
// "delete" or "unchanged".
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
