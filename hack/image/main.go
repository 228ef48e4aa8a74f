// Command image writes a container image without a Docker engine: one
// static binary, a nonroot user (65532, as in distroless), the CA
// certificates of the machine it runs on, and a config with the entrypoint,
// user, ports and environment. The result is an OCI image layout in a tar
// archive, which `ctr images import` and `docker load` read.
//
//	go run . -o mcp.tar -name localhost/mcp:dev -binary ../../bin/mcp -path /mcp -cmd run -port 8080 -env MCP_CACHE_DIR=/var/cache/mcp
//	go run . -o pause.tar -name localhost/pause:testenv -build ./pause -path /pause
//
// It is what `make image-tar` runs, and what the end-to-end tests load into
// the test bed's node.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The nonroot user and group of distroless images.
const nonroot = 65532

// caFile is where Debian (and distroless) keep the CA bundle.
const caFile = "/etc/ssl/certs/ca-certificates.crt"

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var o options
	flag.StringVar(&o.out, "o", "", "the image archive to write")
	flag.StringVar(&o.name, "name", "", "the image's name, e.g. localhost/mcp:dev")
	flag.StringVar(&o.binary, "binary", "", "the static binary to pack")
	flag.StringVar(&o.build, "build", "", "a package of this module to build (CGO_ENABLED=0) and pack instead of -binary")
	flag.StringVar(&o.path, "path", "", "the binary's path in the image; it is the entrypoint")
	flag.Var(&o.cmd, "cmd", "an argument of the image's CMD (repeated)")
	flag.Var(&o.ports, "port", "a port the image exposes, e.g. 8080 (repeated)")
	flag.Var(&o.env, "env", "NAME=value in the image's environment (repeated)")
	flag.Var(&o.labels, "label", "key=value label of the image (repeated)")
	flag.Parse()
	if err := o.run(); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

type options struct {
	out, name, binary, build, path string
	cmd, ports, env, labels        list
}

func (o *options) run() error {
	if o.out == "" || o.name == "" || o.path == "" || (o.binary == "") == (o.build == "") {
		return errors.New("-o, -name, -path and one of -binary or -build are required")
	}
	if o.build != "" {
		dir, err := os.MkdirTemp("", "image-build-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.binary = filepath.Join(dir, filepath.Base(o.path))
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", o.binary, o.build)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", o.build, err, out)
		}
	}
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("CA certificates: %w", err)
	}
	layer, err := o.layer(bin, ca)
	if err != nil {
		return err
	}
	img, err := o.image(layer)
	if err != nil {
		return err
	}
	return writeArchive(o.out, o.name, img)
}

// layer is the image's one layer: the files of a distroless static image
// that a Go program needs, and the binary.
func (o *options) layer(bin, ca []byte) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// A fixed time: the same inputs give the same image digest.
	mtime := time.Unix(0, 0)
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot, nonroot)
	group := fmt.Sprintf("root:x:0:\nnobody:x:65534:\nnonroot:x:%d:\n", nonroot)
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return dir("etc/ssl", 0o755, 0) },
		func() error { return dir("etc/ssl/certs", 0o755, 0) },
		func() error { return file(strings.TrimPrefix(caFile, "/"), 0o644, ca) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir("home/nonroot", 0o700, nonroot) },
		func() error { return dir("tmp", 0o1777, 0) },
	}
	for d := filepath.Dir(strings.TrimPrefix(o.path, "/")); d != "."; d = filepath.Dir(d) {
		steps = append(steps, func() error { return dir(d, 0o755, 0) })
	}
	steps = append(steps, func() error { return file(strings.TrimPrefix(o.path, "/"), 0o755, bin) })
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// image is the layer with the config a Dockerfile's USER, ENTRYPOINT, CMD,
// EXPOSE, ENV and LABEL would write.
func (o *options) image(layer v1.Layer) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg := v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{o.path},
		Cmd:        o.cmd,
		Env:        append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=" + caFile}, o.env...),
		WorkingDir: "/",
	}
	if len(o.ports) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		for _, p := range o.ports {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	if len(o.labels) > 0 {
		cfg.Labels = map[string]string{}
		for _, l := range o.labels {
			k, v, _ := strings.Cut(l, "=")
			cfg.Labels[k] = v
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Config = runtime.GOARCH, "linux", cfg
	return mutate.ConfigFile(img, cf)
}

// writeArchive writes img as an OCI image layout into a tar archive at
// path, the manifest named so that containerd imports it under name.
func writeArchive(path, name string, img v1.Image) error {
	dir, err := os.MkdirTemp("", "image-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	err = p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          name,
		"org.opencontainers.image.ref.name": name,
	}))
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// normalize spells an image name as containerd and the kubelet do, so
// that a pod's "mcp:dev" finds the imported image: a name without a
// registry is on docker.io, and one without a path is in library/.
func normalize(name string) string {
	first, rest, found := strings.Cut(name, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return name
	}
	if !found {
		return "docker.io/library/" + name
	}
	return "docker.io/" + first + "/" + rest
}
