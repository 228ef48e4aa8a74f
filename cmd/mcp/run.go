package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/reconciler"
	"mcp.dev/mcp/reconciler/dashboard"
	"mcp.dev/mcp/reconciler/server"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/git"
)

// runOptions are the flags of mcp run beyond the source and cluster ones.
type runOptions struct {
	interval           time.Duration
	driftInterval      time.Duration
	reconcileTimeout   time.Duration
	waveTimeout        time.Duration
	listen             string
	statusBranch       string
	statusPath         string
	statusAuthor       string
	noStatus           bool
	dryRun             bool
	prune              bool
	allowMassPrune     bool
	webhookSecretFile  string
	webhookInsecure    bool
	webhookMinInterval time.Duration
	replicas           replicaOptions
	dashboard          bool
}

func newRunCmd() *cobra.Command {
	var (
		src      sourceOptions
		clusters clusterOptions
		o        runOptions
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the reconciler: poll, render, diff, apply, write status, serve HTTP",
		Long: `run is the daemon. It checks the source every --interval (cheaply: the remote
head is asked for and fetched only when it moved; with --dir the directory is
watched), renders each new revision, and reconciles every cluster on a worker
of its own: diff, apply, prune, status. Clusters are re-checked for drift
every --drift-interval. With --repo, outcomes are committed to
--status-branch; the read-only dashboard (/), /status, /metrics, /healthz
and /readyz are served on --listen, and POST /webhook (signed with
--webhook-secret-file) triggers a fetch. SIGTERM stops it cleanly.

With --replicas-lease, several replicas share the fleet through Leases on
the cluster they run in: each cluster is reconciled by one live replica,
and a dead replica's clusters move to the others within --lease-duration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), cmd.OutOrStdout(), &src, &clusters, &o)
		},
	}
	fs := cmd.Flags()
	src.addFlags(fs)
	clusters.addFlags(fs)
	clusters.addConnectFlags(fs)
	def := reconciler.DefaultOptions()
	fs.DurationVar(&o.interval, "interval", def.Interval, "how often the source is checked")
	fs.DurationVar(&o.driftInterval, "drift-interval", def.DriftInterval, "how often an unchanged cluster is re-checked for drift")
	fs.DurationVar(&o.reconcileTimeout, "reconcile-timeout", def.ReconcileTimeout, "bound on one reconcile of one cluster; a cluster that takes longer is retried with backoff (0: no bound)")
	fs.DurationVar(&o.waveTimeout, "wave-timeout", apply.DefaultOptions().WaveTimeout, "how long the objects of a wave may take to become healthy before the cluster fails (the annotation mcp.dev/wave-timeout extends it for one wave); the waves after it wait, the cluster is Progressing meanwhile")
	fs.StringVar(&o.listen, "listen", ":8080", "address of the HTTP server")
	fs.StringVar(&o.statusBranch, "status-branch", git.DefaultStatusOptions().Branch, "branch the status files are committed to (created as an orphan branch if missing)")
	fs.StringVar(&o.statusPath, "status-path", def.StatusPath, "directory of the status files on the status branch")
	fs.StringVar(&o.statusAuthor, "status-author", "mcp <mcp@localhost>", "author of status commits")
	fs.BoolVar(&o.noStatus, "no-status", false, "do not commit status files")
	fs.BoolVar(&o.dryRun, "dry-run", false, "never write to clusters: diff and report only")
	fs.BoolVar(&o.prune, "prune", true, "delete objects mcp applied that are no longer desired")
	fs.BoolVar(&o.allowMassPrune, "allow-mass-prune", false, "let a reconcile delete more than half of a cluster's managed objects")
	o.replicas.addFlags(fs)
	srvDef := server.DefaultOptions()
	fs.StringVar(&o.webhookSecretFile, "webhook-secret-file", "", "file holding the secret that must sign POST /webhook (GitHub X-Hub-Signature-256 or GitLab X-Gitlab-Token); without it (or --webhook-insecure) /webhook answers 404")
	fs.BoolVar(&o.webhookInsecure, "webhook-insecure", false, "serve POST /webhook without --webhook-secret-file: anyone who reaches --listen may trigger fetches")
	fs.DurationVar(&o.webhookMinInterval, "webhook-min-interval", srvDef.WebhookMinInterval, "least time between two fetches triggered by POST /webhook; pushes in between are merged into one fetch")
	fs.BoolVar(&o.dashboard, "dashboard", true, "serve the read-only dashboard at / on --listen")
	return cmd
}

func runDaemon(ctx context.Context, stdout io.Writer, src *sourceOptions, clusters *clusterOptions, o *runOptions) error {
	// The status path is a directory on the status branch: clean and local,
	// so that the reconciler and the git writer see the same path.
	statusPath := path.Clean(o.statusPath)
	if !filepath.IsLocal(statusPath) || statusPath == "." {
		return fmt.Errorf("--status-path %q: want a directory inside the repo, like \"status\"", o.statusPath)
	}
	o.statusPath = statusPath
	access, err := clusters.access()
	if err != nil {
		return err
	}
	s, err := src.open(ctx)
	if err != nil {
		return err
	}
	opts := reconciler.DefaultOptions()
	opts.Interval, opts.DriftInterval = o.interval, o.driftInterval
	opts.ReconcileTimeout = o.reconcileTimeout
	opts.Concurrency = clusters.concurrency
	opts.StatusPath = o.statusPath
	if opts.Render, err = clusters.renderOptions(); err != nil {
		return err
	}
	opts.Render.ChartCache = chartCacheDir(src)
	// Charts render for what each cluster reports, asked again at a new
	// revision at most this often.
	opts.Capabilities = (&capabilities{access: access, ttl: 10 * time.Minute}).of

	if gs, ok := s.(*git.Source); ok && !o.noStatus {
		sw, err := statusWriter(gs, o)
		if err != nil {
			return err
		}
		opts.Status = sw
	}
	if src.dir != "" {
		// Local work: show each plan and result as it happens.
		opts.Report = reporter(stdout)
	}

	if o.webhookMinInterval <= 0 {
		return fmt.Errorf("--webhook-min-interval %s: want a positive duration", o.webhookMinInterval)
	}
	var secret []byte
	if o.webhookSecretFile != "" {
		data, err := os.ReadFile(o.webhookSecretFile)
		if err != nil {
			return fmt.Errorf("--webhook-secret-file: %w", err)
		}
		if secret = []byte(strings.TrimSpace(string(data))); len(secret) == 0 {
			return fmt.Errorf("--webhook-secret-file %s is empty", o.webhookSecretFile)
		}
	}

	// Several replicas share the fleet: each reconciles the clusters it owns.
	members, err := o.replicas.membership()
	if err != nil {
		return err
	}
	if members != nil {
		opts.Owns = members.Owns
	}

	applyOpts := apply.DefaultOptions()
	applyOpts.Prune, applyOpts.AllowMassPrune = o.prune, o.allowMassPrune
	applyOpts.DryRun = o.dryRun
	if o.waveTimeout <= 0 {
		return fmt.Errorf("--wave-timeout %s: want a positive duration", o.waveTimeout)
	}
	applyOpts.WaveTimeout = o.waveTimeout
	store, metrics := status.NewStore(), status.NewMetrics()
	store.SetSource(sourceInfo(s, src))
	r := reconciler.New(fetchingCharts(s, opts.Render.ChartCache, clusters.credentialsDir), reconciler.NewFleetApplier(applyOpts, access), store, metrics, opts)
	srvOpts := server.DefaultOptions()
	srvOpts.Listen, srvOpts.WebhookSecret = o.listen, secret
	srvOpts.WebhookInsecure, srvOpts.WebhookMinInterval = o.webhookInsecure, o.webhookMinInterval
	if secret == nil && !o.webhookInsecure {
		slog.Info("POST /webhook is off: give --webhook-secret-file to turn it on")
	}
	if o.dashboard {
		srvOpts.Dashboard = dashboard.New(store, dashboard.DefaultOptions())
	}
	srv := server.New(srvOpts, store, metrics, r.Trigger)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if members != nil {
		registerMembershipMetrics(metrics.Registry, members)
		done := runMembership(ctx, members, r.Trigger)
		defer func() { cancel(); <-done }() // the lease is deleted before exit
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.ListenAndServe(ctx) }()
	slog.Info("mcp run started", "source", fmt.Sprint(s), "listen", o.listen, "interval", o.interval, "dry_run", o.dryRun)

	loopErr := make(chan error, 1)
	go func() { loopErr <- r.Run(ctx) }()
	select {
	case err := <-httpErr:
		if ctx.Err() == nil {
			// The server failed on its own (the port is taken, say).
			cancel()
			<-loopErr
			return fmt.Errorf("http server on %s: %w", o.listen, err)
		}
		err = <-loopErr
		slog.Info("mcp run stopped")
		return err
	case err := <-loopErr:
		cancel()
		<-httpErr
		slog.Info("mcp run stopped")
		return err
	}
}

// statusWriter is the git status writer of the flags.
func statusWriter(gs *git.Source, o *runOptions) (*git.StatusWriter, error) {
	author, err := mail.ParseAddress(o.statusAuthor)
	if err != nil {
		return nil, fmt.Errorf("--status-author %q: want \"Name <email>\": %w", o.statusAuthor, err)
	}
	opts := git.DefaultStatusOptions()
	opts.Branch, opts.Path = o.statusBranch, o.statusPath
	opts.AuthorName, opts.AuthorEmail = author.Name, author.Address
	return gs.StatusWriter(opts), nil
}

// reporter prints each cluster's plan and result, one block at a time.
func reporter(w io.Writer) func(status.Cluster, *diff.ClusterPlan) {
	var mu sync.Mutex
	color := isTerminal(w)
	return func(st status.Cluster, plan *diff.ClusterPlan) {
		mu.Lock()
		defer mu.Unlock()
		if plan != nil && plan.HasChanges() {
			diff.WriteText(w, diff.Plan{Clusters: []diff.ClusterPlan{*plan}}, diff.TextOptions{Color: color})
		}
		line := fmt.Sprintf("%s: %s (managed %d, created %d, updated %d, deleted %d, failed %d)",
			st.Name, st.Result, st.Summary.Managed, st.Summary.Created, st.Summary.Updated, st.Summary.Deleted, st.Summary.Failed)
		if st.Message != "" {
			line += ": " + st.Message
		}
		fmt.Fprintln(w, line)
		for _, o := range st.Objects {
			fmt.Fprintf(w, "  %s %s/%s: %s\n", o.Kind, o.Namespace, o.Name, o.Error)
		}
	}
}

// sourceInfo is what the dashboard shows of the source: the URL only in
// its redacted form, never with a password.
func sourceInfo(s source.Source, o *sourceOptions) status.SourceInfo {
	if gs, ok := s.(*git.Source); ok {
		info := status.SourceInfo{URL: gs.Redacted(), Ref: o.ref}
		if o.ref == "" {
			info.Branch = o.branch
		}
		return info
	}
	return status.SourceInfo{URL: fmt.Sprint(s)}
}
