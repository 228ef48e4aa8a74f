// Package apply owns what mcp does to clusters: it reads what each
// cluster holds, works out what applying the desired objects would change
// (a diff.ClusterPlan), applies them with server-side apply in SPEC order,
// keeps an inventory of what mcp applied on the cluster itself, prunes
// what is no longer desired, waits for health, and does all this for many
// clusters at once.
//
//	results := apply.ApplyAll(ctx, targets, apply.DefaultOptions())
//	for _, r := range results {
//		fmt.Println(r.Cluster, r.Status, r.Message, r.Created, r.Updated, r.Deleted)
//	}
//
// Every command reconciles a cluster the one way Pool.Reconcile does
// (ApplyAll with a Pool of its own, mcp run with one kept between rounds):
// a cluster that did not render or may not be reached is reported without
// being touched, a paused cluster or a dry run is planned only, and
// Classify judges the outcome (Synced, Progressing, Drifted, Paused,
// Failed, Unreachable) and says why.
//
// Waves wait for health (waves.go): the objects of a wave, and those of
// Placements of a greater dependency depth (Object.Depth), are applied
// only once every object before them is healthy (healthOf: kstatus
// Current, a Job Complete). A reconcile never waits in place: it stops at
// the first wave that is not healthy yet and ends Progressing, and the
// caller reconciles again soon (Pool.Settle, or mcp run's worker); after
// Options.WaveTimeout the cluster is Failed. Result.Health is kstatus over
// every desired object, read from the copies the reconcile holds.
//
//	pool := apply.NewPool(apply.DefaultOptions())
//	r := pool.Reconcile(ctx, target) // r.Status, r.Message
//
// or, for one cluster, in two steps with the plan in between:
//
//	cfg, _ := apply.RESTConfig(apply.Target{Name: "eu", Kubeconfig: "/etc/mcp/clusters/eu"})
//	a, _ := apply.NewApplier("eu", cfg, apply.DefaultOptions())
//	plan, err := a.Plan(ctx, objects, nil)      // no writes
//	diff.WriteText(os.Stdout, diff.Plan{Clusters: []diff.ClusterPlan{plan.Changes}}, diff.TextOptions{})
//	result := a.Apply(ctx, plan)
//
// Scale: a reconcile that changes nothing costs a few requests per kind,
// not per object. Live objects are read with one paginated LIST per kind
// (label app.kubernetes.io/managed-by=mcp). Every applied object carries
// the annotation mcp.dev/applied-hash, a hash of the desired object; an
// object whose live copy has today's hash and still holds every desired
// field with an equal value is unchanged without a request. Only the
// others are sent as a server-side dry-run, whose answer is compared with
// the live object by diff.Compare, so server defaults never show as
// changes.
//
// Decisions are pure functions of the facts gathered; the I/O around
// them only gathers facts and carries out what they decided. A plan
// classifies each object (classifyItems: unchanged by the fast path, new,
// a dry-run, an adoption, or, for an object only in the inventory, a
// delete, an orphan, gone, or kept because pruning is off), asks the
// server for a dry-run of those that need one, and settles each with the
// answer (classify.go). Apply records inventoryBefore, applies and prunes,
// records inventoryAfter (nextinventory.go), and tallies the outcomes
// into the Result's counts (tally.go).
//
// Memory: a plan holds each desired object once (never deep-copied: a
// namespace or hash is set on a copy of the top level and metadata,
// object.WithMetadata) and as little of each live object as it reads. A
// LIST is decoded item by item as it streams in, without managedFields
// (listdecode.go); an object the fast path finds unchanged is kept as a
// few metadata fields and its health verdict, judged from the whole
// object (slim.go). A change carries no copy of its objects, and an
// apply's answer is kept as its health verdict only.
//
// Safety: prune deletes only objects listed in the inventory (ConfigMaps
// in namespace mcp-system), never anything else, and refuses a mass prune
// (ErrMassPrune) or a prune of everything because nothing is desired
// (ErrEmptyDesired). A Namespace that still holds objects the prune does
// not delete is kept (diff.Keep, see keepns.go), since deleting it would
// delete them. A desired object that exists but that mcp never applied is
// planned as diff.Adopt, so that taking it over is never silent.
//
// Immutable fields: a change the server's dry-run refuses because it
// touches fields that cannot change once set is planned as diff.Replace
// (delete, wait until gone, create) for Jobs and objects annotated
// mcp.dev/replace: on-immutable, else it is an ImmutableError of the
// object that names the fields and the annotation (replace.go).
package apply
