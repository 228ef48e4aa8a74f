package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a value printed on one line of a plan.
const (
	maxValueRunes = 72 // a whole value longer than this is cut
	windowBefore  = 20 // context kept before the first difference of two long strings
	windowRunes   = 60 // length of the window shown around that difference
)

// absentText and sensitiveText are what plans print instead of a value.
const (
	absentText    = "(absent)"
	sensitiveText = "(sensitive value changed)"
)

// fieldValues renders the two sides of a changed field for one line.
// Two long or multi-line strings show a window around their first
// difference, so that the change stays visible however long they are.
func fieldValues(fc FieldChange) (old, new string) {
	os, oIsStr := fc.Old.(string)
	ns, nIsStr := fc.New.(string)
	if oIsStr && nIsStr && (long(os) || long(ns)) {
		d := commonPrefixRunes(os, ns)
		start := max(0, d-windowBefore)
		return window(os, start), window(ns, start)
	}
	return valueText(fc.Old), valueText(fc.New)
}

func long(s string) bool {
	return strings.Contains(s, "\n") || utf8.RuneCountInString(s) > maxValueRunes
}

// valueText renders one value as compact JSON, cut when long.
func valueText(v any) string {
	if v == nil {
		return absentText
	}
	if s, ok := v.(string); ok {
		out := window(s, 0)
		if n := strings.Count(s, "\n"); n > 0 {
			out += fmt.Sprintf(" (%d lines)", n+1)
		}
		return out
	}
	b := compactJSON(v)
	if utf8.RuneCountInString(b) <= maxValueRunes {
		return b
	}
	r := []rune(b)
	cut := string(r[:maxValueRunes]) + "…"
	switch x := v.(type) {
	case map[string]any:
		return fmt.Sprintf("%s (%d keys)", cut, len(x))
	case []any:
		return fmt.Sprintf("%s (%d items)", cut, len(x))
	}
	return cut
}

// window quotes at most windowRunes runes of s from rune start on, with
// "…" where s was cut. Quoting escapes newlines and control characters, so
// a value can neither break a line nor colour a terminal.
func window(s string, start int) string {
	r := []rune(s)
	start = min(start, len(r))
	end := min(len(r), start+windowRunes)
	if start == 0 && end == len(r) && len(r) <= maxValueRunes {
		return compactJSON(s)
	}
	q := compactJSON(string(r[start:end]))
	inner := q[1 : len(q)-1]
	if start > 0 {
		inner = "…" + inner
	}
	if end < len(r) {
		inner += "…"
	}
	return `"` + inner + `"`
}

func commonPrefixRunes(a, b string) int {
	n := 0
	for a != "" && b != "" {
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			break
		}
		a, b = a[sa:], b[sb:]
		n++
	}
	return n
}

// compactJSON writes v as one line of JSON without HTML escaping ("<" is
// kept as is; the markdown writer escapes for its own format).
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// clean makes a name, path or message safe to print on one line: text
// with control or unprintable characters is quoted.
func clean(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// printer writes formatted text and keeps the first write error, so that
// writers can print freely and check once.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
