package reconciler

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Result is a cluster's outcome of its last reconcile (SPEC section 5).
type Result string

// The results a cluster can have.
const (
	Synced      Result = "Synced"
	Failed      Result = "Failed"
	Unreachable Result = "Unreachable"
	Paused      Result = "Paused"
	Drifted     Result = "Drifted"
)

// Summary counts the objects of the last round that changed something.
type Summary struct {
	Managed int `json:"managed" yaml:"managed"`
	Created int `json:"created" yaml:"created"`
	Updated int `json:"updated" yaml:"updated"`
	Deleted int `json:"deleted" yaml:"deleted"`
	Failed  int `json:"failed" yaml:"failed"`
}

// ObjectStatus is one object that failed or drifted.
type ObjectStatus struct {
	Kind      string `json:"kind" yaml:"kind"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name      string `json:"name" yaml:"name"`
	File      string `json:"file,omitempty" yaml:"file,omitempty"`
	Error     string `json:"error,omitempty" yaml:"error,omitempty"`
	Drifted   bool   `json:"drifted,omitempty" yaml:"drifted,omitempty"`
}

// ClusterStatus is what mcp reports of one cluster: on /status and in
// <status-path>/<cluster>.yaml.
type ClusterStatus struct {
	Name     string         `json:"name" yaml:"name"`
	Result   Result         `json:"result" yaml:"result"`
	Revision string         `json:"revision" yaml:"revision"`
	Message  string         `json:"message" yaml:"message"`
	Since    time.Time      `json:"since" yaml:"since"`
	Summary  Summary        `json:"summary" yaml:"summary"`
	Objects  []ObjectStatus `json:"objects,omitempty" yaml:"objects,omitempty"`
}

// sameOutcome reports whether next describes the same outcome as prev, so
// that a round that changed nothing writes nothing. Such a round (a drift
// check that found nothing to do) keeps prev's counts, which describe the
// last round that changed something.
func sameOutcome(prev, next ClusterStatus) bool {
	s, n := prev.Summary, next.Summary
	quiet := n.Created == 0 && n.Updated == 0 && n.Deleted == 0 && n.Managed == s.Managed && n.Failed == s.Failed
	return prev.Result == next.Result && prev.Revision == next.Revision && prev.Message == next.Message &&
		(s == n || quiet) && slices.Equal(prev.Objects, next.Objects)
}

// statusFile is the YAML document of SPEC section 5.
type statusFile struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Metadata   map[string]any `json:"metadata" yaml:"metadata"`
	Status     fileStatus     `json:"status" yaml:"status"`
}

type fileStatus struct {
	Revision string         `json:"revision" yaml:"revision"`
	Result   Result         `json:"result" yaml:"result"`
	Message  string         `json:"message" yaml:"message"`
	Since    string         `json:"since" yaml:"since"`
	Summary  Summary        `json:"summary" yaml:"summary"`
	Objects  []ObjectStatus `json:"objects,omitempty" yaml:"objects,omitempty"`
}

// MarshalStatusFile renders the status file of one cluster, its fields in
// the order of SPEC section 5 so that the file reads top-down in git.
func MarshalStatusFile(s ClusterStatus) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(statusFile{
		APIVersion: "mcp.dev/v1alpha1",
		Kind:       "ClusterStatus",
		Metadata:   map[string]any{"name": s.Name},
		Status: fileStatus{
			Revision: s.Revision,
			Result:   s.Result,
			Message:  s.Message,
			Since:    s.Since.UTC().Format(time.RFC3339),
			Summary:  s.Summary,
			Objects:  s.Objects,
		},
	})
	return buf.Bytes(), err
}

// FleetStatus is the answer of GET /status.
type FleetStatus struct {
	Revision string          `json:"revision" yaml:"revision"`
	Clusters []ClusterStatus `json:"clusters" yaml:"clusters"`
}

// Store holds the latest status of every cluster, shared by the loop (the
// only writer), the HTTP server and the status writer.
type Store struct {
	mu       sync.RWMutex
	revision string
	ready    bool
	clusters map[string]ClusterStatus
	details  map[string]ClusterDetail // labels and last plan, for live views
	source   SourceInfo
	changed  chan struct{} // closed and replaced on every change
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{clusters: map[string]ClusterStatus{}, details: map[string]ClusterDetail{}, changed: make(chan struct{})}
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
func (s *Store) Update(st ClusterStatus) (ClusterStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.clusters[st.Name]
	if ok && old.Result == st.Result {
		st.Since = old.Since
	}
	if ok && sameOutcome(old, st) {
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
func (s *Store) Snapshot() FleetStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := FleetStatus{Revision: s.revision, Clusters: make([]ClusterStatus, 0, len(s.clusters))}
	for _, c := range s.clusters {
		out.Clusters = append(out.Clusters, c)
	}
	slices.SortFunc(out.Clusters, func(a, b ClusterStatus) int { return strings.Compare(a.Name, b.Name) })
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
func (f FleetStatus) String() string {
	counts := map[Result]int{}
	for _, c := range f.Clusters {
		counts[c.Result]++
	}
	var parts []string
	for _, r := range []Result{Synced, Drifted, Paused, Failed, Unreachable} {
		if counts[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[r], r))
		}
	}
	return fmt.Sprintf("%d clusters: %s", len(f.Clusters), strings.Join(parts, ", "))
}
