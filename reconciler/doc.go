// Package reconciler is the loop of mcp run: it checks the source every
// interval (or when triggered by a webhook or a file change), renders each
// new revision, and hands every cluster it owns its desired state. Each
// cluster has a worker of its own that reconciles it with apply's one
// reconcile (FleetApplier over apply.Pool) when its desired state
// changes, when a drift check is due, when its drift watch sees a hand-made
// change or breaks (the cluster stopped answering: it is then Unreachable
// within seconds), and after a failure with backoff, at most
// UnreachableRetry apart while it is Unreachable; one slow or unreachable
// cluster never delays the others.
//
// The loop decides what only a daemon needs: which revision a cluster is
// at (a cluster that could not be reached or was left Drifted keeps its
// last applied one), retries, the bound on one reconcile, and the status
// it writes to the status Store. What a reconcile does and how its outcome
// is judged is apply's; the rooms around the loop are reconciler/status
// (the Store, files, metrics), reconciler/statusgit (status commits),
// reconciler/server (HTTP) and reconciler/dashboard.
//
//	store, metrics := status.NewStore(), status.NewMetrics()
//	r := reconciler.New(src, reconciler.NewFleetApplier(apply.DefaultOptions(), access), store, metrics, reconciler.DefaultOptions())
//	err := r.Run(ctx) // until ctx is done; every goroutine it started has ended
package reconciler
