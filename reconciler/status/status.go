package status

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"mcp.dev/mcp/apply"
)

// Summary counts the objects of the last round that changed something:
// apply's counts, without Unchanged, which the status does not carry
// (neither in its file nor on /status).
type Summary = apply.Counts

// Object is one object that failed or drifted.
type Object struct {
	Kind      string `json:"kind" yaml:"kind"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name      string `json:"name" yaml:"name"`
	File      string `json:"file,omitempty" yaml:"file,omitempty"`
	Error     string `json:"error,omitempty" yaml:"error,omitempty"`
	Drifted   bool   `json:"drifted,omitempty" yaml:"drifted,omitempty"`
}

// HealthCounts counts the desired objects by health.
type HealthCounts struct {
	Healthy     int `json:"healthy" yaml:"healthy"`
	Progressing int `json:"progressing" yaml:"progressing"`
	Degraded    int `json:"degraded" yaml:"degraded"`
}

// Unhealthy is one desired object that is not healthy: kstatus's status
// and message, and since when mcp has seen it so.
type Unhealthy struct {
	Kind      string    `json:"kind" yaml:"kind"`
	Namespace string    `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name      string    `json:"name" yaml:"name"`
	File      string    `json:"file,omitempty" yaml:"file,omitempty"`
	Status    string    `json:"status" yaml:"status"`
	Message   string    `json:"message,omitempty" yaml:"message,omitempty"`
	Since     time.Time `json:"since" yaml:"since"`
}

// Cluster is what mcp reports of one cluster: on /status and in
// <status-path>/<cluster>.yaml.
type Cluster struct {
	Name     string       `json:"name" yaml:"name"`
	Result   apply.Status `json:"result" yaml:"result"`
	Revision string       `json:"revision" yaml:"revision"`
	Message  string       `json:"message" yaml:"message"`
	Since    time.Time    `json:"since" yaml:"since"`
	Summary  Summary      `json:"summary" yaml:"summary"`
	Objects  []Object     `json:"objects,omitempty" yaml:"objects,omitempty"`
	// Health is kstatus over the desired objects, "" when they could not
	// be looked at (the cluster did not render or answer).
	Health       apply.HealthState `json:"health,omitempty" yaml:"health,omitempty"`
	HealthCounts HealthCounts      `json:"healthCounts" yaml:"healthCounts"`
	// Unhealthy are the objects that are not healthy.
	Unhealthy []Unhealthy `json:"unhealthy,omitempty" yaml:"unhealthy,omitempty"`
	// Charts are the Helm charts of the revision the cluster is at, with
	// the version each resolved to, by placement.
	Charts []Chart `json:"charts,omitempty" yaml:"charts,omitempty"`
}

// Chart is a chart a placement rendered on a cluster: a version range
// shows here as the version it resolved to.
type Chart struct {
	Placement string `json:"placement" yaml:"placement"`
	Name      string `json:"name" yaml:"name"`
	Version   string `json:"version" yaml:"version"`
}

// SameOutcome reports whether next describes the same outcome as prev, so
// that a round that changed nothing writes nothing. Such a round (a drift
// check that found nothing to do) keeps prev's counts, which describe the
// last round that changed something.
func SameOutcome(prev, next Cluster) bool {
	s, n := prev.Summary, next.Summary
	quiet := !n.Changed() && n.Managed == s.Managed && n.Failed == s.Failed
	return prev.Result == next.Result && prev.Revision == next.Revision && prev.Message == next.Message &&
		(s == n || quiet) && slices.Equal(prev.Objects, next.Objects) && sameHealth(prev, next) &&
		slices.Equal(prev.Charts, next.Charts)
}

// sameHealth: the same health, counts and objects not healthy; kstatus's
// messages of those objects do not matter (a rollout's "1/3 replicas"
// changes on every look).
func sameHealth(prev, next Cluster) bool {
	return prev.Health == next.Health && prev.HealthCounts == next.HealthCounts &&
		slices.EqualFunc(prev.Unhealthy, next.Unhealthy, func(a, b Unhealthy) bool {
			return a.Kind == b.Kind && a.Namespace == b.Namespace && a.Name == b.Name && a.Status == b.Status
		})
}

// Fleet is the answer of GET /status.
type Fleet struct {
	Revision string    `json:"revision" yaml:"revision"`
	Clusters []Cluster `json:"clusters" yaml:"clusters"`
}

// Store holds the latest status of every cluster, shared by the loop (the
// only writer), the HTTP server and the status writer.
type Store struct {
	mu       sync.RWMutex
	revision string
	ready    bool
	clusters map[string]Cluster
	details  map[string]ClusterDetail // labels and last plan, for live views
	source   SourceInfo
	changed  chan struct{} // closed and replaced on every change
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{clusters: map[string]Cluster{}, details: map[string]ClusterDetail{}, changed: make(chan struct{})}
}

