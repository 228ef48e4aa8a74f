package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"mcp.dev/mcp/internal/testenv"
)

// TestApplyRefusesBadInput runs mcp apply on repos where one placement,
// selecting only cluster eu, holds bad input: eu gets nothing at all (not
// even the good placement's objects), us is applied, and the error names
// the file and the cluster.
func TestApplyRefusesBadInput(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu", "us"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\n"), 0o644)
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\n"
	tests := map[string]struct {
		files map[string]string
		link  [2]string // symlink target, link path in the repo
		euKC  string    // kubeconfig path of eu, default its name
		want  string
	}{
		"alias bomb":    {files: map[string]string{"bad/a.yaml": cm + "data:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"}, want: "bad/a.yaml"},
		"duplicate key": {files: map[string]string{"bad/a.yaml": cm + "data:\n  k: x\n  k: y\n"}, want: "bad/a.yaml:6"},
		"binary file":   {files: map[string]string{"bad/a.yaml": "\x00\x01binary"}, want: "bad/a.yaml"},
		"invalid UTF-8": {files: map[string]string{"bad/a.yaml": cm + "data: {k: \"\xff\xfe\"}\n"}, want: "bad/a.yaml"},
		"symlink out":   {files: map[string]string{"bad/ok.yaml": cm}, link: [2]string{filepath.Join(outside, "cm.yaml"), "bad/link.yaml"}, want: "bad/link.yaml"},
		"kustomize resource out of the repo": {
			files: map[string]string{"bad/kustomization.yaml": "resources: [" + filepath.Join(outside, "cm.yaml") + "]\n"}, want: "bad/kustomization.yaml",
		},
		"kubeconfig path out of the credentials dir": {files: map[string]string{"bad/ok.yaml": cm}, euKC: "../../etc/passwd", want: "../../etc/passwd"},
	}
	eu, us := clients(t, env, "eu"), clients(t, env, "us")
	i := 0
	for name, tc := range tests {
		i++
		ns := "bad-input-" + string(rune('a'+i))
		t.Run(name, func(t *testing.T) {
			repo := t.TempDir()
			kc := "eu"
			if tc.euKC != "" {
				kc = tc.euKC
			}
			files := map[string]string{
				"fleet.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu, labels: {bad: \"yes\"}}\nspec: {kubeconfig: {path: \"" + kc + "\"}}\n---\n" +
					"apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: us}\n---\n" +
					"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: good}\nspec: {path: good, clusterSelector: {}, namespace: " + ns + "}\n---\n" +
					"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: bad}\nspec: {path: bad, clusterSelector: {matchLabels: {bad: \"yes\"}}, namespace: " + ns + "}\n",
				"good/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n",
			}
			for k, v := range tc.files {
				files[k] = v
			}
			for p, content := range files {
				full := filepath.Join(repo, p)
				os.MkdirAll(filepath.Dir(full), 0o755)
				if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.link[0] != "" {
				if err := os.Symlink(tc.link[0], filepath.Join(repo, tc.link[1])); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errOut := mcp(t, "apply", "--dir", repo, "--credentials-dir", env.KubeconfigDir)
			if code != exitError {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, exitError, out, errOut)
			}
			line := ""
			for l := range strings.SplitSeq(errOut, "\n") {
				if strings.Contains(l, tc.want) && strings.Contains(l, "eu") {
					line = l
				}
			}
			if line == "" {
				t.Errorf("no error line names %q and cluster eu:\n%s", tc.want, errOut)
			}
			if _, err := eu.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("eu: namespace %s: %v; want nothing applied", ns, err)
			}
			if _, err := us.CoreV1().ConfigMaps(ns).Get(context.Background(), "good", metav1.GetOptions{}); err != nil {
				t.Errorf("us was not applied: %v", err)
			}
		})
	}
}

func clients(t *testing.T, env *testenv.Env, name string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Cluster(name).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
