package apply

import (
	"context"
	"testing"
	"time"
)

// TestDriftWatchOutlivesTheRequestTimeout: the drift watches do not end
// with the client's request timeout and are not reopened over and over.
func TestDriftWatchOutlivesTheRequestTimeout(t *testing.T) {
	cfg, err := RESTConfig(Target{Name: "eu", Kubeconfig: env.Cluster("eu").Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 300 * time.Millisecond
	c := &counter{}
	cfg.Wrap(c.wrap)
	a, err := NewApplier("eu", cfg, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	applyOK(t, a, objects(t, namespace("watchtimeout")+configMaps("watchtimeout", 2)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.WatchDrift(ctx, func() {})
	time.Sleep(500 * time.Millisecond) // the watches are open
	before := c.n.Load()
	time.Sleep(2 * time.Second)
	if n := c.n.Load() - before; n > 0 {
		t.Fatalf("%d requests in 2s of watching: the watches were cut and reopened", n)
	}
}
