package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	coordinationv1apply "k8s.io/client-go/applyconfigurations/coordination/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// GroupLabel labels every Lease of a group with the group's name, so that
// one LIST finds the members.
const GroupLabel = "mcp.dev/replicas"

// fieldManager is the server-side apply manager of the leases, the same as
// for everything else mcp writes.
const fieldManager = "mcp"

// ErrOptions means Options that cannot work; the error says which field.
var ErrOptions = errors.New("membership options")

// Options configure a Membership; DefaultOptions gives the defaults.
type Options struct {
	// Group names the set of replicas sharing a fleet. Each member's Lease
	// is named Group-Identity and labelled GroupLabel=Group.
	Group string
	// Namespace of the leases, on the cluster mcp runs in.
	Namespace string
	// Identity of this replica, unique in the group (a pod name).
	Identity string
	// LeaseDuration is how long a lease stays live without renewal: the
	// longest a dead replica's clusters go unreconciled.
	LeaseDuration time.Duration
	// RenewInterval is how often the lease is renewed and the members are
	// listed; well below LeaseDuration so one missed renewal is harmless.
	RenewInterval time.Duration
}

// DefaultOptions: leases of 15s renewed every 5s in mcp-system.
func DefaultOptions() Options {
	return Options{Namespace: "mcp-system", LeaseDuration: 15 * time.Second, RenewInterval: 5 * time.Second}
}

// LeaseName is the name of the Lease of a member.
func (o Options) LeaseName() string { return o.Group + "-" + o.Identity }

func (o Options) validate() error {
	var errs []error
	if o.Group == "" || len(validation.IsValidLabelValue(o.Group)) > 0 {
		errs = append(errs, fmt.Errorf("%w: group %q must be a label value (letters, digits, '-', '_', '.')", ErrOptions, o.Group))
	}
	if o.Identity == "" {
		errs = append(errs, fmt.Errorf("%w: the replica identity is empty", ErrOptions))
	} else if msgs := validation.IsDNS1123Subdomain(o.LeaseName()); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("%w: lease name %q: %s", ErrOptions, o.LeaseName(), msgs[0]))
	}
	if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("%w: namespace %q: %s", ErrOptions, o.Namespace, msgs[0]))
	}
	if o.LeaseDuration < time.Second || o.LeaseDuration%time.Second != 0 {
		errs = append(errs, fmt.Errorf("%w: lease duration %s must be whole seconds, at least 1s", ErrOptions, o.LeaseDuration))
	}
	if o.RenewInterval <= 0 || o.RenewInterval >= o.LeaseDuration {
		errs = append(errs, fmt.Errorf("%w: renew interval %s must be positive and shorter than the lease duration %s", ErrOptions, o.RenewInterval, o.LeaseDuration))
	}
	return errors.Join(errs...)
}

// Membership is this replica's view of its group. Owns is safe to call
// from any goroutine; Run keeps the view current.
type Membership struct {
	opts   Options
	leases coordinationv1client.LeasesGetter

	mu      sync.RWMutex
	members []string  // live members, sorted, self included once renewed
	joined  time.Time // first successful renewal; zero before
	renewed time.Time // last successful renewal
	now     func() time.Time
}

// New returns the membership of opts.Identity in opts.Group; it does
// nothing until Run.
func New(leases coordinationv1client.LeasesGetter, opts Options) (*Membership, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Membership{opts: opts, leases: leases, now: time.Now}, nil
}

// Owns reports whether this replica reconciles cluster now. It is false
// for every cluster while the replica warms up (two renew intervals after
// joining, so that the other members have seen it and let go of its
// clusters first) and once its own lease has lapsed (the others own its
// clusters by then).
func (m *Membership) Owns(cluster string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.activeLocked(m.now()) && Owner(m.members, cluster) == m.opts.Identity
}

// activeLocked: joined long enough ago, and renewed recently enough.
func (m *Membership) activeLocked(now time.Time) bool {
	return !m.joined.IsZero() &&
		now.Sub(m.joined) >= 2*m.opts.RenewInterval &&
		now.Sub(m.renewed) < m.opts.LeaseDuration
}

