package apply

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestInventoryNamespaceNeverPruned: a repo that once declared mcp-system
// (mcp deploying itself) and then dropped it does not make mcp delete the
// namespace that holds its inventory.
func TestInventoryNamespaceNeverPruned(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "eu", testOptions(t))
	applyOK(t, a, objects(t, namespace(InventoryNamespace)+namespace("selfhost")+configMaps("selfhost", 1)))
	r := applyOK(t, a, objects(t, namespace("selfhost")+configMaps("selfhost", 1)))
	if r.Deleted != 0 {
		t.Fatalf("deleted %d objects, want 0 (mcp-system is not pruned)", r.Deleted)
	}
	ns, err := clientset(t, "eu").CoreV1().Namespaces().Get(ctx, InventoryNamespace, metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil {
		t.Fatalf("inventory namespace: %v, deleting since %v", err, ns.DeletionTimestamp)
	}
}

// TestInventoryNamespaceRecreated: the inventory namespace deleted by hand
// under a long-lived Applier is made again at the next apply.
func TestInventoryNamespaceRecreated(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	a, _ := newApplier(t, "us", opts)
	applyOK(t, a, objects(t, namespace("recreate")+configMaps("recreate", 2)))

	// No namespace controller runs in the test bed: finalize by hand so
	// that the namespace is really gone.
	cs := clientset(t, "us")
	if err := cs.CoreV1().Namespaces().Delete(ctx, InventoryNamespace, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, InventoryNamespace, metav1.GetOptions{})
	if err == nil {
		ns.Spec.Finalizers = nil
		if _, err := cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, InventoryNamespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s not gone: %v", InventoryNamespace, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	applyOK(t, a, objects(t, namespace("recreate")+configMaps("recreate", 3)))
	if _, err := cs.CoreV1().Namespaces().Get(ctx, InventoryNamespace, metav1.GetOptions{}); err != nil {
		t.Fatalf("inventory namespace not made again: %v", err)
	}
	b, _ := newApplier(t, "us", opts)
	requireUnchanged(t, plan(t, b, objects(t, namespace("recreate")+configMaps("recreate", 3))))
}

func clientset(t *testing.T, cluster string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Cluster(cluster).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
