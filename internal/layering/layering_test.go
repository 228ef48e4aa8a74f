package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "mcp.dev/mcp/"

// allowed is docs/architecture.md's arrows: the mcp packages each package
// may import (not counting tests). "x/..." is x and every package below
// it; "*" is anything. A package missing here fails the test, so that a
// new one is placed on the map before it is used.
var allowed = map[string][]string{
	"cmd/mcp": {"*"},

	"reconciler":            {"apply", "diff", "render", "source", "internal/target", "reconciler/status", "reconciler/statusgit"},
	"reconciler/statusgit":  {"reconciler/status"},
	"reconciler/server":     {"reconciler/status"},
	"reconciler/dashboard":  {"reconciler/status", "apply", "diff"},
	"reconciler/status":     {"apply", "diff"},
	"reconciler/membership": {},

	"internal/target": {"apply", "render"},
	"onboard":         {"internal/object"},
	"apply":           {"diff", "internal/object", "internal/redact", "internal/version"},
	"diff":            {"internal/object"},
	"render/...":      {"render/...", "source", "source/helmrepo", "internal/object", "internal/redact", "internal/version"},

	"source":              {},
	"source/git":          {"source", "source/internal/...", "internal/redact"},
	"source/dir":          {"source", "source/internal/..."},
	"source/helmrepo":     {},
	"source/internal/...": {},

	"internal/object":  {},
	"internal/redact":  {"internal/object"},
	"internal/version": {},
	// Test beds: imported by tests and hack/ only (nothing above lists them).
	"internal/testenv/...":   {"internal/..."},
	"internal/gitserver/...": {"internal/..."},
	"internal/faultproxy":    {},
	"internal/chartserver":   {},
	"internal/sopstest":      {},
	"internal/layering":      {},

	// Tools and test suites that drive the binary.
	"hack/...":   {"*"},
	"deploy/...": {"*"},
	"e2e/...":    {"*"},
}

// noClient are packages that must not reach a cluster: they import no
// Kubernetes client. diff is pure, so not even what it imports may; a
// library render uses (a template engine, say) may carry a client it
// never calls, so for render the check is of its own imports.
var noClient = map[string]bool{"render/...": false, "diff": true}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func TestImportsFollowTheArchitecture(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range pkgs {
		name := strings.TrimPrefix(p.ImportPath, module)
		rule, ok := ruleOf(name)
		if !ok {
			t.Errorf("%s is not on the map: place it in docs/architecture.md and in allowed", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if dep == "cmd/mcp" {
				t.Errorf("%s imports cmd/mcp: nothing does", name)
			}
			if !matchesAny(rule, dep) {
				t.Errorf("%s imports %s, against docs/architecture.md (it may import %v)", name, dep, rule)
			}
		}
	}
	for _, p := range pkgs {
		name := strings.TrimPrefix(p.ImportPath, module)
		for pat, deep := range noClient {
			if !matches(pat, name) {
				continue
			}
			deps := p.Imports
			if deep {
				deps = p.Deps
			}
			for _, d := range deps {
				// client-go's scheme only registers the API's Go types (render
				// checks objects against them); it imports no other client-go.
				if strings.HasPrefix(d, "k8s.io/client-go/") && d != "k8s.io/client-go/kubernetes/scheme" {
					t.Errorf("%s depends on %s: it must not reach a cluster", name, d)
					break
				}
			}
		}
	}
}

// notLinked are modules the mcp binary must not carry, megabytes of code
// and of memory at start that a reconciler which never calls them pays
// for: the sops library (mcp reads SOPS files itself, with age keys
// only) and through it the clients of every cloud's KMS and key
// services; Helm's action package (render runs a client dry-run install
// from Helm's engine itself) and what it brings: Helm's cluster client
// and through it controller-runtime and kubectl, its release storage
// drivers (PostgreSQL), its OCI registry client, its plugin runtimes
// (WebAssembly), its linter.
var notLinked = []string{
	"github.com/getsops/sops/",
	"github.com/aws/aws-sdk-go-v2/",
	"cloud.google.com/go/",
	"github.com/Azure/azure-sdk-for-go/",
	"github.com/hashicorp/vault/",
	"github.com/envoyproxy/",
	"helm.sh/helm/v4/pkg/action",
	"helm.sh/helm/v4/pkg/kube",
	"helm.sh/helm/v4/pkg/storage",
	"helm.sh/helm/v4/pkg/registry",
	"helm.sh/helm/v4/internal/plugin",
	"helm.sh/helm/v4/pkg/lint",
	"sigs.k8s.io/controller-runtime/",
	"k8s.io/kubectl/",
	"github.com/russross/blackfriday",
	"github.com/lib/pq",
	"oras.land/",
	"github.com/tetratelabs/wazero",
	"github.com/extism/",
	"github.com/asaskevich/govalidator",
}

func TestBinaryLinksNoKeyServices(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath != module+"cmd/mcp" {
			continue
		}
		for _, d := range p.Deps {
			for _, bad := range notLinked {
				if strings.HasPrefix(d, bad) {
					t.Errorf("cmd/mcp depends on %s", d)
				}
			}
		}
		return
	}
	t.Fatal("cmd/mcp not listed")
}

// TestTheRulesCatchABadImport: the check above is not vacuous.
func TestTheRulesCatchABadImport(t *testing.T) {
	for _, bad := range []struct{ from, to string }{
		{"apply", "reconciler"},
		{"render", "apply"},
		{"reconciler/dashboard", "reconciler"},
		{"reconciler/status", "reconciler/server"},
		{"diff", "render"},
	} {
		rule, ok := ruleOf(bad.from)
		if !ok || matchesAny(rule, bad.to) {
			t.Errorf("%s → %s is allowed", bad.from, bad.to)
		}
	}
}

func ruleOf(name string) ([]string, bool) {
	if r, ok := allowed[name]; ok {
		return r, true
	}
	// The longest "x/..." pattern that covers name.
	best, found := "", false
	for pat := range allowed {
		if matches(pat, name) && len(pat) > len(best) {
			best, found = pat, true
		}
	}
	return allowed[best], found
}

func matchesAny(pats []string, name string) bool {
	return slices.ContainsFunc(pats, func(p string) bool { return matches(p, name) })
}

func matches(pat, name string) bool {
	if pat == "*" || pat == name {
		return true
	}
	base, ok := strings.CutSuffix(pat, "/...")
	return ok && (name == base || strings.HasPrefix(name, base+"/"))
}

// listPackages is `go list` of every package of the module.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: not the module", len(pkgs))
	}
	return pkgs
}
