package dashboard

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/reconciler/status"
)

// The views are plain data built from the Store: the templates only lay
// them out, and html/template escapes every value they print.

// page is what every page shows around its content.
type page struct {
	Title  string
	Source sourceView
	// Subject is what a not-found page could not find.
	Subject string
}

type sourceView struct {
	status.SourceInfo
	Revision string
	Checked  bool // checked at least once
}

// resultView is a result in words, with an icon and a colour class; the
// word is always shown, so no one needs the colour.
type resultView struct {
	Word, Icon, Class string
}

var results = map[apply.Status]resultView{
	apply.Synced:      {"Synced", "✓", "synced"},
	apply.Progressing: {"Progressing", "◔", "pending"},
	apply.Drifted:     {"Drifted", "≠", "drifted"},
	apply.Failed:      {"Failed", "✗", "failed"},
	apply.Unreachable: {"Unreachable", "⚠", "unreachable"},
	apply.Paused:      {"Paused", "‖", "paused"},
}

// resultOrder is the order of the fleet's counts: what needs a look first.
var resultOrder = []apply.Status{apply.Failed, apply.Unreachable, apply.Drifted, apply.Progressing, apply.Paused, apply.Synced}

func resultOf(r apply.Status) resultView {
	if v, ok := results[r]; ok {
		return v
	}
	return resultView{Word: cmp.Or(string(r), "Pending"), Icon: "…", Class: "pending"}
}

type label struct{ Key, Value string }

type countView struct {
	Result resultView
	N      int
}

type clusterRow struct {
	Name     string
	Labels   []label
	Result   resultView
	Revision string
	// Behind: the cluster is not at the source's revision.
	Behind  bool
	Since   time.Time
	Message string
	Managed int
	Drifted int
	Failed  int
}

type fleetView struct {
	page
	Counts   []countView
	Clusters []clusterRow
}

type objectView struct {
	Kind, Namespace, Name, File, Error string
}

type fieldView struct {
	Path, Old, New string
	Sensitive      bool
}

type changeView struct {
	Action, Symbol       string
	Key, File, Placement string
	Reason               string
	Fields               []fieldView
}

type planView struct {
	Revision   string
	At         time.Time
	Err        string
	Summary    diff.Summary
	HasChanges bool
	Changes    []changeView
}

type clusterView struct {
	page
	clusterRow
	Status  status.Cluster
	Failed  []objectView
	Drifted []objectView
	Plan    *planView
}

func pageOf(s *status.Store, title, subject string) page {
	fs := s.Snapshot()
	src := s.Source()
	return page{Title: title, Subject: subject, Source: sourceView{SourceInfo: src, Revision: fs.Revision, Checked: !src.LastCheck.IsZero()}}
}

// fleetOf is the overview: every cluster and the counts of each result.
func fleetOf(s *status.Store) fleetView {
	fs := s.Snapshot()
	v := fleetView{page: pageOf(s, "Fleet", "")}
	counts := map[apply.Status]int{}
	for _, c := range fs.Clusters {
		counts[c.Result]++
		d, _ := s.Detail(c.Name)
		v.Clusters = append(v.Clusters, rowOf(c, d, fs.Revision))
	}
	for _, r := range resultOrder {
		if counts[r] > 0 {
			v.Counts = append(v.Counts, countView{Result: resultOf(r), N: counts[r]})
		}
	}
	return v
}

func rowOf(c status.Cluster, d status.ClusterDetail, sourceRev string) clusterRow {
	row := clusterRow{
		Name: c.Name, Labels: labelsOf(d.Labels), Result: resultOf(c.Result),
		Revision: c.Revision, Behind: sourceRev != "" && c.Revision != sourceRev,
		Since: c.Since, Message: c.Message, Managed: c.Summary.Managed, Failed: c.Summary.Failed,
	}
	for _, o := range c.Objects {
		if o.Drifted {
			row.Drifted++
		}
	}
	return row
}

// labelsOf orders labels for reading: cloud, region and env first, the
// others by key.
func labelsOf(m map[string]string) []label {
	rank := func(k string) int {
		if i := slices.Index([]string{"cloud", "region", "env"}, k); i >= 0 {
			return i
		}
		return 3
	}
	out := make([]label, 0, len(m))
	for k, v := range m {
		out = append(out, label{k, v})
	}
	slices.SortFunc(out, func(a, b label) int {
		return cmp.Or(cmp.Compare(rank(a.Key), rank(b.Key)), strings.Compare(a.Key, b.Key))
	})
	return out
}

// clusterOf is a cluster's page; false when the Store does not know it.
func clusterOf(s *status.Store, name string) (clusterView, bool) {
	fs := s.Snapshot()
	i := slices.IndexFunc(fs.Clusters, func(c status.Cluster) bool { return c.Name == name })
	if i < 0 {
		return clusterView{}, false
	}
	c := fs.Clusters[i]
	d, _ := s.Detail(name)
	v := clusterView{page: pageOf(s, "Cluster "+name, ""), clusterRow: rowOf(c, d, fs.Revision), Status: c}
	for _, o := range c.Objects {
		ov := objectView{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, File: o.File, Error: o.Error}
		if o.Drifted {
			v.Drifted = append(v.Drifted, ov)
		} else {
			v.Failed = append(v.Failed, ov)
		}
	}
	if d.Plan != nil {
		v.Plan = planOf(d)
	}
	return v, true
}

// planOf shows a plan as mcp diff prints it: the changed objects and, of
// an update, each changed field. Only Fields are read, never the plan's
// Before/After objects, and diff masks Secret values in those.
func planOf(d status.ClusterDetail) *planView {
	p := d.Plan
	v := &planView{Revision: d.PlanRevision, At: d.PlannedAt, Summary: p.Summary(), HasChanges: p.HasChanges()}
	if p.Err != nil {
		v.Err = p.Err.Error()
	}
	symbols := map[diff.Action]string{diff.Create: "+", diff.Update: "~", diff.Delete: "−", diff.Adopt: ">", diff.Keep: "!", diff.Orphan: "<", diff.Replace: "−/+"}
	for _, ch := range p.Changes {
		if ch.Action == diff.Unchanged {
			continue
		}
		cv := changeView{Action: ch.Action.String(), Symbol: symbols[ch.Action], Key: ch.Key.String(), File: ch.File, Placement: ch.Placement, Reason: ch.Reason}
		for _, fc := range ch.Fields {
			old, new := fc.Texts()
			cv.Fields = append(cv.Fields, fieldView{Path: fc.Path, Old: old, New: new, Sensitive: fc.Sensitive})
		}
		v.Changes = append(v.Changes, cv)
	}
	return v
}

// shortRevision cuts a commit SHA or "sha256:<hex>" content hash to a
// readable length; the full one is in the element's title.
func shortRevision(rev string) string {
	prefix, hex, ok := strings.Cut(rev, ":")
	if !ok {
		prefix, hex = "", rev
	} else {
		prefix += ":"
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return prefix + hex
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ago is how long before now t was, in the largest unit; the page's script
// keeps it current between updates.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func clusterURL(name string) string { return "/clusters/" + url.PathEscape(name) }
