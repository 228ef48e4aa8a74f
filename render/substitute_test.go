package render

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
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
