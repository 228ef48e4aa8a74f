package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrNoBinaries means `make testenv` has not built the control plane yet.
var ErrNoBinaries = errors.New("kube-apiserver or etcd not built: run make testenv")

// Options say which control planes to start.
type Options struct {
	// Clusters names one control plane each; the names become the
	// kubeconfig file names. Default: one cluster named "test".
	Clusters []string
	// BinDir holds kube-apiserver and etcd. Default: $MCP_TESTENV_BIN, or
	// bin/ at the root of the mcp module above the working directory.
	BinDir string
	// TokenController starts kube-controller-manager (of BinDir) beside
	// each apiserver with only the controllers that fill in the tokens of
	// kubernetes.io/service-account-token Secrets and finish the deletion
	// of namespaces; no kubelet, no scheduler.
	TokenController bool
}

// Env is a set of running control planes.
type Env struct {
	// Clusters in the order of Options.Clusters.
	Clusters []*Cluster
	// KubeconfigDir holds one kubeconfig per cluster, named by cluster.
	KubeconfigDir string

	dir string
}

// Start starts every cluster of opts concurrently and waits until each
// apiserver is ready. On error, whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if len(opts.Clusters) == 0 {
		opts.Clusters = []string{"test"}
	}
	bin, err := binDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mcp-testenv-")
	if err != nil {
		return nil, err
	}
	env := &Env{dir: dir, KubeconfigDir: filepath.Join(dir, "kubeconfigs")}
	if err := os.Mkdir(env.KubeconfigDir, 0o700); err != nil {
		return nil, err
	}
	env.Clusters = make([]*Cluster, len(opts.Clusters))
	errs := make([]error, len(opts.Clusters))
	var wg sync.WaitGroup
	for i, name := range opts.Clusters {
		wg.Go(func() {
			c := &Cluster{Name: name, bin: bin, dir: filepath.Join(dir, name)}
			env.Clusters[i] = c
			if errs[i] = c.start(ctx); errs[i] != nil {
				errs[i] = fmt.Errorf("cluster %s: %w", name, errs[i])
				return
			}
			if errs[i] = c.writeKubeconfig(filepath.Join(env.KubeconfigDir, name)); errs[i] != nil {
				return
			}
			if opts.TokenController {
				if errs[i] = c.startTokenController(ctx); errs[i] != nil {
					errs[i] = fmt.Errorf("cluster %s: %w", name, errs[i])
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		env.Stop()
		return nil, err
	}
	return env, nil
}

// Cluster returns the cluster of that name, or nil.
func (e *Env) Cluster(name string) *Cluster {
	for _, c := range e.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Stop stops every process it started and removes its files.
func (e *Env) Stop() {
	var wg sync.WaitGroup
	for _, c := range e.Clusters {
		if c != nil {
			wg.Go(c.stopAll)
		}
	}
	wg.Wait()
	os.RemoveAll(e.dir)
}

// RESTConfig is an admin client config for the cluster.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.URL,
		BearerToken:     c.pki.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM},
		QPS:             -1, // the test bed has no client-side rate limit
	}
}

// writeKubeconfig writes the kubeconfig kubectl and mcp use for c.
func (c *Cluster) writeKubeconfig(path string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.pki.caPEM}
	cfg.AuthInfos[c.Name] = &clientcmdapi.AuthInfo{Token: c.pki.adminToken}
	cfg.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: c.Name}
	cfg.CurrentContext = c.Name
	c.Kubeconfig = path
	return clientcmd.WriteToFile(*cfg, path)
}

// binDir finds the directory holding the control plane binaries.
func binDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("MCP_TESTENV_BIN")
	}
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%w (%s missing)", ErrNoBinaries, filepath.Join(dir, name))
		}
	}
	return dir, nil
}

// moduleRoot walks up from the working directory to mcp's go.mod; tests
// run in their package's directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isMCPModule(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("mcp module root not found above the working directory: %w", ErrNoBinaries)
		}
		dir = parent
	}
}

func isMCPModule(gomod []byte) bool {
	const want = "module mcp.dev/mcp\n"
	return len(gomod) >= len(want) && string(gomod[:len(want)]) == want
}

// Main is the TestMain of a package that needs control planes: it starts
// those of opts into *env, runs the tests, stops them and exits.
//
//	func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{Clusters: []string{"eu"}}) }
func Main(m *testing.M, env **Env, opts Options) {
	e, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	e.Stop()
	os.Exit(code)
}

// BuildMCP builds the mcp binary into a temporary directory of the test,
// for tests that run mcp as a process of its own (signals, several
// replicas).
func BuildMCP(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mcp")
	out, err := exec.Command("go", "build", "-o", bin, "mcp.dev/mcp/cmd/mcp").CombinedOutput()
	if err != nil {
		t.Fatalf("go build mcp: %v\n%s", err, out)
	}
	return bin
}
