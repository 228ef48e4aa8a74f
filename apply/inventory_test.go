package apply

import (
	"fmt"
	"strings"
	"testing"

	"mcp.dev/mcp/internal/object"
)

func TestInventoryRoundTrip(t *testing.T) {
	inv := inventory{}
	for _, e := range []entry{
		{Key: object.Key{Kind: "Namespace", Name: "web"}, Version: "v1", Placement: "web"},
		{Key: object.Key{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}, Version: "v1", Placement: "web"},
		{Key: object.Key{Group: "cert-manager.io", Kind: "ClusterIssuer", Name: "le"}, Version: "v1", Placement: ""},
	} {
		inv[e.Key] = e
	}
	got := inventory{}
	for i, s := range encodeInventory(inv) {
		if err := decodeInventory(got, s, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if !got.equal(inv) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, inv)
	}
	if err := decodeInventory(inventory{}, "v1\tConfigMap\n", "x"); err == nil {
		t.Fatal("a short line must be an error")
	}
}

// TestInventorySize: 10,000 objects with long names fit in shards that
// each stay far below the 1 MiB a ConfigMap may hold.
func TestInventorySize(t *testing.T) {
	inv := inventory{}
	for i := range 10000 {
		k := object.Key{Group: "monitoring.coreos.com", Kind: "PrometheusRule", Namespace: "observability-" + strings.Repeat("n", 40),
			Name: fmt.Sprintf("%s-%05d", strings.Repeat("r", 100), i)}
		inv[k] = entry{Key: k, Version: "v1", Placement: strings.Repeat("p", 60)}
	}
	shards := encodeInventory(inv)
	got := inventory{}
	for i, s := range shards {
		if len(s) > shardBytes || len(s) >= 1<<20 {
			t.Errorf("shard %d holds %d bytes", i, len(s))
		}
		if err := decodeInventory(got, s, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(shards) < 2 || !got.equal(inv) {
		t.Fatalf("%d shards, %d of %d entries read back", len(shards), len(got), len(inv))
	}
	if n := len(encodeInventory(inventory{})); n != 1 {
		t.Fatalf("an empty inventory has %d shards, want 1", n)
	}
}
