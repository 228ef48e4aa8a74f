package status

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"mcp.dev/mcp/apply"
)

// Metrics are the Prometheus metrics of SPEC section 4, on a registry of
// their own (with the Go runtime and process collectors) so that tests and
// several reconcilers in one process do not collide.
type Metrics struct {
	Registry *prometheus.Registry

	ReconcileTotal    *prometheus.CounterVec   // cluster, result
	ReconcileDuration *prometheus.HistogramVec // cluster
	ClusterReady      *prometheus.GaugeVec     // cluster
	ClusterUp         *prometheus.GaugeVec     // cluster
	ClusterHealth     *prometheus.GaugeVec     // cluster, health
	ManagedObjects    *prometheus.GaugeVec     // cluster
	DriftedObjects    *prometheus.GaugeVec     // cluster
	SourceFetchTotal  *prometheus.CounterVec   // result
	SourceStale       prometheus.Gauge
	StatusCommits     prometheus.Counter
}

// NewMetrics registers mcp's metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		ReconcileTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_reconcile_total", Help: "Reconciles of a cluster, by result.",
		}, []string{"cluster", "result"}),
		ReconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_reconcile_duration_seconds",
			Help:    "Time one reconcile of a cluster took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12), // 10ms .. ~10min
		}, []string{"cluster"}),
		ClusterReady: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_cluster_ready", Help: "1 when the cluster's last reconcile was Synced, else 0.",
		}, []string{"cluster"}),
		ClusterUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_cluster_up", Help: "0 while the cluster does not answer (its last reconcile was Unreachable), else 1.",
		}, []string{"cluster"}),
		ClusterHealth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_cluster_health", Help: "1 for the health of the cluster's objects at its last reconcile (Healthy, Progressing, Degraded), 0 for the others; none while it is not known.",
		}, []string{"cluster", "health"}),
		ManagedObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_managed_objects", Help: "Objects in the cluster's inventory.",
		}, []string{"cluster"}),
		DriftedObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_drifted_objects", Help: "Objects whose live state differed from the desired state at the last check.",
		}, []string{"cluster"}),
		SourceFetchTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_source_fetch_total", Help: "Checks of the source, by result (unchanged, changed, error).",
		}, []string{"result"}),
		SourceStale: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcp_source_stale", Help: "1 while the last check of the source failed and an older revision is served.",
		}),
		StatusCommits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mcp_status_commits_total", Help: "Status commits pushed.",
		}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.ReconcileTotal, m.ReconcileDuration, m.ClusterReady, m.ClusterUp, m.ClusterHealth, m.ManagedObjects,
		m.DriftedObjects, m.SourceFetchTotal, m.SourceStale, m.StatusCommits,
	)
	return m
}

// Observe records one cluster's reconcile.
func (m *Metrics) Observe(st Cluster, seconds float64) {
	m.ReconcileTotal.WithLabelValues(st.Name, string(st.Result)).Inc()
	m.ReconcileDuration.WithLabelValues(st.Name).Observe(seconds)
	ready := 0.0
	if st.Result == apply.Synced {
		ready = 1
	}
	m.ClusterReady.WithLabelValues(st.Name).Set(ready)
	up := 1.0
	if st.Result == apply.Unreachable {
		up = 0
	}
	m.ClusterUp.WithLabelValues(st.Name).Set(up)
	m.ManagedObjects.WithLabelValues(st.Name).Set(float64(st.Summary.Managed))
	for _, h := range []apply.HealthState{apply.Healthy, apply.HealthProgressing, apply.Degraded} {
		if st.Health == "" {
			m.ClusterHealth.DeleteLabelValues(st.Name, string(h))
			continue
		}
		v := 0.0
		if st.Health == h {
			v = 1
		}
		m.ClusterHealth.WithLabelValues(st.Name, string(h)).Set(v)
	}
	drifted := 0
	for _, o := range st.Objects {
		if o.Drifted {
			drifted++
		}
	}
	m.DriftedObjects.WithLabelValues(st.Name).Set(float64(drifted))
}

// Forget drops every series of a cluster this process no longer reconciles.
func (m *Metrics) Forget(cluster string) {
	labels := prometheus.Labels{"cluster": cluster}
	m.ReconcileTotal.DeletePartialMatch(labels)
	m.ReconcileDuration.DeletePartialMatch(labels)
	m.ClusterReady.DeletePartialMatch(labels)
	m.ClusterUp.DeletePartialMatch(labels)
	m.ClusterHealth.DeletePartialMatch(labels)
	m.ManagedObjects.DeletePartialMatch(labels)
	m.DriftedObjects.DeletePartialMatch(labels)
}
