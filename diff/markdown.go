package diff

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// WriteMarkdown writes p as a pull-request comment: a summary table of all
// clusters, then per cluster with changes a collapsible <details> holding
// the field-level changes in a diff block. Names, paths, values and errors
// are escaped so that none of them can break the table or the HTML, or
// mention a user.
func WriteMarkdown(w io.Writer, p Plan) error {
	pr := &printer{w: w}
	pr.printf("| cluster | create | update | delete | adopt | error |\n")
	pr.printf("| --- | ---: | ---: | ---: | ---: | --- |\n")
	for _, c := range p.Clusters {
		s := c.Summary()
		errText := ""
		if c.Err != nil {
			errText = c.Err.Error()
		}
		pr.printf("| %s | %d | %d | %d | %d | %s |\n", escapeCell(c.Cluster), s.Create, s.Update, s.Delete, s.Adopt, escapeCell(errText))
	}
	for _, c := range p.Clusters {
		if n := undecryptedNote(c); n != "" {
			pr.printf("\n%s: %s\n", escapeCell(c.Cluster), escapeCell(n))
		}
	}
	for _, c := range p.Clusters {
		if !slices.ContainsFunc(c.Changes, shown) {
			continue
		}
		body := diffBlock(c)
		fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
		pr.printf("\n<details><summary>%s: %s</summary>\n\n", escapeHTML(c.Cluster), summaryLine(c.Summary()))
		pr.printf("%sdiff\n%s%s\n\n</details>\n", fence, body, fence)
	}
	return pr.err
}

// diffBlock is the body of one cluster's diff block. Each changed field
// becomes a "-" line with the old value and a "+" line with the new one,
// so that the block colours like a diff; an absent side has no line.
// Adopted and kept objects end their line as in text ("— adopt").
func diffBlock(c ClusterPlan) string {
	var b strings.Builder
	for _, ch := range c.Changes {
		if !shown(ch) {
			continue
		}
		fmt.Fprintf(&b, "%s %s%s%s\n", symbols[ch.Action], clean(ch.Key.String()), origin(ch), note(ch))
		for _, fc := range ch.Fields {
			path := clean(fc.Path)
			if fc.Sensitive {
				fmt.Fprintf(&b, "      %s: %s\n", path, sensitiveText)
				continue
			}
			old, new := fieldValues(fc)
			if fc.Old != nil {
				fmt.Fprintf(&b, "-     %s: %s\n", path, old)
			}
			if fc.New != nil {
				fmt.Fprintf(&b, "+     %s: %s\n", path, new)
			}
		}
	}
	return b.String()
}

// escapeCell makes s safe inside a table cell: HTML is escaped, "|" and
// markdown punctuation are backslash-escaped, "@" cannot mention anyone
// and line breaks become <br>.
func escapeCell(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("<br>")
		case r == '\r':
		case r == '<', r == '>', r == '&', r == '"', r == '\'':
			b.WriteString(html.EscapeString(string(r)))
		case r == '@':
			b.WriteString("&#64;")
		case strings.ContainsRune("\\`*_[]()#!~|", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeHTML escapes s for raw HTML such as <summary>, where markdown is
// not read.
func escapeHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(clean(s)), "@", "&#64;")
}

// longestRun is the length of the longest run of c in s; a code fence
// must be longer than any run inside the block.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
