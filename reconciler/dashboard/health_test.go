package dashboard

import (
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/reconciler/status"
)

// TestClusterPageListsUnhealthyObjects: a Progressing cluster's page says
// its health with counts and lists each object not healthy yet, with
// kstatus's message and since when, escaped like every value.
func TestClusterPageListsUnhealthyObjects(t *testing.T) {
	s := fixture(t)
	since := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s.Update(status.Cluster{
		Name: "aws-eu", Result: apply.Progressing, Revision: "3f2c1a9e0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", Since: since,
		Message: "wave 1 waits for 1 objects of wave 0 to be healthy",
		Health:  apply.HealthProgressing, HealthCounts: status.HealthCounts{Healthy: 4, Progressing: 1},
		Unhealthy: []status.Unhealthy{{Kind: "Deployment", Namespace: "db", Name: "db", File: "apps/db/deploy.yaml:1",
			Status: "InProgress", Message: "Replicas: 0/1 " + xssScript, Since: since}},
	})
	body := get(t, New(s, DefaultOptions()), "GET", "/clusters/aws-eu").Body.String()
	for _, want := range []string{
		`data-result="Progressing"`, "wave 1 waits",
		`data-health="Progressing"`, "4 healthy · 1 progressing · 0 degraded",
		`id="unhealthy"`, "Deployment db/db", "apps/db/deploy.yaml:1", "InProgress", "Replicas: 0/1 &lt;script&gt;",
		`datetime="2026-11-26T10:00:00Z"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("cluster page lacks %q", want)
		}
	}
	if strings.Contains(body, xssScript) {
		t.Error("cluster page prints a message unescaped")
	}
	if body := get(t, New(s, DefaultOptions()), "GET", "/").Body.String(); !strings.Contains(body, "Progressing") {
		t.Error("the overview does not count the Progressing cluster")
	}
}
