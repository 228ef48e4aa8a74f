// Package layering holds the test that keeps mcp's imports to the arrows
// of docs/architecture.md: which package may import which, that render
// and diff import no Kubernetes client, and that test beds stay out of
// production code. It has no code of its own.
package layering
