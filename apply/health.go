package apply

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"mcp.dev/mcp/internal/object"
)

// HealthState is the health of a cluster's managed objects, the second
// dimension of its status beside the result (SPEC section 5).
type HealthState string

// The health states of a cluster.
const (
	// Healthy: every desired object is Current (kstatus); Jobs Complete.
	Healthy HealthState = "Healthy"
	// HealthProgressing: some objects are not Current yet, none failed.
	HealthProgressing HealthState = "Progressing"
	// Degraded: some object failed (kstatus Failed: a failed Job, a
	// Deployment past its progress deadline).
	Degraded HealthState = "Degraded"
)

// Health is kstatus over a cluster's desired objects, read from the live
// copies one reconcile holds: those its LISTs returned and those its
// applies answered with. It costs no request of its own.
type Health struct {
	// State is "" when no object was looked at (nothing planned).
	State HealthState
	// Counts of objects by health.
	Healthy, Progressing, Degraded int
	// Unhealthy are the objects that are not healthy, sorted by key.
	Unhealthy []Unhealthy
}

// Unhealthy is one object that is not healthy.
type Unhealthy struct {
	Key object.Key
	// Source is where the object is declared.
	Source string
	// Status is kstatus's word: InProgress, Failed, NotFound, Unknown,
	// Terminating.
	Status string
	// Message is kstatus's message.
	Message string
	// Since is when this Applier first saw the object unhealthy.
	Since time.Time
}

func (u Unhealthy) String() string {
	return fmt.Sprintf("%s: %s: %s", u.Key, u.Status, u.Message)
}

// verdict is the health of one object: kstatus's word and message.
type verdict struct {
	status  status.Status
	message string
}

// healthOf is kstatus's verdict on a live object, except for Jobs, which
// are healthy only once Complete: kstatus calls a running Job Current, but
// a Job is a step that the next wave waits for.
func healthOf(u *unstructured.Unstructured) verdict {
	if u == nil {
		return verdict{status.NotFoundStatus, "not on the cluster yet"}
	}
	if u.GroupVersionKind().Group == "batch" && u.GetKind() == "Job" {
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			switch {
			case m["status"] != "True":
			case m["type"] == "Complete":
				return verdict{status.CurrentStatus, "Job completed"}
			case m["type"] == "Failed":
				msg, _ := m["message"].(string)
				return verdict{status.FailedStatus, strings.TrimSpace("Job failed. " + msg)}
			}
		}
		if u.GetDeletionTimestamp() != nil {
			return verdict{status.TerminatingStatus, "Job is being deleted"}
		}
		return verdict{status.InProgressStatus, "Job not complete yet"}
	}
	res, err := status.Compute(u)
	if err != nil {
		return verdict{status.UnknownStatus, err.Error()}
	}
	return verdict{res.Status, res.Message}
}

// judge is the health of each of items as seen last, with since filled
// from (and recorded in) the Applier's memory.
func (a *Applier) judge(items []*item, seen func(*item) verdict, now time.Time) Health {
	h := Health{}
	for _, it := range items {
		v := seen(it)
		st, msg := v.status, v.message
		switch st {
		case status.CurrentStatus:
			h.Healthy++
			delete(a.unhealthy, it.key)
			continue
		case status.FailedStatus:
			h.Degraded++
		default:
			h.Progressing++
		}
		since, ok := a.unhealthy[it.key]
		if !ok {
			since = now
			a.unhealthy[it.key] = now
		}
		h.Unhealthy = append(h.Unhealthy, Unhealthy{Key: it.key, Source: it.src.Source, Status: st.String(), Message: msg, Since: since})
	}
	slices.SortFunc(h.Unhealthy, func(x, y Unhealthy) int { return object.Compare(x.Key, y.Key) })
	switch {
	case len(items) == 0:
	case h.Degraded > 0:
		h.State = Degraded
	case h.Progressing > 0:
		h.State = HealthProgressing
	default:
		h.State = Healthy
	}
	return h
}

// forgetHealth drops the memory of objects that are no longer desired.
func (a *Applier) forgetHealth(p *Plan) {
	if len(a.unhealthy) == 0 {
		return // all healthy: nothing to forget, and no set of the desired to make
	}
	desired := make(map[object.Key]bool, len(p.items))
	for _, it := range p.items {
		if it.src.declared() {
			desired[it.key] = true
		}
	}
	for k := range a.unhealthy {
		if !desired[k] {
			delete(a.unhealthy, k)
		}
	}
}

// healthItems are the desired objects whose health counts: those that
// were planned, or applied after all.
func healthItems(p *Plan, outcomes map[*item]*outcome) []*item {
	var out []*item
	for _, it := range p.items {
		if !it.src.declared() {
			continue
		}
		if it.err != nil && (outcomes == nil || !outcomes[it].done) {
			continue // reported as an error of its own
		}
		out = append(out, it)
	}
	return out
}
