package render

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// The values schema: a chart's values.schema.json checks the values it is
// rendered with, as helm install and helm template do. Helm's own check
// follows a $ref to any URL (over the network) and to any file of the
// host; render follows neither. A $ref within the schema ("#/$defs/x")
// works as in Helm; one to anything else is not followed: that part of
// the schema accepts everything, and the render says so in a warning.

// checkValuesSchema checks values, coalesced with the chart's own as
// Helm does, against the values.schema.json of ch and of each subchart
// that values has a map for. It returns the schema's complaints as one
// error, naming each chart, and a warning for each $ref not followed.
func checkValuesSchema(ch *chart.Chart, values map[string]any) (warnings []string, err error) {
	var sb strings.Builder
	refs := &refusedRefs{}
	validateChartValues(ch, values, &sb, refs)
	for _, u := range refs.list() {
		warnings = append(warnings, fmt.Sprintf("values.schema.json: $ref %q not followed (render reads nothing outside the chart): values under it are not checked", u))
	}
	if sb.Len() > 0 {
		return warnings, fmt.Errorf("values do not match the chart's values.schema.json:\n%s", strings.TrimSpace(sb.String()))
	}
	return warnings, nil
}

func validateChartValues(ch *chart.Chart, values map[string]any, sb *strings.Builder, refs *refusedRefs) {
	if len(ch.Schema) > 0 {
		if err := validateAgainst(ch.Schema, values, refs); err != nil {
			fmt.Fprintf(sb, "%s:\n%s\n", ch.Name(), err)
		}
	}
	for _, sub := range ch.Dependencies() {
		raw, ok := values[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		m, ok := raw.(map[string]any)
		if !ok {
			fmt.Fprintf(sb, "%s:\nvalues must be a map, not %T\n", sub.Name(), raw)
			continue
		}
		validateChartValues(sub, m, sb, refs)
	}
}

// validateAgainst checks values against one schema document.
func validateAgainst(schemaJSON []byte, values map[string]any, refs *refusedRefs) (err error) {
	defer func() {
		// The validator is a library given input from the repo: a panic in
		// it fails the render, not the process.
		if r := recover(); r != nil {
			err = fmt.Errorf("the schema could not be checked: %v", r)
		}
	}()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refs)
	const self = "file:///values.schema.json"
	if err := c.AddResource(self, doc); err != nil {
		return err
	}
	sch, err := c.Compile(self)
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	var ve *jsonschema.ValidationError
	if err := sch.Validate(values); errors.As(err, &ve) {
		hideValues(ve)
		return errors.New(strings.TrimSpace(strings.TrimPrefix(ve.Error(), "jsonschema validation failed with '"+self+"#'")))
	} else if err != nil {
		return err
	}
	return nil
}

// hideValues takes the values out of the complaints that would quote
// them (a pattern, a format): chart values hold passwords and keys as
// often as not, and errors end up in logs, status and pull requests.
func hideValues(ve *jsonschema.ValidationError) {
	switch k := ve.ErrorKind.(type) {
	case *kind.Pattern:
		k.Got = hidden
	case *kind.Format:
		k.Got = hidden
	}
	for _, c := range ve.Causes {
		hideValues(c)
	}
}

const hidden = "(value not shown)"

// refusedRefs is the schemas' loader: it loads nothing, and answers every
// URL with the schema that accepts everything, remembering the URL.
type refusedRefs struct {
	mu   sync.Mutex
	urls map[string]bool
}

func (r *refusedRefs) Load(url string) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.urls == nil {
		r.urls = map[string]bool{}
	}
	r.urls[url] = true
	return true, nil
}

func (r *refusedRefs) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.urls))
}

// checkChartValues checks values against the schemas of the chart of lc
// as helm install would see it: dependencies disabled by their conditions
// removed and imported values merged, then coalesced with the chart's
// values. A chart with no values.schema.json costs nothing.
func checkChartValues(lc *loadedChart, values map[string]any) ([]string, error) {
	if !slices.ContainsFunc(lc.files, func(f *archive.BufferedFile) bool { return path.Base(f.Name) == "values.schema.json" }) {
		return nil, nil
	}
	ch, err := chartloader.LoadFiles(lc.files)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependencies(ch, values); err != nil {
		return nil, err
	}
	vals, err := util.CoalesceValues(ch, values)
	if err != nil {
		return nil, err
	}
	return checkValuesSchema(ch, vals)
}