// Active reports whether this replica claims clusters now: it has joined,
// warmed up and renewed its lease recently enough.
func (m *Membership) Active() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.activeLocked(m.now())
}

// Members returns the live members last seen, sorted.
func (m *Membership) Members() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.members)
}

// Run renews this replica's lease and lists the members every renew
// interval until ctx is done, then deletes the lease so that the others
// take its clusters over at once. onChange is called (and must not block)
// whenever what Owns answers may have changed. Failures are logged and
// retried at the next interval: a replica keeps running through an outage
// of the cluster it runs in, owning nothing once its lease has lapsed.
func (m *Membership) Run(ctx context.Context, onChange func()) error {
	ticker := time.NewTicker(m.opts.RenewInterval)
	defer ticker.Stop()
	wasActive := false
	for {
		changed, err := m.tick(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("replica lease: renewal or listing failed; retrying", "lease", m.opts.Namespace+"/"+m.opts.LeaseName(), "err", err)
		}
		active := m.Active()
		if changed || active != wasActive {
			slog.Info("replica membership", "identity", m.opts.Identity, "members", m.Members(), "active", active)
			onChange()
		}
		wasActive = active
		select {
		case <-ctx.Done():
			m.leave()
			return nil
		case <-ticker.C:
		}
	}
}

// tick renews the lease, then lists the group; changed says whether the
// live members differ from the last listing.
func (m *Membership) tick(ctx context.Context) (changed bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, m.opts.RenewInterval)
	defer cancel()
	if err := m.renew(ctx); err != nil {
		return false, fmt.Errorf("renew lease %s/%s: %w", m.opts.Namespace, m.opts.LeaseName(), err)
	}
	list, err := m.leases.Leases(m.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: GroupLabel + "=" + m.opts.Group})
	if err != nil {
		return false, fmt.Errorf("list leases %s=%s in %s: %w", GroupLabel, m.opts.Group, m.opts.Namespace, err)
	}
	members := Live(list.Items, m.now())
	m.mu.Lock()
	defer m.mu.Unlock()
	changed = !slices.Equal(members, m.members)
	m.members = members
	return changed, nil
}

// renew writes this replica's lease with server-side apply: one request
// whether it exists or not.
func (m *Membership) renew(ctx context.Context) error {
	now := m.now()
	m.mu.RLock()
	joined := m.joined
	m.mu.RUnlock()
	if joined.IsZero() {
		joined = now
	}
	lease := coordinationv1apply.Lease(m.opts.LeaseName(), m.opts.Namespace).
		WithLabels(map[string]string{GroupLabel: m.opts.Group, "app.kubernetes.io/managed-by": "mcp"}).
		WithSpec(coordinationv1apply.LeaseSpec().
			WithHolderIdentity(m.opts.Identity).
			WithLeaseDurationSeconds(int32(m.opts.LeaseDuration / time.Second)).
			WithAcquireTime(metav1.NewMicroTime(joined)).
			WithRenewTime(metav1.NewMicroTime(now)))
	if _, err := m.leases.Leases(m.opts.Namespace).Apply(ctx, lease, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return err
	}
	m.mu.Lock()
	m.joined, m.renewed = joined, now
	m.mu.Unlock()
	return nil
}

// leave deletes the lease on a clean stop. It runs after ctx is done, so
// it has a short deadline of its own; if it fails, the lease lapses anyway.
func (m *Membership) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.leases.Leases(m.opts.Namespace).Delete(ctx, m.opts.LeaseName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		slog.Warn("replica lease: could not delete it on stop; it lapses on its own", "lease", m.opts.Namespace+"/"+m.opts.LeaseName(), "err", err)
	}
	m.mu.Lock()
	m.members, m.joined = nil, time.Time{}
	m.mu.Unlock()
}

// Live returns the sorted holder identities of the leases that are live at
// now: renewTime + leaseDurationSeconds still in the future.
func Live(leases []coordinationv1.Lease, now time.Time) []string {
	var out []string
	for _, l := range leases {
		s := l.Spec
		if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
			continue
		}
		if s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second).After(now) {
			out = append(out, *s.HolderIdentity)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
