package apply

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

// Options say how clusters are diffed and changed.
type Options struct {
	// FieldManager owns the fields mcp applies (server-side apply).
	FieldManager string
	// Inventory names the ConfigMap(s) in namespace mcp-system that list
	// what was applied; two mcp instances sharing a cluster need two names.
	Inventory string
	// Prune deletes objects of the inventory that are no longer desired.
	Prune bool
	// AllowMassPrune lets a reconcile delete more than half of a cluster's
	// managed objects (and more than MassPruneMin); without it such a
	// reconcile deletes nothing and fails with ErrMassPrune.
	AllowMassPrune bool
	// DryRun plans and reports but never writes to a cluster.
	DryRun bool
	// Wait waits until applied objects are healthy (kstatus Current),
	// at most Timeout.
	Wait bool
	// Timeout bounds Wait and the wait for CRDs to be Established.
	Timeout time.Duration
	// WaveTimeout is how long the objects of a wave may take to become
	// healthy before the cluster fails; the waves after it wait for them.
	// The annotation mcp.dev/wave-timeout of an object extends its wave's.
	WaveTimeout time.Duration
	// RecheckInterval is how soon ApplyAll reconciles a Progressing
	// cluster again.
	RecheckInterval time.Duration
	// Concurrency is how many clusters ApplyAll and DiffAll work on at once.
	Concurrency int
	// ObjectConcurrency is how many objects of one apply step are sent to
	// one cluster at once.
	ObjectConcurrency int
	// PageSize is the page size of the LISTs that read live objects; large,
	// so that thousands of objects cost a few requests.
	PageSize int64
	// NoFastPath always asks the server for a dry-run, even for objects
	// whose applied-hash says they are unchanged. For tests and debugging.
	NoFastPath bool
	// Progress, when set, is called as objects are applied; it may be
	// called from several goroutines at once.
	Progress func(Progress)
}

// DefaultOptions are the options of `mcp apply` without flags.
func DefaultOptions() Options {
	return Options{
		FieldManager:      "mcp",
		Inventory:         InventoryName,
		Prune:             true,
		Timeout:           5 * time.Minute,
		WaveTimeout:       5 * time.Minute,
		RecheckInterval:   2 * time.Second,
		Concurrency:       8,
		ObjectConcurrency: 16,
		PageSize:          1000,
	}
}

// withDefaults fills the zero fields of o from DefaultOptions, so
// that a caller setting only some fields gets sane values for the rest.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.FieldManager == "" {
		o.FieldManager = d.FieldManager
	}
	if o.Inventory == "" {
		o.Inventory = d.Inventory
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.WaveTimeout <= 0 {
		o.WaveTimeout = d.WaveTimeout
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = d.RecheckInterval
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.ObjectConcurrency <= 0 {
		o.ObjectConcurrency = d.ObjectConcurrency
	}
	if o.PageSize <= 0 {
		o.PageSize = d.PageSize
	}
	return o
}

// Progress reports how far the apply of one cluster is.
type Progress struct {
	Cluster string
	// Done and Total count the objects to apply or delete.
	Done, Total int
	// Wave is the wave being applied; Phase is "apply", "prune", "wait"
	// or "awaiting health of" (the wave's objects are not healthy yet).
	Wave  int
	Phase string
}

// Object is one desired object, as render produces it. Compact holds it
// as JSON instead.
type Object struct {
	// Obj is the object as rendered; nil once compact.
	Obj *unstructured.Unstructured
	// Source is where it is declared ("apps/web/deploy.yaml:3"), for messages.
	Source string
	// Placement is the Placement that put it on the cluster.
	Placement string
	// Wave is its mcp.dev/wave, 0 by default.
	Wave int
	// Depth is the dependency depth of its Placement: 0 without
	// spec.dependsOn, else one more than the deepest Placement it depends
	// on. Depths are applied in order before waves, each gated on health.
	Depth int

	*compacted // set by Compact
}

// Target is one cluster and the objects it should hold.
type Target struct {
	// Name is the cluster's name.
	Name string
	// Kubeconfig is the path of its kubeconfig file (already checked to
	// stay inside the credentials directory); Context picks a context in
	// it, "" its current one.
	Kubeconfig string
	Context    string
	// InCluster uses the pod's service account instead of a kubeconfig.
	InCluster bool
	// Config, when set, is used instead of Kubeconfig and InCluster.
	Config *rest.Config
	// Paused clusters are planned, never written.
	Paused bool
	// Objects are the desired objects.
	Objects []Object
	// NoPrune names placements whose objects are never pruned
	// (spec.prune: false).
	NoPrune []string
	// RenderErr is why the desired state could not be rendered; such a
	// cluster is reported, never applied.
	RenderErr error
	// AccessErr is why the cluster may not be reached as it is declared
	// (a kubeconfig outside the credentials directory, in-cluster access
	// not allowed); such a cluster is reported, never reached.
	AccessErr error
}
