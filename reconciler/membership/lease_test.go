package membership

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1apply "k8s.io/client-go/applyconfigurations/coordination/v1"

	"mcp.dev/mcp/internal/testenv"
)

func isAlreadyExists(err error) bool { return apierrors.IsAlreadyExists(err) }

// TestMembersShareAndTakeOver runs two members in process against a real
// apiserver, with a third, foreign lease that lapses: ownership is
// complete and disjoint, waits for the warm-up, and moves when a member
// leaves or lapses.
func TestMembersShareAndTakeOver(t *testing.T) {
	cs := leaseCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := func(id string) Options {
		o := DefaultOptions()
		o.Group, o.Identity = "inproc", id
		o.LeaseDuration, o.RenewInterval = 3*time.Second, 500*time.Millisecond
		return o
	}
	// A member that renewed once and died: live for its lease duration.
	ghost := coordinationv1apply.Lease("inproc-ghost", "mcp-system").
		WithLabels(map[string]string{GroupLabel: "inproc"}).
		WithSpec(coordinationv1apply.LeaseSpec().WithHolderIdentity("ghost").
			WithLeaseDurationSeconds(3).WithRenewTime(metav1.NewMicroTime(time.Now())))
	if _, err := cs.CoordinationV1().Leases("mcp-system").Apply(ctx, ghost, metav1.ApplyOptions{FieldManager: "test"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()

	var changes atomic.Int32
	members := map[string]*Membership{}
	stops := map[string]context.CancelFunc{}
	dones := map[string]chan struct{}{}
	for _, id := range []string{"m0", "m1"} {
		m, err := New(cs.CoordinationV1(), opts(id))
		if err != nil {
			t.Fatal(err)
		}
		mctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		members[id], stops[id], dones[id] = m, stop, done
		go func() { defer close(done); m.Run(mctx, func() { changes.Add(1) }) }()
	}
	clusters := clusterNames(60)
	owners := func() map[string][]string {
		out := map[string][]string{}
		for _, c := range clusters {
			for id, m := range members {
				if m.Owns(c) {
					out[c] = append(out[c], id)
				}
			}
		}
		return out
	}
	// Warming up: nobody claims anything yet.
	time.Sleep(300 * time.Millisecond)
	if o := owners(); len(o) != 0 {
		t.Fatalf("clusters owned during the warm-up: %v", o)
	}
	// The ghost is live and owns its share: the members own the rest, once.
	testenv.Eventually(t, 2*time.Second, "members m0, m1 and ghost seen", func() bool {
		return slices.Equal(members["m0"].Members(), []string{"ghost", "m0", "m1"}) && len(owners()) > 0
	})
	for c, ids := range owners() {
		if len(ids) != 1 || Owner([]string{"ghost", "m0", "m1"}, c) != ids[0] {
			t.Errorf("%s owned by %v, want the rendezvous owner %s", c, ids, Owner([]string{"ghost", "m0", "m1"}, c))
		}
	}
	// The ghost lapses: its clusters go to the two members within its
	// lease duration plus a renew interval.
	testenv.Eventually(t, 3*time.Second+2*time.Second-time.Since(start), "the ghost's clusters taken over", func() bool {
		o := owners()
		return len(o) == len(clusters)
	})
	for c, ids := range owners() {
		if len(ids) != 1 {
			t.Errorf("%s owned by %v, want exactly one", c, ids)
		}
	}
	// m1 stops cleanly: its lease is deleted and m0 owns everything at
	// its next renewal.
	stops["m1"]()
	<-dones["m1"]
	if _, err := cs.CoordinationV1().Leases("mcp-system").Get(ctx, "inproc-m1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("lease of a stopped member: %v, want it deleted", err)
	}
	testenv.Eventually(t, 2*time.Second, "m0 owns every cluster", func() bool {
		for _, c := range clusters {
			if !members["m0"].Owns(c) {
				return false
			}
		}
		return true
	})
	if changes.Load() < 3 {
		t.Errorf("onChange called %d times; want at least: active, ghost lapsed, m1 left", changes.Load())
	}
}
