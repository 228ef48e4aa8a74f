package apply

import (
	"errors"
	"fmt"

	"mcp.dev/mcp/internal/object"
)

// Sentinel errors; each is wrapped with the cluster or object it is about.
var (
	// ErrMassPrune: the reconcile would delete more than half of the
	// cluster's managed objects (and more than MassPruneMin). Nothing was
	// deleted; Options.AllowMassPrune permits it.
	ErrMassPrune = errors.New("mass prune refused")
	// ErrEmptyDesired: no object is desired but the inventory lists some.
	// An empty render is more often a mistake than an intent, so nothing
	// is pruned.
	ErrEmptyDesired = errors.New("no desired objects: refusing to prune the whole inventory")
	// ErrRender: the cluster's desired state did not render; the cluster
	// was not touched.
	ErrRender = errors.New("desired state did not render")
	// ErrUnhealthy: an applied object did not become healthy in time.
	ErrUnhealthy = errors.New("not healthy")
	// ErrUnknownKind: the cluster serves no such kind and no desired CRD
	// defines it.
	ErrUnknownKind = errors.New("kind not served by the cluster")
)

// MassPruneMin is the number of deletions the mass-prune guard always
// allows, so that small clusters can be emptied without the flag.
const MassPruneMin = 10

// ObjectError is the failure of one object: what was done to it, where it
// was declared and the API's message.
type ObjectError struct {
	Key object.Key
	// Source is where the object is declared, "" for pruned objects.
	Source string
	// Op is "plan", "apply", "delete" or "wait".
	Op  string
	Err error
}

func (e *ObjectError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s (%s): %s: %v", e.Key, e.Source, e.Op, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Key, e.Op, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }
