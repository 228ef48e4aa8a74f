package apply

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// Applier diffs and applies desired objects to one cluster. It keeps the
// discovery cache between calls; use one Applier per cluster and call
// Plan and Apply from one goroutine at a time.
type Applier struct {
	cluster string
	c       *client
	opts    Options
	nsReady bool // the inventory namespace is known to exist
	watch   watchState
	// unhealthy is when each desired object was first seen unhealthy.
	unhealthy map[object.Key]time.Time
	// waitKey (see waitKey) is what the wait that began at waitSince is for.
	waitKey   string
	waitSince time.Time
}

// NewApplier connects to the cluster cfg points at (see RESTConfig); no
// request is made until Plan.
func NewApplier(cluster string, cfg *rest.Config, opts Options) (*Applier, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cluster, err)
	}
	return &Applier{cluster: cluster, c: c, opts: opts.withDefaults(), unhealthy: map[object.Key]time.Time{}}, nil
}

func (a *Applier) resource(it *item) dynamic.ResourceInterface {
	if it.namespaced {
		return a.c.dyn.Resource(it.gvr).Namespace(it.key.Namespace)
	}
	return a.c.dyn.Resource(it.gvr)
}

// Counts are what a reconcile did to a cluster's objects, by what
// happened to each. mcp apply prints them; the status file and GET
// /status carry them as their summary (SPEC sections 4 and 5), which
// has no Unchanged.
type Counts struct {
	// Managed is the number of objects in the inventory afterwards.
	Managed int `json:"managed" yaml:"managed"`
	Created int `json:"created" yaml:"created"`
	// Updated includes adopted and replaced objects.
	Updated int `json:"updated" yaml:"updated"`
	Deleted int `json:"deleted" yaml:"deleted"`
	// Unchanged includes objects whose hash was refreshed.
	Unchanged int `json:"-" yaml:"-"`
	Failed    int `json:"failed" yaml:"failed"`
}

// Changed reports whether an object was created, updated or deleted.
func (c Counts) Changed() bool { return c.Created != 0 || c.Updated != 0 || c.Deleted != 0 }

// Result is what one reconcile did to one cluster.
type Result struct {
	Cluster string
	// Status and Message are the outcome, as Classify decides it; set by
	// Reconcile, empty after Apply alone.
	Status  Status
	Message string
	// Plan is what was planned; nil when the plan could not be made.
	Plan *Plan
	// Counts are the objects by what happened to them.
	Counts
	// Errors are the objects that failed, each with its key and source.
	Errors []*ObjectError
	// Warnings are not failures: fields taken over from other managers.
	Warnings []string
	// Err is the failure of the cluster as a whole: unreachable, render
	// failed, inventory not written, a tripped prune guard.
	Err error
	// Applied is false when nothing was written: a dry run, a paused
	// cluster, or a cluster that could not be planned.
	Applied bool
	// Paused is set for a paused cluster: planned, never written.
	Paused bool
	// DryRun is set when the options said DryRun: planned, never written.
	DryRun bool
	// TimedOut is the time the reconcile had when it ran out of it.
	TimedOut time.Duration
	// Health is kstatus over the desired objects (SPEC section 5).
	Health Health
	// Waiting is set when a wave was not healthy yet and the waves after
	// it were not applied (the status is Progressing), or not healthy in
	// time (Failed).
	Waiting *Waiting
}

// Failures joins the cluster error and every object error; nil when the
// cluster was reconciled without problems.
func (r Result) Failures() error {
	errs := []error{r.Err}
	for _, e := range r.Errors {
		errs = append(errs, fmt.Errorf("cluster %s: %w", r.Cluster, e))
	}
	return errors.Join(errs...)
}

// DiffPlan is the plan as diff prints it, with the cluster error and the
// objects that could not be planned in its Err. A cluster that Classify
// found Unreachable says so first, as mcp apply and mcp run do.
func (r Result) DiffPlan() diff.ClusterPlan {
	cp := diff.ClusterPlan{Cluster: r.Cluster}
	if r.Plan != nil {
		cp = r.Plan.Changes
	}
	errs := []error{r.Err}
	if r.Status == Unreachable {
		errs[0] = &unreachableError{msg: r.Message, err: r.Err}
	}
	if r.Plan != nil {
		for _, e := range r.Plan.Errors {
			errs = append(errs, e)
		}
		if r.Err == nil && r.Plan.PruneErr != nil {
			errs = append(errs, r.Plan.PruneErr)
		}
	}
	cp.Err = errors.Join(errs...)
	return cp
}

// countPlan fills the counts of a result that wrote nothing from its plan.
func (r *Result) countPlan() {
	s := r.Plan.Changes.Summary()
	r.Errors = append(r.Errors, r.Plan.Errors...)
	r.Counts = Counts{Managed: r.Plan.Managed, Created: s.Create, Updated: s.Update + s.Adopt + s.Replace,
		Deleted: s.Delete, Unchanged: s.Unchanged, Failed: len(r.Errors)}
}

// unreachableError is the cluster error of a plan of an Unreachable
// cluster: the result word, then Classify's message.
type unreachableError struct {
	msg string
	err error
}

func (e *unreachableError) Error() string { return string(Unreachable) + ": " + e.msg }

func (e *unreachableError) Unwrap() error { return e.err }
