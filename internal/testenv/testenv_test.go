package testenv

import (
	"errors"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var env *Env

func TestMain(m *testing.M) {
	// The helper of TestNodeSweptAfterAKilledRun needs no control planes.
	if os.Getenv("MCP_TESTENV_NODE_HELPER") != "" {
		os.Exit(m.Run())
	}
	Main(m, &env, Options{Clusters: []string{"eu", "us"}})
}

// TestServerSideApplyToTwoClusters applies a ConfigMap to each cluster
// through its kubeconfig file and reads it back: the clusters are separate.
func TestServerSideApplyToTwoClusters(t *testing.T) {
	ctx := t.Context()
	for _, c := range env.Clusters {
		cs := clientFromKubeconfig(t, c.Kubeconfig)
		cm := corev1ac.ConfigMap("hello", "default").WithData(map[string]string{"cluster": c.Name})
		if _, err := cs.CoreV1().ConfigMaps("default").Apply(ctx, cm, metav1.ApplyOptions{FieldManager: "mcp", Force: true}); err != nil {
			t.Fatalf("%s: apply: %v", c.Name, err)
		}
	}
	for _, c := range env.Clusters {
		got, err := clientFromKubeconfig(t, c.Kubeconfig).CoreV1().ConfigMaps("default").Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: get: %v", c.Name, err)
		}
		if got.Data["cluster"] != c.Name {
			t.Errorf("%s: data.cluster = %q: clusters share state", c.Name, got.Data["cluster"])
		}
		if !managedBy(got, "mcp") {
			t.Errorf("%s: field manager mcp not recorded: %v", c.Name, got.ManagedFields)
		}
	}
}

// TestAPIServerRestart stops one apiserver and starts it again: the data
// in its etcd survives, and the other cluster never notices.
func TestAPIServerRestart(t *testing.T) {
	ctx := t.Context()
	eu, us := env.Cluster("eu"), env.Cluster("us")
	cs := clientFromKubeconfig(t, eu.Kubeconfig)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "survives"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eu.StopAPIServer()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "survives", metav1.GetOptions{}); err == nil {
		t.Fatal("stopped apiserver still answers")
	}
	if _, err := clientFromKubeconfig(t, us.Kubeconfig).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("other cluster affected: %v", err)
	}
	if err := eu.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "survives", metav1.GetOptions{}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestMissingBinariesSayWhatToRun(t *testing.T) {
	_, err := Start(t.Context(), Options{BinDir: t.TempDir()})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("got %v, want ErrNoBinaries", err)
	}
}

func clientFromKubeconfig(t *testing.T, path string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func managedBy(cm *corev1.ConfigMap, manager string) bool {
	for _, f := range cm.ManagedFields {
		if f.Manager == manager && f.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}
