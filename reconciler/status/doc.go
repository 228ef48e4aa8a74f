// Package status is what mcp run knows and says of each cluster: the
// Store of every cluster's latest status (its result word, revision,
// message, counts and failed or drifted objects) with the labels and last
// plan live views show, the status file of SPEC section 5 in which it is
// written back to git, and the Prometheus metrics of SPEC section 4.
//
// The loop is the Store's only writer; the HTTP server, the dashboard and
// the status writer read it.
//
//	store := status.NewStore()
//	store.Update(status.Cluster{Name: "eu", Result: apply.Synced, Revision: rev})
//	data, _ := status.MarshalFile(store.Snapshot().Clusters[0])
//	<-store.Changed() // closed at the next change
//
// It imports neither the loop nor the HTTP server, so that the dashboard
// and other readers can be built on it alone.
package status
