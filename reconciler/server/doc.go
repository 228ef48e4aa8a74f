// Package server is the HTTP surface of mcp run (SPEC section 4): /healthz,
// /readyz, /status and /metrics read the status Store and its metrics,
// POST /webhook asks the loop for a fetch (signed by GitHub or GitLab,
// throttled so that a flood of pushes costs one fetch per interval), and
// the dashboard, when given, is served at /.
//
//	srv := server.New(server.DefaultOptions(), store, metrics, loop.Trigger)
//	err := srv.ListenAndServe(ctx) // until ctx is done, then a graceful shutdown
//
// It knows the loop only as the trigger function it is given.
package server
