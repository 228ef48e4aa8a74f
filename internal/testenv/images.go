package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
)

// PauseImage is the sandbox image of a NodeCluster's containerd, built by
// BuildImage from hack/image/pause. Images named localhost/... are never
// pulled from anywhere but loopback.
const PauseImage = "localhost/pause:testenv"

// BuildImage writes an image archive at out with the image builder of
// hack/image (go-containerregistry, no Docker engine), named name; args
// are the builder's other flags (-build or -binary, -path, -cmd, -port,
// -env). It returns out.
func BuildImage(ctx context.Context, out, name string, args ...string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", ".", "-o", abs, "-name", name}, args...)...)
	cmd.Dir = filepath.Join(root, "hack", "image")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build image %s: %v\n%s", name, err, b)
	}
	return abs, nil
}

// serviceProxy stands in for kube-proxy for one Service, the kubernetes
// Service in default: pods reach the apiserver at the address the kubelet
// gives them (KUBERNETES_SERVICE_HOST 127.96.0.1, port 443), which the
// apiserver's certificate names.
type serviceProxy struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startServiceProxy(apiserverPort int) (*serviceProxy, error) {
	ln, err := net.Listen("tcp", "127.96.0.1:443")
	if err != nil {
		return nil, fmt.Errorf("proxy for the kubernetes Service: %w", err)
	}
	p := &serviceProxy{ln: ln}
	target := "127.0.0.1:" + strconv.Itoa(apiserverPort)
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go forward(c, target)
		}
	})
	return p, nil
}

func forward(c net.Conn, target string) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

func (p *serviceProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}
