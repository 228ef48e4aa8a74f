package render

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

var testScope = &scope{
	cluster: "aws-eu",
	labels:  map[string]string{"env": "prod", "topology.kubernetes.io/region": "eu-1", "empty": ""},
	vars:    map[string]string{"replicas": "3", "x": "${var.y}", "empty": ""},
}

func TestSubstitute(t *testing.T) {
	tests := map[string]struct {
		in, want string
		is       error
	}{
		"name":                   {in: "${cluster.name}", want: "aws-eu"},
		"label with slash":       {in: "r=${cluster.labels.topology.kubernetes.io/region}", want: "r=eu-1"},
		"var":                    {in: "n=${var.replicas}!", want: "n=3!"},
		"several":                {in: "${cluster.name}-${cluster.labels.env}-${var.replicas}", want: "aws-eu-prod-3"},
		"empty values are kept":  {in: "[${var.empty}${cluster.labels.empty}]", want: "[]"},
		"value is not rescanned": {in: "${var.x}", want: "${var.y}"},
		"escaped var":            {in: "$${var.replicas}", want: "${var.replicas}"},
		"escaped cluster":        {in: "$${cluster.name}", want: "${cluster.name}"},
		"escape then ref":        {in: "$${var.a} ${var.replicas}", want: "${var.a} 3"},
		"triple dollar":          {in: "$$${var.replicas}", want: "$${var.replicas}"},
		"shell untouched":        {in: "echo ${HOME} ${PATH:-/bin} $${HOME} $$ $", want: "echo ${HOME} ${PATH:-/bin} $${HOME} $$ $"},
		"grafana untouched":      {in: "[${__rate_interval}] ${DS_PROMETHEUS}", want: "[${__rate_interval}] ${DS_PROMETHEUS}"},
		"near misses":            {in: "${cluster} ${var} ${ var.x} ${Cluster.name} ${clusters.name}", want: "${cluster} ${var} ${ var.x} ${Cluster.name} ${clusters.name}"},
		"unknown var":            {in: "${var.nope}", is: ErrUnknownVariable},
		"unknown label":          {in: "${cluster.labels.team}", is: ErrUnknownVariable},
		"unknown cluster field":  {in: "${cluster.region}", is: ErrUnknownVariable},
		"empty var name":         {in: "${var.}", is: ErrUnknownVariable},
		"unterminated":           {in: "${var.replicas", is: ErrInvalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := testScope.substitute(tc.in)
			if tc.is != nil {
				if !errors.Is(err, tc.is) {
					t.Fatalf("substitute(%q) error = %v, want %v", tc.in, err, tc.is)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("substitute(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestSubstituteReportsEveryUnknown(t *testing.T) {
	_, err := testScope.substitute("${var.a} ${var.b}")
	if n := len(flatten(err)); n != 2 {
		t.Fatalf("%d errors, want 2: %v", n, err)
	}
}

// FuzzSubstitute checks the scanner's promises on any input: it never
// panics, text without mcp's prefixes comes back byte for byte, and
// without escapes nothing is left of a reference it resolved.
func FuzzSubstitute(f *testing.F) {
	for _, s := range []string{
		"", "$", "$$", "${", "${var.", "${var.replicas}", "$${var.x}", "$$${var.replicas}",
		"${cluster.labels.env}", "${cluster.name}${cluster.name}", "${HOME} $${HOME}",
		"${var.${var.x}}", "}${var.replicas", "\xff${var.replicas}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := testScope.substitute(s)
		if !hasRefs(s) {
			if got != s || err != nil {
				t.Fatalf("substitute(%q) = %q, %v; want it unchanged", s, got, err)
			}
			return
		}
		if err != nil {
			return
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("substitute(%q) = %q: broke UTF-8", s, got)
		}
		if !strings.Contains(s, "$$") && !strings.Contains(s, "${var.x}") && hasRefs(got) {
			t.Fatalf("substitute(%q) = %q: a reference survived", s, got)
		}
	})
}

// TestSingleReferenceIsTypedNotRescanned: a plain scalar that is exactly
// one reference takes the YAML type of its value, and the value is never
// substituted again — a variable that refers to itself must not recurse.
func TestSingleReferenceIsTypedNotRescanned(t *testing.T) {
	sc := &scope{cluster: "c", vars: map[string]string{
		"n": "3", "self": "${var.self}", "other": "${var.n}", "esc": "$${var.n}", "yes": "true",
	}}
	tests := map[string]struct {
		yaml string
		want any
	}{
		"number":              {yaml: "v: ${var.n}", want: int64(3)},
		"quoted stays string": {yaml: `v: "${var.n}"`, want: "3"},
		"bool":                {yaml: "v: ${var.yes}", want: true},
		"refers to itself":    {yaml: "v: ${var.self}", want: "${var.self}"},
		"refers to another":   {yaml: "v: ${var.other}", want: "${var.n}"},
		"escape in the value": {yaml: "v: ${var.esc}", want: "$${var.n}"},
		"not a single ref":    {yaml: "v: x${var.n}", want: "x3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tc.yaml), &n); err != nil {
				t.Fatal(err)
			}
			c := converter{file: "a.yaml", budget: maxValues, subst: sc.substitute}
			got := c.value(n.Content[0]).(map[string]any)["v"]
			if len(c.errs) > 0 || got != tc.want {
				t.Fatalf("got %#v (errors %v), want %#v", got, c.errs, tc.want)
			}
		})
	}
}
