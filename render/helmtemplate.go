package render

import (
	"fmt"
	"slices"
	"strings"
	"text/template"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

// helmRelease is what a client dry-run install of a chart yields: the
// manifest (the CRDs of crds/ first, then the templates' objects in
// install order, each under a "# Source:" header) and the hooks.
type helmRelease struct {
	manifest string
	hooks    []*release.Hook
}

// helmInstall is an install of a chart as render runs it: the release,
// what it knows of the cluster and the template functions. It is Helm's
// client dry-run install (pkg/action) without the package: action links
// Helm's cluster client, release storage drivers, registry client and
// plugin runtimes, none of which a dry run uses.
type helmInstall struct {
	name, namespace string
	kubeVersion     *common.KubeVersion
	apiVersions     []string
	funcs           template.FuncMap
}

// checkDependencies fails when a dependency Chart.yaml lists is not in
// the chart's charts/ directory, with Helm's message.
func checkDependencies(ch *chart.Chart) error {
	var missing []string
	for _, d := range unvendored(ch) {
		missing = append(missing, d.Name)
	}
	if len(missing) > 0 {
		return fmt.Errorf("found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
	}
	return nil
}

// run renders ch with vals as "helm install --dry-run=client
// --include-crds --skip-schema-validation" does, with the same steps in
// the same order and the same errors: the release name checked, the
// dependencies processed (conditions, tags, import-values), the values
// of a first install made, the chart's kubeVersion checked, the
// templates rendered with no cluster (lookup finds nothing, no DNS),
// NOTES.txt dropped, the rest sorted into hooks and manifests. ch is
// changed: disabled dependencies are removed from it. A library chart is
// not refused (only Helm's command line refuses it): its templates are
// not rendered, so it yields no object.
func (in helmInstall) run(ch *chart.Chart, vals map[string]any) (*helmRelease, error) {
	if err := chartutil.ValidateReleaseName(in.name); err != nil {
		return nil, fmt.Errorf("release name check failed: release name %q: %w", in.name, err)
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart dependencies processing failed: %w", err)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *in.kubeVersion
	caps.APIVersions = slices.Concat(caps.APIVersions, common.VersionSet(in.apiVersions))
	opts := common.ReleaseOptions{Name: in.name, Namespace: in.namespace, Revision: 1, IsInstall: true}
	// Helm's schema validation loads $refs over HTTP and from any file of
	// the host: it is skipped, render checks values.schema.json itself
	// (valuesschema.go).
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, true)
	if err != nil {
		return nil, err
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", ch.Metadata.KubeVersion, caps.KubeVersion.Version)
	}
	// A zero Engine has no cluster client: lookup returns an empty map.
	e := engine.Engine{CustomTemplateFuncs: in.funcs}
	files, err := e.Render(ch, top)
	if err != nil {
		return nil, err
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, crd := range ch.CRDObjects() {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", crd.Filename, string(crd.File.Data))
	}
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	return &helmRelease{manifest: b.String(), hooks: hooks}, nil
}
