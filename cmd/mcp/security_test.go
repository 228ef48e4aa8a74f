package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// insecure matches the switches that turn off TLS or SSH host key checks.
// mcp verifies every server: TLS as the user's kubeconfig says (its
// insecure-skip-tls-verify is clientcmd's to honour, not mcp's), SSH host
// keys always against known_hosts.
var insecure = regexp.MustCompile(`InsecureSkipVerify|InsecureIgnoreHostKey|Insecure\s*:\s*true|InsecureSkipTLSVerify\s*[:=]\s*true|insecure-skip-tls-verify`)

// allowInsecure lists the files (slash paths from the module root) that
// may name one of them, with the reason.
var allowInsecure = map[string]string{}

func TestNoVerificationSwitchInMCPsCode(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// The control plane pins build kube-apiserver and etcd, not mcp.
			if name := d.Name(); name == ".git" || name == "testdata" || name == "bin" || p == filepath.Join(root, "hack", "controlplane") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if insecure.MatchString(line) {
				if _, ok := allowInsecure[rel]; !ok {
					t.Errorf("%s:%d turns off verification: %s", rel, i+1, strings.TrimSpace(line))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: the walk missed the sources", checked)
	}
}
