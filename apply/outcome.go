package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"mcp.dev/mcp/diff"
)

// Status is the word a cluster's reconcile ends in (SPEC section 5).
type Status string

// The statuses a cluster can have.
const (
	// Synced: the cluster holds the desired state: every wave is applied
	// (whatever the health of the last one, which Result.Health says).
	Synced Status = "Synced"
	// Progressing: a wave waits for the objects of the waves before it
	// to become healthy; the reconcile is run again soon.
	Progressing Status = "Progressing"
	// Failed: the cluster answered, but the desired state could not be
	// rendered, planned or applied in full.
	Failed Status = "Failed"
	// Unreachable: the cluster did not answer, or not in time.
	Unreachable Status = "Unreachable"
	// Paused: the cluster is paused and holds the desired state.
	Paused Status = "Paused"
	// Drifted: a dry run or a paused cluster left a difference unapplied.
	Drifted Status = "Drifted"
)

// RenderError is a cluster whose desired state did not render; such a
// cluster is reported, never touched. It matches ErrRender.
type RenderError struct {
	Cluster string
	Err     error
}

func (e *RenderError) Error() string {
	return fmt.Sprintf("cluster %s: %v: %v", e.Cluster, ErrRender, e.Err)
}

func (e *RenderError) Unwrap() []error { return []error{ErrRender, e.Err} }

// Classify decides a cluster's status and the message that explains it
// from what its reconcile did. It is the only place that does: mcp apply,
// mcp diff and mcp run all report what it says. It reads r and nothing
// else, in this order:
//
//  1. the desired state did not render: Failed;
//  2. planned only (paused or dry run): Drifted when something would
//     change, Failed when objects cannot be applied, else Paused or Synced;
//     a tripped prune guard is added to the message;
//  3. an error of the cluster as a whole: Unreachable when the cluster did
//     not answer, else Failed;
//  4. objects failed: Unreachable when every failure says the cluster
//     stopped answering, else Failed (a wave not healthy within its
//     timeout says so, naming its objects);
//  5. a wave waits for the waves before it to be healthy: Progressing;
//  6. Synced;
//
// and a reconcile that ran out of time is Unreachable whatever the rest.
func Classify(r Result) (Status, string) {
	st, msg := classify(r)
	if r.TimedOut > 0 {
		// Whatever the last request said, the cluster did not answer in time.
		m := fmt.Sprintf("reconcile took longer than %s", r.TimedOut)
		if msg != "" {
			m += ": " + msg
		}
		return Unreachable, m
	}
	return st, msg
}

func classify(r Result) (Status, string) {
	var re *RenderError
	switch {
	case errors.As(r.Err, &re):
		return Failed, "render failed: " + re.Err.Error()
	case r.PlannedOnly():
		return classifyPlan(r)
	case r.Err != nil:
		if IsUnreachable(r.Err) {
			return Unreachable, r.Err.Error()
		}
		return Failed, r.Err.Error()
	case r.Failed > 0 && allUnreachable(r.Errors):
		// The cluster went away in the middle of the apply: it is not the
		// objects that failed, and the revision was not applied.
		return Unreachable, fmt.Sprintf("cluster stopped answering during the apply: %d of %d objects not applied: %v", r.Failed, r.Managed, r.Errors[0].Err)
	case r.Waiting != nil && r.Waiting.Expired:
		msg := r.Waiting.String()
		if n := r.Failed - len(r.Waiting.Objects); n > 0 {
			msg = fmt.Sprintf("%s; %d more objects failed", msg, n)
		}
		return Failed, msg
	case r.Failed > 0:
		return Failed, fmt.Sprintf("%d of %d objects failed", r.Failed, r.Managed)
	case r.Waiting != nil:
		return Progressing, r.Waiting.String()
	}
	return Synced, ""
}

// classifyPlan judges a plan that was not applied: what differs is drift.
func classifyPlan(r Result) (Status, string) {
	p := r.Plan
	st, msg := Synced, ""
	if r.Paused {
		st = Paused
	}
	if n := len(r.Drift()); n > 0 {
		st, msg = Drifted, fmt.Sprintf("%d objects differ from the desired state (not applied)", n)
	}
	if len(p.Errors) > 0 {
		st, msg = Failed, fmt.Sprintf("%d objects cannot be applied", len(p.Errors))
	}
	if p.PruneErr != nil {
		// A real apply would stop here: say so while only planning.
		msg = strings.TrimPrefix(msg+"; ", "; ") + p.PruneErr.Error()
	}
	return st, msg
}

// PlannedOnly: the cluster was planned and, paused or in a dry run, not
// written to.
func (r Result) PlannedOnly() bool {
	return r.Plan != nil && !r.Applied && (r.Paused || r.DryRun)
}

// Drift lists the changes a plan that was not applied left undone; kept
// objects are a decision of the plan, not drift. Nil when the plan was
// applied.
func (r Result) Drift() []diff.Change {
	if !r.PlannedOnly() {
		return nil
	}
	var drift []diff.Change
	for _, ch := range r.Plan.Changes.Changes {
		if ch.Action.IsChange() {
			drift = append(drift, ch)
		}
	}
	return drift
}

func allUnreachable(errs []*ObjectError) bool {
	for _, e := range errs {
		if !IsUnreachable(e.Err) {
			return false
		}
	}
	return len(errs) > 0
}

// IsUnreachable tells an error of a cluster that did not answer (refused,
// reset, no route, timed out, unavailable) from one it answered with.
func IsUnreachable(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		return true
	case apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err):
		return true
	}
	return false
}

// timeBound is the time ctx gives a reconcile started now; 0 when it has
// no deadline. Rounded as the caller most likely set it, for messages.
func timeBound(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	d := time.Until(dl)
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
