package membership

import (
	"fmt"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func clusterNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cluster-%03d", i)
	}
	return out
}

func TestOwnerIsStable(t *testing.T) {
	for name, tc := range map[string]struct {
		members []string
		key     string
	}{
		"one member":          {[]string{"mcp-0"}, "aws-eu-prod"},
		"three members":       {[]string{"mcp-0", "mcp-1", "mcp-2"}, "aws-eu-prod"},
		"pod names":           {[]string{"mcp-7d9f-abcde", "mcp-7d9f-fghij"}, "kind-dev"},
		"similar identities":  {[]string{"a", "aa", "aaa", "aaaa"}, "x"},
		"empty key still has": {[]string{"mcp-0", "mcp-1"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			want := Owner(tc.members, tc.key)
			if !slices.Contains(tc.members, want) {
				t.Fatalf("owner %q is not a member of %v", want, tc.members)
			}
			// The same members in any order, asked again, give the same owner.
			rev := slices.Clone(tc.members)
			slices.Reverse(rev)
			for i := 0; i < 3; i++ {
				if got := Owner(rev, tc.key); got != want {
					t.Fatalf("members reversed: owner %q, want %q", got, want)
				}
			}
		})
	}
	if got := Owner(nil, "x"); got != "" {
		t.Errorf("no members: owner %q, want none", got)
	}
}

func TestOwnerBalance(t *testing.T) {
	for name, tc := range map[string]struct {
		members  []string
		clusters int
		// tolerance is the allowed deviation from an even share, as a
		// fraction of it.
		tolerance float64
	}{
		"3 replicas, 300 clusters":  {[]string{"mcp-0", "mcp-1", "mcp-2"}, 300, 0.25},
		"2 replicas, 200 clusters":  {[]string{"mcp-0", "mcp-1"}, 200, 0.2},
		"5 replicas, 1000 clusters": {[]string{"mcp-0", "mcp-1", "mcp-2", "mcp-3", "mcp-4"}, 1000, 0.2},
		"pod-hash names":            {[]string{"mcp-6c5b9d-x2x7q", "mcp-6c5b9d-k8p4d", "mcp-6c5b9d-zz9m2"}, 600, 0.2},
	} {
		t.Run(name, func(t *testing.T) {
			count := map[string]int{}
			for _, c := range clusterNames(tc.clusters) {
				count[Owner(tc.members, c)]++
			}
			even := float64(tc.clusters) / float64(len(tc.members))
			for _, m := range tc.members {
				if dev := (float64(count[m]) - even) / even; dev > tc.tolerance || dev < -tc.tolerance {
					t.Errorf("%s owns %d clusters, an even share is %.0f (±%.0f%%): %v", m, count[m], even, tc.tolerance*100, count)
				}
			}
		})
	}
}

func TestOwnerMovesOnlyWhatMustMove(t *testing.T) {
	all := []string{"mcp-0", "mcp-1", "mcp-2", "mcp-3"}
	clusters := clusterNames(400)
	for name, tc := range map[string]struct {
		before, after []string
	}{
		"a member leaves": {all, []string{"mcp-0", "mcp-1", "mcp-3"}},
		"a member joins":  {[]string{"mcp-0", "mcp-1", "mcp-3"}, all},
		"two leave":       {all, []string{"mcp-1", "mcp-2"}},
	} {
		t.Run(name, func(t *testing.T) {
			moved := 0
			for _, c := range clusters {
				was, is := Owner(tc.before, c), Owner(tc.after, c)
				if was == is {
					continue
				}
				moved++
				// A cluster moves only away from a member that left, or
				// to a member that joined; never between two that stayed.
				if slices.Contains(tc.after, was) && slices.Contains(tc.before, is) {
					t.Errorf("%s moved from %s to %s, both members before and after", c, was, is)
				}
			}
			// And about the share of the members that changed moves.
			changed := 0
			for _, m := range all {
				if slices.Contains(tc.before, m) != slices.Contains(tc.after, m) {
					changed++
				}
			}
			want := float64(len(clusters)) * float64(changed) / float64(max(len(tc.before), len(tc.after)))
			if float64(moved) > want*1.3 {
				t.Errorf("%d of %d clusters moved; about %.0f should", moved, len(clusters), want)
			}
		})
	}
}

func TestLive(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	lease := func(holder string, renewedAgo time.Duration, seconds int32) coordinationv1.Lease {
		rt := metav1.NewMicroTime(now.Add(-renewedAgo))
		return coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &rt, LeaseDurationSeconds: &seconds}}
	}
	for name, tc := range map[string]struct {
		leases []coordinationv1.Lease
		want   []string
	}{
		"fresh":          {[]coordinationv1.Lease{lease("b", time.Second, 15), lease("a", 0, 15)}, []string{"a", "b"}},
		"expired":        {[]coordinationv1.Lease{lease("a", 16*time.Second, 15), lease("b", 14*time.Second, 15)}, []string{"b"}},
		"exactly at end": {[]coordinationv1.Lease{lease("a", 15*time.Second, 15)}, nil},
		"no holder":      {[]coordinationv1.Lease{lease("", 0, 15), {}}, nil},
		"duplicate":      {[]coordinationv1.Lease{lease("a", 0, 15), lease("a", time.Second, 15)}, []string{"a"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Live(tc.leases, now); !slices.Equal(got, tc.want) {
				t.Errorf("Live = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	good := DefaultOptions()
	good.Group, good.Identity = "fleet", "mcp-0"
	if err := good.validate(); err != nil {
		t.Fatalf("defaults with a group and identity: %v", err)
	}
	for name, change := range map[string]func(*Options){
		"no group":            func(o *Options) { o.Group = "" },
		"no identity":         func(o *Options) { o.Identity = "" },
		"upper-case identity": func(o *Options) { o.Identity = "MCP_0" },
		"bad namespace":       func(o *Options) { o.Namespace = "Mcp.System" },
		"fractional duration": func(o *Options) { o.LeaseDuration = 1500 * time.Millisecond },
		"renew too slow":      func(o *Options) { o.RenewInterval = o.LeaseDuration },
	} {
		t.Run(name, func(t *testing.T) {
			o := good
			change(&o)
			if _, err := New(nil, o); err == nil {
				t.Errorf("New accepted %+v", o)
			}
		})
	}
}
