// Package membership lets several mcp replicas share one fleet. Each
// replica renews a coordination.k8s.io Lease of its own on the cluster mcp
// runs in; the live leases of a group are its members, and every cluster is
// owned by exactly one live member, chosen by rendezvous (highest random
// weight) hashing. When a replica dies its lease stops being renewed, and
// within the lease duration the survivors take its clusters over; when one
// joins, only the clusters it now wins move to it.
//
// Membership is Kubernetes' own machinery, as for leader election: no
// consensus of mcp's own, no peer-to-peer traffic. It is the reconciler's
// Owns hook:
//
//	m, err := membership.New(clientset.CoordinationV1(), membership.Options{
//		Group: "fleet", Namespace: "mcp-system", Identity: podName,
//		LeaseDuration: 15 * time.Second, RenewInterval: 5 * time.Second,
//	})
//	opts.Owns = m.Owns
//	r := reconciler.New(src, applier, store, metrics, opts)
//	go m.Run(ctx, r.Trigger) // re-dispatch when the members change
//
// Ownership is safe rather than eager: a replica that joins claims nothing
// until the others have had two renew intervals to see it, and a replica that
// cannot renew its lease for a lease duration owns nothing, because the
// others have taken its clusters by then. Liveness is judged by the lease's
// renewTime against the local clock, so replicas' clocks must agree to well
// within the lease duration (NTP does that).
package membership
