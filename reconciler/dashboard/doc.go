// Package dashboard is the read-only web view of mcp run: a fleet overview
// (every cluster with its labels, result, revision, since when and object
// counts, and the source with its last fetch) and a page per cluster with
// its failed objects and its last plan, the same field-level diff as
// mcp diff, Secret values masked.
//
// Pages are rendered on the server with html/template, so every value is
// escaped. The one script, like the stylesheet, is embedded in the binary:
// it listens to /events (server-sent events, one per change of the
// status Store) and fetches the page again, so the view follows the
// fleet without a reload. Answers carry a Content-Security-Policy that
// allows no inline script or style and no other origin. Nothing here
// changes anything: every route is GET, anything else is 405.
//
// Serve it at "/" of mcp's HTTP server:
//
//	store := status.NewStore()
//	srv := server.New(server.Options{
//		Listen:    ":8080",
//		Dashboard: dashboard.New(store, dashboard.DefaultOptions()),
//	}, store, metrics, r.Trigger)
//
// The package reads reconciler/status only; neither the loop nor the
// status package imports it.
package dashboard
