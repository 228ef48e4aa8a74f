package render

import (
	"errors"
	"fmt"
	"strings"
)

// The only prefixes substitution touches (SPEC section 1). Everything
// else that looks like a variable, "${HOME}", "$${x}" or a Grafana
// "${__rate_interval}", is left byte for byte.
const (
	refCluster = "${cluster."
	refVar     = "${var."
)

// scope holds what a cluster's references resolve to.
type scope struct {
	cluster string
	labels  map[string]string
	vars    map[string]string
}

// hasRefs reports whether s holds a reference or an escape; escapes
// contain the reference prefix, so one test covers both.
func hasRefs(s string) bool {
	return strings.Contains(s, refCluster) || strings.Contains(s, refVar)
}

// isSingleRef reports whether s is exactly one reference, "${var.x}".
func isSingleRef(s string) bool {
	if !strings.HasPrefix(s, refCluster) && !strings.HasPrefix(s, refVar) {
		return false
	}
	return strings.IndexByte(s, '}') == len(s)-1
}

// substitute replaces the references in s:
//
//	${cluster.name}            the cluster's name
//	${cluster.labels.KEY}      the value of the cluster's label KEY
//	${var.KEY}                 the variable KEY
//	$${cluster.  $${var.       a literal "${cluster." / "${var."
//
// A reference without a value is an error, never an empty string. Values
// are inserted as they are and not scanned again.
func (sc *scope) substitute(s string) (string, error) {
	var b strings.Builder
	var errs []error
	for i := 0; i < len(s); {
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "$"+refCluster):
			b.WriteString(refCluster)
			i += 1 + len(refCluster)
		case strings.HasPrefix(rest, "$"+refVar):
			b.WriteString(refVar)
			i += 1 + len(refVar)
		case strings.HasPrefix(rest, refCluster), strings.HasPrefix(rest, refVar):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				// Only the prefix is quoted: the rest of the string may be a
				// Secret's value.
				errs = append(errs, fmt.Errorf("%w: unterminated reference %q... (write $%s for a literal)", ErrInvalid, prefixOf(rest), prefixOf(rest)))
				b.WriteString(rest)
				i = len(s)
				continue
			}
			ref := rest[:end+1]
			v, err := sc.lookup(ref)
			if err != nil {
				errs = append(errs, err)
			}
			b.WriteString(v)
			i += end + 1
		default:
			// Copy up to the next "$" in one go.
			next := strings.IndexByte(rest[1:], '$')
			if next < 0 {
				b.WriteString(rest)
				i = len(s)
			} else {
				b.WriteString(rest[:next+1])
				i += next + 1
			}
		}
	}
	return b.String(), errors.Join(errs...)
}

func prefixOf(ref string) string {
	if strings.HasPrefix(ref, refCluster) {
		return refCluster
	}
	return refVar
}

// lookup resolves one reference "${...}".
func (sc *scope) lookup(ref string) (string, error) {
	inner := ref[2 : len(ref)-1]
	if key, ok := strings.CutPrefix(inner, "var."); ok {
		v, found := sc.vars[key]
		if !found || key == "" {
			return "", fmt.Errorf("%w %s: set it in the Cluster's or the Placement's spec.vars", ErrUnknownVariable, ref)
		}
		return v, nil
	}
	if inner == "cluster.name" {
		return sc.cluster, nil
	}
	if key, ok := strings.CutPrefix(inner, "cluster.labels."); ok {
		v, found := sc.labels[key]
		if !found || key == "" {
			return "", fmt.Errorf("%w %s: the cluster has no label %q", ErrUnknownVariable, ref, key)
		}
		return v, nil
	}
	return "", fmt.Errorf("%w %s: only ${cluster.name}, ${cluster.labels.KEY} and ${var.KEY} exist", ErrUnknownVariable, ref)
}
