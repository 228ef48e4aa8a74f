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
// tokenControllers, signing with the apiserver's service-account key, and
// waits until it is healthy.
func (c *Cluster) startTokenController(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.bin, "kube-controller-manager")); err != nil {
		return fmt.Errorf("%w (%s missing)", ErrNoBinaries, filepath.Join(c.bin, "kube-controller-manager"))
	}
	caFile := filepath.Join(c.dir, "ca.crt")
	if err := os.WriteFile(caFile, c.pki.caPEM, 0o600); err != nil {
		return err
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	p, err := c.spawn("kube-controller-manager",
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig,
		"--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[0]),
		"--tls-cert-file="+c.pki.certFile,
		"--tls-private-key-file="+c.pki.keyFile,
		"--service-account-private-key-file="+c.pki.saKeyFile,
		"--root-ca-file="+caFile,
		"--controllers="+tokenControllers,
		"--leader-elect=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.controllers = p
	c.mu.Unlock()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.pki.caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	url := "https://127.0.0.1:" + strconv.Itoa(ports[0]) + "/healthz"
	if err := waitReady(ctx, client, url, "", c.logFile("kube-controller-manager")); err != nil {
		return fmt.Errorf("kube-controller-manager: %w", err)
	}
	return nil
}