// SetRevision records the source revision last rendered, and that mcp is
// ready: /readyz stays ready from then on, even while the source is down.
func (s *Store) SetRevision(rev string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revision, s.ready = rev, true
	s.notifyLocked()
}

// Ready reports whether a first revision was fetched and rendered.
func (s *Store) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ready
}

// Update sets a cluster's status. Since is kept while the result stays the
// same. It returns the stored status and whether the outcome changed.
func (s *Store) Update(st Cluster) (Cluster, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.clusters[st.Name]
	if ok && old.Result == st.Result {
		st.Since = old.Since
	}
	if ok && SameOutcome(old, st) {
		if !slices.EqualFunc(old.Unhealthy, st.Unhealthy, Unhealthy.equal) {
			// kstatus's latest words for the views, not a new outcome.
			old.Unhealthy = st.Unhealthy
			s.clusters[st.Name] = old
			s.notifyLocked()
		}
		return old, false
	}
	s.clusters[st.Name] = st
	s.notifyLocked()
	return st, true
}

// Remove forgets clusters that are no longer in the repo.
func (s *Store) Remove(keep func(name string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.clusters {
		if !keep(name) {
			delete(s.clusters, name)
			s.notifyLocked()
		}
	}
	for name := range s.details {
		if !keep(name) {
			delete(s.details, name)
		}
	}
}

// Snapshot returns the fleet status, clusters sorted by name.
func (s *Store) Snapshot() Fleet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := Fleet{Revision: s.revision, Clusters: make([]Cluster, 0, len(s.clusters))}
	for _, c := range s.clusters {
		out.Clusters = append(out.Clusters, c)
	}
	slices.SortFunc(out.Clusters, func(a, b Cluster) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Changed returns a channel closed at the next change, for live views.
func (s *Store) Changed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

func (s *Store) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// String is a one-line summary for logs: "3 clusters: 2 Synced, 1 Failed".
func (f Fleet) String() string {
	counts := map[apply.Status]int{}
	for _, c := range f.Clusters {
		counts[c.Result]++
	}
	var parts []string
	for _, r := range []apply.Status{apply.Synced, apply.Progressing, apply.Drifted, apply.Paused, apply.Failed, apply.Unreachable} {
		if counts[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[r], r))
		}
	}
	return fmt.Sprintf("%d clusters: %s", len(f.Clusters), strings.Join(parts, ", "))
}

// Restore puts back the status the branch holds for a cluster whose
// current status is still cur, so that /status and the file agree; false
// when the cluster moved on meanwhile, even to a status that differs from
// cur only in its objects or since: the store never goes back in time.
func (s *Store) Restore(prev, cur Cluster) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, ok := s.clusters[cur.Name]
	if !ok || !SameStatus(now, cur) {
		return false
	}
	s.clusters[cur.Name] = prev
	s.notifyLocked()
	return true
}

// SameStatus reports whether a and b are the same status, field by field.
func SameStatus(a, b Cluster) bool {
	return a.Name == b.Name && a.Result == b.Result && a.Revision == b.Revision && a.Message == b.Message &&
		a.Since.Equal(b.Since) && a.Summary == b.Summary && slices.Equal(a.Objects, b.Objects) &&
		a.Health == b.Health && a.HealthCounts == b.HealthCounts && slices.EqualFunc(a.Unhealthy, b.Unhealthy, Unhealthy.equal) &&
		slices.Equal(a.Charts, b.Charts)
}

func (u Unhealthy) equal(o Unhealthy) bool {
	return u.Kind == o.Kind && u.Namespace == o.Namespace && u.Name == o.Name && u.File == o.File &&
		u.Status == o.Status && u.Message == o.Message && u.Since.Equal(o.Since)
}

// SameRecord reports whether a and b are the same for the status history
// on git: the same result, revision and objects that failed or drifted
// (by kind, namespace and name). Messages are left out: a cluster that
// keeps failing with a text that differs on every retry (a port, a
// timestamp) makes one commit, not one per retry.
func SameRecord(a, b Cluster) bool {
	return a.Name == b.Name && a.Result == b.Result && a.Revision == b.Revision && maps.Equal(objectSet(a), objectSet(b))
}

// objectSet is the set of a status's objects, without their messages.
func objectSet(c Cluster) map[Object]bool {
	set := make(map[Object]bool, len(c.Objects))
	for _, o := range c.Objects {
		set[Object{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Drifted: o.Drifted}] = true
	}
	return set
}
