package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

// tokenControllers are the controllers of Options.TokenController: the
// token controller fills in service-account-token Secrets (and deletes
// those whose ServiceAccount is gone); the namespace controller empties
// and removes a deleted namespace.
const tokenControllers = "serviceaccount-token-controller,namespace-controller"

// startTokenController starts a kube-controller-manager with only
// tokenControllers and waits until it is healthy.
func (c *Cluster) startTokenController(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.bin, "kube-controller-manager")); err != nil {
		return fmt.Errorf("%w (%s missing)", ErrNoBinaries, filepath.Join(c.bin, "kube-controller-manager"))
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	p, err := c.spawnControllerManager(ports[0], tokenControllers)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.controllers = p
	c.mu.Unlock()
	return c.waitHealthy(ctx, "kube-controller-manager", ports[0])
}

// spawnControllerManager starts kube-controller-manager against c,
// serving on port with the apiserver's certificate and signing
// service-account tokens with its key; controllers ("" for the defaults)
// are the controllers it runs.
func (c *Cluster) spawnControllerManager(port int, controllers string) (*proc, error) {
	caFile := filepath.Join(c.dir, "ca.crt")
	if err := os.WriteFile(caFile, c.pki.caPEM, 0o600); err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + c.pki.certFile,
		"--tls-private-key-file=" + c.pki.keyFile,
		"--service-account-private-key-file=" + c.pki.saKeyFile,
		"--root-ca-file=" + caFile,
		"--leader-elect=false",
		"--v=1",
	}
	if controllers != "" {
		args = append(args, "--controllers="+controllers)
	}
	return c.spawn("kube-controller-manager", args...)
}

// waitHealthy waits until the component name, serving on port with the
// apiserver's certificate (127.0.0.1), answers /healthz, verified against
// the test bed's CA.
func (c *Cluster) waitHealthy(ctx context.Context, name string, port int) error {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.pki.caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	if err := waitReady(ctx, client, url, "", c.logFile(name)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
