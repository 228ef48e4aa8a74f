package e2e

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImageMatchesDockerfile checks that the image `make image-tar` writes
// without a Docker engine is the one the Dockerfile describes: the same
// user, entrypoint, command, ports and environment, and the files of a
// distroless static nonroot image with /mcp in it, nothing else.
func TestImageMatchesDockerfile(t *testing.T) {
	want := parseDockerfile(t, filepath.Join(moduleRoot(t), "Dockerfile"))
	img := readImage(t, mcpImage(t))

	if img.Config.User != want.user {
		t.Errorf("user %q, Dockerfile says %q", img.Config.User, want.user)
	}
	if !slices.Equal(img.Config.Entrypoint, want.entrypoint) {
		t.Errorf("entrypoint %q, Dockerfile says %q", img.Config.Entrypoint, want.entrypoint)
	}
	if !slices.Equal(img.Config.Cmd, want.cmd) {
		t.Errorf("cmd %q, Dockerfile says %q", img.Config.Cmd, want.cmd)
	}
	if got := slices.Sorted(maps.Keys(img.Config.ExposedPorts)); !slices.Equal(got, want.ports) {
		t.Errorf("exposed ports %q, Dockerfile says %q", got, want.ports)
	}
	for _, e := range want.env {
		if !slices.Contains(img.Config.Env, e) {
			t.Errorf("env %q missing from %q", e, img.Config.Env)
		}
	}
	for _, l := range want.labels {
		if _, ok := img.Config.Labels[l]; !ok {
			t.Errorf("label %q missing from %v", l, img.Config.Labels)
		}
	}

	// The files: the binary where COPY puts it, executable; the nonroot
	// user and group of distroless; its CA certificates; /tmp and the
	// user's home.
	wantFiles := []string{
		"etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt",
		"home/", "home/nonroot/", "tmp/",
	}
	for _, c := range want.copies {
		wantFiles = append(wantFiles, strings.TrimPrefix(c, "/"))
	}
	slices.Sort(wantFiles)
	if got := slices.Sorted(maps.Keys(img.files)); !slices.Equal(got, wantFiles) {
		t.Errorf("files %q,\nwant %q", got, wantFiles)
	}
	for _, c := range want.copies {
		if h := img.files[strings.TrimPrefix(c, "/")]; h == nil || h.Mode&0o111 == 0 || h.Size < 1<<20 {
			t.Errorf("%s is not the mcp binary: %+v", c, h)
		}
	}
	uid := strings.Split(want.user, ":")[0]
	if !strings.Contains(img.contents["etc/passwd"], "nonroot:x:"+uid+":") {
		t.Errorf("/etc/passwd has no nonroot user %s:\n%s", uid, img.contents["etc/passwd"])
	}
	if !strings.Contains(img.contents["etc/ssl/certs/ca-certificates.crt"], "BEGIN CERTIFICATE") {
		t.Error("no CA certificates in the image")
	}
	if h := img.files["home/nonroot/"]; h == nil || fmt.Sprint(h.Uid) != uid {
		t.Errorf("home/nonroot not owned by %s: %+v", uid, h)
	}
}

// dockerfile is what the Dockerfile's final stage says about the image.
type dockerfile struct {
	user            string
	entrypoint, cmd []string
	ports, env      []string
	labels, copies  []string
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, keep only the last stage.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var stage []string
	s := bufio.NewScanner(strings.NewReader(text))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stage = nil
		}
		stage = append(stage, line)
	}
	var d dockerfile
	jsonArray := func(s string) []string {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%s: %q is not a JSON array: %v", path, s, err)
		}
		return v
	}
	for _, line := range stage {
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch word {
		case "USER":
			d.user = rest
		case "ENTRYPOINT":
			d.entrypoint = jsonArray(rest)
		case "CMD":
			d.cmd = jsonArray(rest)
		case "EXPOSE":
			for p := range strings.FieldsSeq(rest) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				d.ports = append(d.ports, p)
			}
		case "ENV":
			d.env = append(d.env, rest)
		case "LABEL":
			for f := range strings.FieldsSeq(rest) {
				if k, _, ok := strings.Cut(f, "="); ok {
					d.labels = append(d.labels, k)
				}
			}
		case "COPY":
			f := strings.Fields(rest)
			d.copies = append(d.copies, f[len(f)-1])
		}
	}
	slices.Sort(d.ports)
	if d.user == "" || len(d.entrypoint) == 0 || len(d.copies) == 0 {
		t.Fatalf("%s: no USER, ENTRYPOINT or COPY in the final stage: %+v", path, d)
	}
	return d
}

// image is an OCI image archive as read back: its config and the files of
// its layers.
type image struct {
	Config struct {
		User         string              `json:"User"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		Env          []string            `json:"Env"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Labels       map[string]string   `json:"Labels"`
	} `json:"config"`
	OS           string `json:"os"`
	Architecture string `json:"architecture"`

	files    map[string]*tar.Header
	contents map[string]string
}

// readImage reads an OCI image layout archive with the standard library
// only: the checks do not trust the library that wrote it.
func readImage(t *testing.T, archive string) *image {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blobs := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		blobs[h.Name] = data
	}
	blob := func(digest string) []byte {
		b, ok := blobs["blobs/"+strings.Replace(digest, ":", "/", 1)]
		if !ok {
			t.Fatalf("%s: blob %s missing", archive, digest)
		}
		return b
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	}
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(blobs["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("%s: index.json: %v %s", archive, err, blobs["index.json"])
	}
	var manifest struct {
		Config descriptor
		Layers []descriptor
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &manifest); err != nil {
		t.Fatal(err)
	}
	img := &image{files: map[string]*tar.Header{}, contents: map[string]string{}}
	if err := json.Unmarshal(blob(manifest.Config.Digest), img); err != nil {
		t.Fatal(err)
	}
	for _, l := range manifest.Layers {
		zr, err := gzip.NewReader(strings.NewReader(string(blob(l.Digest))))
		if err != nil {
			t.Fatal(err)
		}
		lr := tar.NewReader(zr)
		for {
			h, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			img.files[h.Name] = h
			if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
				data, _ := io.ReadAll(lr)
				img.contents[h.Name] = string(data)
			}
		}
	}
	return img
}
