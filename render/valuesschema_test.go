package render

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestChartValuesSchema: a chart's values.schema.json checks the values
// it is rendered with, the chart's own defaults coalesced with the
// placement's, as helm template does; subcharts' schemas check their part;
// a $ref inside the schema works, one outside it is not followed and
// says so.
func TestChartValuesSchema(t *testing.T) {
	schema := `{"type": "object", "required": ["replicas"], "properties": {
  "replicas": {"$ref": "#/$defs/count"},
  "mode": {"enum": ["fast", "safe"]}},
  "$defs": {"count": {"type": "integer", "minimum": 1}}}`
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {replicas: {{ .Values.replicas | quote }}}\n"
	sub := map[string]string{
		"charts/db/Chart.yaml":         "apiVersion: v2\nname: db\nversion: 1.0.0\n",
		"charts/db/values.yaml":        "size: 10Gi\n",
		"charts/db/values.schema.json": `{"properties": {"size": {"type": "string", "pattern": "^[0-9]+Gi$"}}}`,
	}
	tests := map[string]struct {
		values  string // the placement's values
		files   map[string]string
		want    []string // in the error; none: renders
		warning string
		hide    string // a value the error must not quote
	}{
		"defaults pass":         {files: map[string]string{"values.yaml": "replicas: 2\n"}},
		"placement values pass": {values: "{replicas: 3, mode: safe}"},
		"wrong type": {values: "{replicas: two}",
			want: []string{"placement web", "chart trap 0.1.0", "values do not match the chart's values.schema.json", "trap:", "/replicas", "integer"}},
		"below the minimum": {values: "{replicas: 0}", want: []string{"/replicas", "minimum"}},
		"not in the enum":   {values: "{replicas: 1, mode: turbo}", want: []string{"/mode", "fast"}},
		"required missing":  {want: []string{"missing property 'replicas'"}},
		"subchart passes":   {values: "{replicas: 1, db: {size: 20Gi}}", files: sub},
		"subchart fails": {values: "{replicas: 1, db: {size: lots}}", files: sub,
			want: []string{"db:", "/size", "does not match pattern '^[0-9]+Gi$'"}, hide: "lots"},
		"format": {values: "{replicas: 1, url: 'hunter2 secret'}",
			files: map[string]string{"values.schema.json": `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"url": {"type": "string", "format": "uri"}}}`},
			want:  []string{"/url", "is not valid uri"}, hide: "hunter2"},
		"subchart values not a map": {values: "{replicas: 1, db: big}", files: sub, want: []string{"type mismatch on db"}},
		"remote ref not followed": {values: "{replicas: 1}",
			files:   map[string]string{"values.schema.json": `{"properties": {"replicas": {"type": "integer"}, "x": {"$ref": "https://example.com/s.json"}}}`},
			warning: `$ref "https://example.com/s.json" not followed`},
		"schema not JSON": {values: "{replicas: 1}", files: map[string]string{"values.schema.json": `{"type": `}, want: []string{"values.schema.json is not JSON"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"values.schema.json": schema, "templates/cm.yaml": cm}
			for p, d := range tc.files {
				files[p] = d
			}
			repo := chartFiles(files)
			if tc.values != "" {
				repo["mcp.yaml"] = strings.Replace(repo["mcp.yaml"], "chart: {path: chart}", "chart: {path: chart, values: "+tc.values+"}", 1)
			}
			f, err := renderErr(t, repo, Options{})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("render failed: %v", err)
				}
				if tc.warning != "" && !slices.ContainsFunc(f.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
					t.Errorf("warnings %q, want one saying %q", f.Warnings, tc.warning)
				}
				return
			}
			if err == nil {
				t.Fatal("rendered, want the values refused")
			}
			if !errors.Is(err, ErrChart) {
				t.Errorf("not a chart error: %v", err)
			}
			if tc.hide != "" && strings.Contains(err.Error(), tc.hide) {
				t.Errorf("error quotes the value %q:\n%v", tc.hide, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}
