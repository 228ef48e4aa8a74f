// Package statusgit is the loop of mcp run that writes the status files of
// SPEC section 5 back to git: it waits until a round of reconciles is
// over (or maxHold), commits the files of every cluster whose record
// changed (status.SameRecord: result, revision, failed or drifted objects;
// not the text of messages) in one commit, retries a rejected push with backoff, and
// writes what is pending once more on shutdown. A restarted mcp reads
// the branch first and does not rewrite a file that says the same.
//
//	loop := statusgit.New(gitSource.StatusWriter(opts), "status", store, metrics, 5*time.Minute)
//	go loop.Run(ctx, idle)  // idle: no cluster is being reconciled
//	loop.Mark("eu")         // eu's status changed in store
//
// It reads the status Store; the loop that reconciles marks clusters.
package statusgit
