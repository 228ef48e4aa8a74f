package render

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Objects, annotations and variables of other GitOps tools that a repo
// converted to mcp may still hold. mcp applies them like any other object,
// which is not what their authors meant, so each is a warning that says
// what mcp does instead.

// foreignKinds maps "group/kind" ("group/*" for a whole group) to what mcp
// has instead.
var foreignKinds = map[string]string{
	"helm.toolkit.fluxcd.io/HelmRelease":        "a Flux HelmRelease: in mcp a Placement with spec.chart (path, or repo, name and version; releaseName, valuesFiles, values) does this",
	"kustomize.toolkit.fluxcd.io/Kustomization": "a Flux Kustomization: in mcp a Placement (spec.path to the kustomization's directory, spec.clusterSelector, spec.prune) does this",
	"source.toolkit.fluxcd.io/*":                "a Flux source: mcp reads one repo (--repo or --dir); vendor other sources into it",
	"image.toolkit.fluxcd.io/*":                 "Flux image automation: mcp has no equivalent; pin image tags in the repo",
	"notification.toolkit.fluxcd.io/Receiver":   "a Flux Receiver: mcp run has POST /webhook instead",
	"notification.toolkit.fluxcd.io/*":          "Flux notifications: mcp has no equivalent; mcp run reports through /status, /metrics and its status branch",
	"argoproj.io/Application":                   "an Argo CD Application: in mcp a Placement (spec.path, spec.clusterSelector, spec.namespace, spec.prune) does this",
	"argoproj.io/ApplicationSet":                "an Argo CD ApplicationSet: in mcp one Placement with a spec.clusterSelector does this, with ${cluster.name} and ${var.KEY} for what differs per cluster",
	"argoproj.io/AppProject":                    "an Argo CD AppProject: mcp has no equivalent; what it may reach is what --credentials-dir holds",
	"fleet.cattle.io/*":                         "a Rancher Fleet object: in mcp Cluster documents with labels and Placements with a spec.clusterSelector do this",
}

// foreignAnnotations maps an annotation to what mcp has instead.
var foreignAnnotations = map[string]string{
	"argocd.argoproj.io/sync-wave":           "use mcp.dev/wave",
	"argocd.argoproj.io/hook":                "mcp has no hooks: the object is applied like any other; order it with mcp.dev/wave",
	"argocd.argoproj.io/hook-delete-policy":  "mcp has no hooks: the object is applied like any other and kept",
	"argocd.argoproj.io/sync-options":        "mcp has no per-object sync options: Prune=false is the Placement's spec.prune: false, CreateNamespace is a Namespace object in the placement",
	"argocd.argoproj.io/compare-options":     "mcp has no equivalent: it diffs only the fields the repo sets (server-side apply)",
	"helm.sh/hook":                           "mcp has no hooks: the object is applied like any other; order it with mcp.dev/wave",
	"helm.sh/hook-weight":                    "use mcp.dev/wave",
	"kustomize.toolkit.fluxcd.io/prune":      "use the Placement's spec.prune: false",
	"kustomize.toolkit.fluxcd.io/reconcile":  "mcp has no per-object equivalent: pause the Cluster (spec.paused) or move the object out of the placement",
	"kustomize.toolkit.fluxcd.io/substitute": "use mcp.dev/substitute: disabled",
	"kustomize.toolkit.fluxcd.io/ssa":        "mcp always applies server-side; it has no per-object equivalent",
}

// foreignFinalizers maps a finalizer to what mcp has instead.
var foreignFinalizers = map[string]string{
	"resources-finalizer.argocd.argoproj.io":            "no controller will remove it without Argo CD, so the object cannot be deleted; mcp prunes through its inventory",
	"resources-finalizer.argocd.argoproj.io/background": "no controller will remove it without Argo CD, so the object cannot be deleted; mcp prunes through its inventory",
	"resources-finalizer.argocd.argoproj.io/foreground": "no controller will remove it without Argo CD, so the object cannot be deleted; mcp prunes through its inventory",
}

// fluxVar matches a Flux postBuild variable: ${name}, ${name:=default},
// ${name:-default}, not preceded by a second "$" (an escape).
var fluxVar = regexp.MustCompile(`(^|[^$])\$\{([a-z_][a-z0-9_]*)(:?[-=][^}]*)?\}`)

// foreignWarnings lists what of another GitOps tool a document holds.
func foreignWarnings(d doc) []string {
	apiVersion, _ := d.obj["apiVersion"].(string)
	kind, _ := d.obj["kind"].(string)
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = ""
	}
	where := docSource(d) + ": " + describe(d.obj)
	var out []string
	if what, ok := foreignKinds[group+"/"+kind]; ok {
		out = append(out, fmt.Sprintf("%s is %s", where, what))
	} else if what, ok := foreignKinds[group+"/*"]; ok {
		out = append(out, fmt.Sprintf("%s is %s", where, what))
	}
	meta, _ := d.obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	for _, k := range sortedKeys(annotations) {
		if what, ok := foreignAnnotations[k]; ok {
			out = append(out, fmt.Sprintf("%s: annotation %s: %s", where, k, what))
		}
	}
	finalizers, _ := meta["finalizers"].([]any)
	for _, f := range finalizers {
		s, _ := f.(string)
		if what, ok := foreignFinalizers[s]; ok {
			out = append(out, fmt.Sprintf("%s: finalizer %s: %s", where, s, what))
		}
	}
	if annotations[AnnotationSubstitute] != "disabled" {
		out = append(out, literalVars(d, where)...)
	}
	return out
}

// literalVars warns about ${name} references that mcp leaves as they are
// written. The data of ConfigMaps and Secrets is skipped: shell scripts
// and dashboards hold such text on purpose.
func literalVars(d doc, where string) []string {
	kind, _ := d.obj["kind"].(string)
	var out []string
	seen := map[string]bool{}
	var walk func(n *yaml.Node, top bool)
	walk = func(n *yaml.Node, top bool) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if top && (kind == "ConfigMap" || kind == "Secret") && (k == "data" || k == "binaryData" || k == "stringData") {
					continue
				}
				walk(n.Content[i+1], false)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, false)
			}
		case yaml.ScalarNode:
			if !strings.Contains(n.Value, "${") {
				return
			}
			for _, m := range fluxVar.FindAllStringSubmatch(n.Value, -1) {
				ref := strings.TrimPrefix(m[0], m[1])
				if seen[ref] {
					continue
				}
				seen[ref] = true
				at := where
				if d.line > 0 {
					at = fmt.Sprintf("%s:%d: %s", d.file, n.Line, describe(d.obj))
				}
				out = append(out, fmt.Sprintf("%s: %s is left as it is written: mcp substitutes only ${cluster.*} and ${var.*}; %s", at, ref, mcpVar(m[2])))
			}
		}
	}
	if d.node != nil {
		walk(d.node, true)
	}
	return out
}

// mcpVar says what a Flux-style variable is in mcp.
func mcpVar(name string) string {
	switch name {
	case "cluster_name", "cluster", "clustername":
		return "use ${cluster.name}"
	}
	return fmt.Sprintf("use ${var.%s} and set %s in the Cluster's or the Placement's spec.vars", name, name)
}

// docSource is "file:line" or "file (document N)" for kustomize output.
func docSource(d doc) string {
	if d.line > 0 {
		return fmt.Sprintf("%s:%d", d.file, d.line)
	}
	return fmt.Sprintf("%s (document %d)", d.file, d.index+1)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
