package apply

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// TestClassify: what a reconcile did → the cluster's status and message,
// in the style of kstatus's Compute examples: each row is one situation a
// cluster can end a reconcile in.
func TestClassify(t *testing.T) {
	cm := object.Key{Kind: "ConfigMap", Namespace: "web", Name: "web"}
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:1/api", Err: syscall.ECONNREFUSED}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "web", errors.New("no"))
	unavailable := apierrors.NewServiceUnavailable("etcd is down")
	objErr := func(err error) *ObjectError {
		return &ObjectError{Key: cm, Source: "apps/web/cm.yaml:1", Op: "apply", Err: err}
	}
	change := func(a diff.Action) diff.Change { return diff.Change{Key: cm, Action: a} }
	kept := diff.Change{Key: object.Key{Kind: "Namespace", Name: "old"}, Action: diff.Keep, Reason: "kept: 1 unmanaged object inside"}
	plan := func(changes ...diff.Change) *Plan {
		return &Plan{Changes: diff.ClusterPlan{Cluster: "eu", Changes: changes}}
	}
	guarded := plan(change(diff.Update))
	guarded.PruneErr = fmt.Errorf("cluster eu: %w", ErrMassPrune)
	refusedPlan := plan()
	refusedPlan.Errors = []*ObjectError{objErr(forbidden)}
	db := Unhealthy{Key: object.Key{Group: "apps", Kind: "Deployment", Namespace: "db", Name: "db"}, Status: "InProgress", Message: "Replicas: 0/1"}
	waiting := &Waiting{Gate: "wave 0", Next: "wave 1", Timeout: 5 * time.Minute, Objects: []Unhealthy{db}}
	expired := &Waiting{Gate: "wave 0", Next: "wave 1", Timeout: 5 * time.Minute, Expired: true, Objects: []Unhealthy{db}}
	timedOut := &ObjectError{Key: db.Key, Op: "wait", Err: ErrUnhealthy}

	tests := map[string]struct {
		in      Result
		status  Status
		message string
	}{
		"render failed": {
			in:     Result{Err: &RenderError{Cluster: "eu", Err: errors.New("apps/web/cm.yaml:3: mapping values are not allowed")}},
			status: Failed, message: "render failed: apps/web/cm.yaml:3: mapping values are not allowed",
		},
		"render failed, paused": {
			in:     Result{Paused: true, Err: &RenderError{Cluster: "eu", Err: errors.New("bad")}},
			status: Failed, message: "render failed: bad",
		},
		"connection refused": {
			in:     Result{Err: refused},
			status: Unreachable, message: `Get "https://127.0.0.1:1/api": connection refused`,
		},
		"apiserver unavailable": {
			in:     Result{Err: unavailable},
			status: Unreachable, message: "etcd is down",
		},
		"apiserver answered no": {
			in:     Result{Err: forbidden},
			status: Failed, message: forbidden.Error(),
		},
		"not allowed to reach": {
			in:     Result{Err: errors.New("clusters/mgmt.yaml:1: cluster mgmt: spec.inCluster: not allowed")},
			status: Failed, message: "clusters/mgmt.yaml:1: cluster mgmt: spec.inCluster: not allowed",
		},
		"applied, nothing to do": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Unchanged: 3, Managed: 3}},
			status: Synced,
		},
		"applied, changes made": {
			in:     Result{Plan: plan(change(diff.Create)), Applied: true, Counts: Counts{Created: 1, Managed: 4}},
			status: Synced,
		},
		"applied, an object refused": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Failed: 1, Managed: 3}, Errors: []*ObjectError{objErr(forbidden)}},
			status: Failed, message: "1 of 3 objects failed",
		},
		"applied, the cluster went away midway": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Failed: 2, Managed: 3}, Errors: []*ObjectError{objErr(refused), objErr(unavailable)}},
			status: Unreachable, message: `cluster stopped answering during the apply: 2 of 3 objects not applied: Get "https://127.0.0.1:1/api": connection refused`,
		},
		"applied, some unreachable, some refused": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Failed: 2, Managed: 3}, Errors: []*ObjectError{objErr(refused), objErr(forbidden)}},
			status: Failed, message: "2 of 3 objects failed",
		},
		"applied, prune guard tripped": {
			in:     Result{Plan: guarded, Applied: true, Counts: Counts{Updated: 1, Managed: 30}, Err: guarded.PruneErr},
			status: Failed, message: "cluster eu: mass prune refused",
		},
		"applied, a wave waits for the one before it": {
			in:     Result{Plan: plan(change(diff.Create)), Applied: true, Counts: Counts{Created: 1, Managed: 3}, Waiting: waiting},
			status: Progressing, message: "wave 1 waits for 1 objects of wave 0 to be healthy: apps/Deployment db/db: InProgress: Replicas: 0/1",
		},
		"applied, the last wave is not healthy": {
			in:     Result{Plan: plan(change(diff.Create)), Applied: true, Counts: Counts{Created: 1, Managed: 3}, Health: Health{State: HealthProgressing, Progressing: 1, Unhealthy: []Unhealthy{db}}},
			status: Synced,
		},
		"applied, an object failed while a wave waits": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Failed: 1, Managed: 3}, Errors: []*ObjectError{objErr(forbidden)}, Waiting: waiting},
			status: Failed, message: "1 of 3 objects failed",
		},
		"applied, a wave not healthy in time": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Failed: 1, Managed: 3}, Errors: []*ObjectError{timedOut}, Waiting: expired},
			status: Failed, message: "wave 0 not healthy after 5m0s (wave 1 not applied): apps/Deployment db/db: InProgress: Replicas: 0/1",
		},
		"applied, a wave not healthy in time and another object refused": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Failed: 2, Managed: 3}, Errors: []*ObjectError{timedOut, objErr(forbidden)}, Waiting: expired},
			status: Failed, message: "wave 0 not healthy after 5m0s (wave 1 not applied): apps/Deployment db/db: InProgress: Replicas: 0/1; 1 more objects failed",
		},
		"a wave waits, out of time": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Managed: 3}, Waiting: waiting, TimedOut: time.Minute},
			status: Unreachable, message: "reconcile took longer than 1m0s: wave 1 waits for 1 objects of wave 0 to be healthy: apps/Deployment db/db: InProgress: Replicas: 0/1",
		},
		"inventory not written": {
			in:     Result{Plan: plan(change(diff.Create)), Err: errors.New("cluster eu: inventory mcp-system/mcp-inventory: forbidden")},
			status: Failed, message: "cluster eu: inventory mcp-system/mcp-inventory: forbidden",
		},
		"dry run, nothing differs": {
			in:     Result{Plan: plan(), DryRun: true, Counts: Counts{Managed: 3}},
			status: Synced,
		},
		"dry run, an update would be made": {
			in:     Result{Plan: plan(change(diff.Update)), DryRun: true},
			status: Drifted, message: "1 objects differ from the desired state (not applied)",
		},
		"dry run, a namespace kept is no drift": {
			in:     Result{Plan: plan(kept), DryRun: true},
			status: Synced,
		},
		"dry run, an adoption is drift": {
			in:     Result{Plan: plan(kept, change(diff.Adopt)), DryRun: true},
			status: Drifted, message: "1 objects differ from the desired state (not applied)",
		},
		"dry run, an object would be refused": {
			in:     Result{Plan: refusedPlan, DryRun: true, Errors: refusedPlan.Errors},
			status: Failed, message: "1 objects cannot be applied",
		},
		"dry run, the prune guard would trip": {
			in:     Result{Plan: guarded, DryRun: true, Err: guarded.PruneErr},
			status: Drifted, message: "1 objects differ from the desired state (not applied); cluster eu: mass prune refused",
		},
		"paused, nothing differs": {
			in:     Result{Plan: plan(), Paused: true},
			status: Paused,
		},
		"paused, something differs": {
			in:     Result{Plan: plan(change(diff.Delete)), Paused: true},
			status: Drifted, message: "1 objects differ from the desired state (not applied)",
		},
		"paused, unreachable": {
			in:     Result{Paused: true, Err: refused},
			status: Unreachable, message: `Get "https://127.0.0.1:1/api": connection refused`,
		},
		"out of time while planning": {
			in:     Result{Err: fmt.Errorf("cluster eu: list configmaps: %w", context.DeadlineExceeded), TimedOut: 2 * time.Second},
			status: Unreachable, message: "reconcile took longer than 2s: cluster eu: list configmaps: context deadline exceeded",
		},
		"out of time, the apply looked fine": {
			in:     Result{Plan: plan(), Applied: true, Counts: Counts{Managed: 3}, TimedOut: 15 * time.Minute},
			status: Unreachable, message: "reconcile took longer than 15m0s",
		},
		"out of time in a dry run": {
			in:     Result{Plan: plan(change(diff.Update)), DryRun: true, TimedOut: time.Minute},
			status: Unreachable, message: "reconcile took longer than 1m0s: 1 objects differ from the desired state (not applied)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, message := Classify(tc.in)
			if status != tc.status || message != tc.message {
				t.Errorf("Classify = %s %q, want %s %q", status, message, tc.status, tc.message)
			}
		})
	}
}

// TestDriftListsChangesOfUnappliedPlansOnly: the objects a status lists
// as drifted are the changes a plan left undone, never those it made.
func TestDriftListsChangesOfUnappliedPlansOnly(t *testing.T) {
	cm := object.Key{Kind: "ConfigMap", Namespace: "web", Name: "web"}
	p := &Plan{Changes: diff.ClusterPlan{Changes: []diff.Change{
		{Key: cm, Action: diff.Update},
		{Key: object.Key{Kind: "Namespace", Name: "old"}, Action: diff.Keep},
		{Key: object.Key{Kind: "ConfigMap", Namespace: "web", Name: "same"}, Action: diff.Unchanged},
	}}}
	if d := (Result{Plan: p, DryRun: true}).Drift(); len(d) != 1 || d[0].Key != cm {
		t.Errorf("dry run: drift %v, want the update of %s only", d, cm)
	}
	if d := (Result{Plan: p, Applied: true}).Drift(); d != nil {
		t.Errorf("applied: drift %v, want none", d)
	}
}
