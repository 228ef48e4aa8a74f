package status

import (
	"maps"
	"time"

	"mcp.dev/mcp/diff"
)

// ClusterDetail is what a live view shows of a cluster beyond its
// Cluster. It is kept beside the status, not in it, so that neither
// /status nor the status files change shape.
type ClusterDetail struct {
	// Labels are the Cluster document's labels (cloud, region, env, ...).
	Labels map[string]string
	// Plan is the last plan made for the cluster, nil before the first. An
	// unreachable cluster keeps the plan of its last reachable round. Its
	// Secret values are masked by diff; its Before/After objects must
	// never be shown.
	Plan *diff.ClusterPlan
	// PlanRevision is the source revision Plan was made for.
	PlanRevision string
	// PlannedAt is when Plan was made.
	PlannedAt time.Time
}

// SourceInfo describes the config repo for live views.
type SourceInfo struct {
	// URL is the repo URL with any password redacted, or the directory.
	URL string `json:"url"`
	// Branch is the branch followed ("" for a directory).
	Branch string `json:"branch,omitempty"`
	// Ref is the tag or commit a pinned source stays at.
	Ref string `json:"ref,omitempty"`
	// LastFetch is the last successful check of the source.
	LastFetch time.Time `json:"lastFetch"`
	// LastCheck is the last check, successful or not.
	LastCheck time.Time `json:"lastCheck"`
	// Stale is set while the source cannot be checked: mcp serves the last
	// good revision.
	Stale bool `json:"stale"`
	// Error is why the last check failed.
	Error string `json:"error,omitempty"`
}

// SetSource sets what is known of the source before the first check (the
// URL, already redacted by the caller, and the branch).
func (s *Store) SetSource(info SourceInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.source = info
	s.notifyLocked()
}

// Source returns what is known of the source.
func (s *Store) Source() SourceInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.source
}

// SourceChecked records a check of the source at now; err is nil when it
// succeeded. A repeated success only moves LastFetch, which is not worth
// waking live views for.
func (s *Store) SourceChecked(now time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.source
	s.source.LastCheck = now
	if err != nil {
		s.source.Stale, s.source.Error = true, err.Error()
	} else {
		s.source.Stale, s.source.Error, s.source.LastFetch = false, "", now
	}
	if was.Stale != s.source.Stale || was.Error != s.source.Error || was.LastFetch.IsZero() {
		s.notifyLocked()
	}
}

// SetLabels records a cluster's labels.
func (s *Store) SetLabels(cluster string, labels map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.details[cluster]
	if maps.Equal(d.Labels, labels) {
		return
	}
	d.Labels = maps.Clone(labels)
	s.details[cluster] = d
	s.notifyLocked()
}

// SetPlan records the plan last made for a cluster at revision; a nil plan
// (the cluster could not be planned) keeps the previous one.
func (s *Store) SetPlan(cluster string, plan *diff.ClusterPlan, revision string) {
	if plan == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.details[cluster]
	d.Plan, d.PlanRevision, d.PlannedAt = plan, revision, time.Now().UTC().Truncate(time.Second)
	s.details[cluster] = d
	s.notifyLocked()
}

// Detail returns what is known of a cluster beyond its status. The plan is
// shared: callers must not change it.
func (s *Store) Detail(cluster string) (ClusterDetail, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.details[cluster]
	return d, ok
}
