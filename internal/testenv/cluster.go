package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// readyTimeout bounds how long a control plane may take to become ready;
// on two busy cores an apiserver needs a few seconds, rarely more than 20.
const readyTimeout = 90 * time.Second

// Cluster is one control plane: an etcd and an apiserver.
type Cluster struct {
	// Name of the cluster, as in the mcp repo.
	Name string
	// URL of the apiserver, https://127.0.0.1:PORT.
	URL string
	// Kubeconfig is the path of its admin kubeconfig.
	Kubeconfig string

	bin, dir string
	pki      *pki
	etcdURL  string
	port     int
	// node: the control plane of a cluster with a node (StartNode).
	node bool

	mu        sync.Mutex
	etcd      *proc
	apiserver *proc
	// controllers is the kube-controller-manager of Options.TokenController.
	controllers *proc
}

// proc is a child process and a channel closed when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (c *Cluster) start(ctx context.Context) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	p, err := writePKI(c.dir)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	c.pki = p
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.port = ports[2]
	c.URL = "https://127.0.0.1:" + strconv.Itoa(c.port)

	c.etcd, err = c.spawn("etcd",
		"--name=default",
		"--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+c.etcdURL,
		"--advertise-client-urls="+c.etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync", // a test bed: durability across power loss does not matter
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, http.DefaultClient, c.etcdURL+"/health", "", c.logFile("etcd")); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	return c.StartAPIServer(ctx)
}

// StartAPIServer starts the cluster's apiserver (again) on its port and
// waits until it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver != nil {
		return errors.New("apiserver already running")
	}
	args := []string{
		"--etcd-servers=" + c.etcdURL,
		"--cert-dir=" + filepath.Join(c.dir, "certs"),
		"--tls-cert-file=" + c.pki.certFile,
		"--tls-private-key-file=" + c.pki.keyFile,
		"--secure-port=" + strconv.Itoa(c.port),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + c.pki.saKeyFile,
		"--service-account-signing-key-file=" + c.pki.saKeyFile,
		"--token-auth-file=" + c.pki.tokenFile,
		"--authorization-mode=RBAC",
		// Only loopback may be dialled here: webhooks and APIServices in test
		// manifests must resolve to 127.96.0.x ("no endpoints available")
		// instead of a private-range address.
		"--service-cluster-ip-range=127.96.0.0/24",
		"--enable-aggregator-routing=true",
		"--v=0",
	}
	if c.node {
		// Pods get service account tokens; the kubelet is reached at the
		// node's only address, 127.0.0.1, never at a host name.
		args = append(args, "--kubelet-preferred-address-types=InternalIP")
	} else {
		args = append(args, "--disable-admission-plugins=ServiceAccount")
	}
	cmd, err := c.spawn("kube-apiserver", args...)
	if err != nil {
		return err
	}
	c.apiserver = cmd
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.pki.caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if err := waitReady(ctx, client, c.URL+"/readyz", c.pki.adminToken, c.logFile("kube-apiserver")); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	return nil
}

// StopAPIServer stops the apiserver, leaving etcd running: the cluster is
// unreachable until StartAPIServer.
func (c *Cluster) StopAPIServer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	stop(c.apiserver)
	c.apiserver = nil
}

func (c *Cluster) stopAll() {
	c.mu.Lock()
	stop(c.controllers)
	c.controllers = nil
	c.mu.Unlock()
	c.StopAPIServer()
	c.mu.Lock()
	defer c.mu.Unlock()
	stop(c.etcd)
	c.etcd = nil
}

func (c *Cluster) logFile(name string) string { return filepath.Join(c.dir, name+".log") }

// spawn starts one binary of bin/ with its output appended to its log file.
func (c *Cluster) spawn(name string, args ...string) (*proc, error) {
	return c.spawnPath(name, filepath.Join(c.bin, name), args...)
}

// spawnPath starts the binary at path as spawn does, logging as name.
func (c *Cluster) spawnPath(name, path string, args ...string) (*proc, error) {
	log, err := os.OpenFile(c.logFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	// If the test binary dies without cleaning up, take the child with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// stop ends a process it started: SIGTERM, then SIGKILL after a grace time.
func stop(p *proc) {
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady polls url until it answers 200, or fails with the tail of the
// process's log.
func waitReady(ctx context.Context, client *http.Client, url, token, logFile string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w\n%s", readyTimeout, last, tail(logFile))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tail returns the last lines of a log file, for errors.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(bytes.TrimSpace(data))
}

// freePorts asks the kernel for n free loopback ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
