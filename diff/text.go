package diff

import (
	"fmt"
	"io"
	"strings"
)

// TextOptions control WriteText.
type TextOptions struct {
	// Color adds ANSI colours (green create, yellow update, red delete);
	// callers set it only when writing to a terminal.
	Color bool
	// ShowUnchanged also lists objects that would not change, marked "=".
	ShowUnchanged bool
}

// ANSI colour codes of the text plan.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// symbols are the plan markers of each action, shared by text and markdown.
var symbols = map[Action]string{Create: "+", Update: "~", Delete: "-", Unchanged: "="}

// WriteText writes p as a human-readable plan: per cluster one line per
// object change, under each update one line per changed field, then a
// summary line ("1 to create, 2 to update, 0 to delete") or "no changes".
func WriteText(w io.Writer, p Plan, opts TextOptions) error {
	pr := &printer{w: w}
	paint := func(code, s string) string {
		if !opts.Color {
			return s
		}
		return code + s + ansiReset
	}
	colors := map[Action]string{Create: ansiGreen, Update: ansiYellow, Delete: ansiRed, Unchanged: ansiDim}

	if len(p.Clusters) == 0 {
		pr.printf("no clusters\n")
	}
	for i, c := range p.Clusters {
		if i > 0 {
			pr.printf("\n")
		}
		pr.printf("%s\n", paint(ansiBold, "cluster "+clean(c.Cluster)+":"))
		if c.Err != nil {
			for _, line := range strings.Split(c.Err.Error(), "\n") {
				pr.printf("  %s\n", paint(ansiRed, "error: "+clean(line)))
			}
		}
		for _, ch := range c.Changes {
			if ch.Action == Unchanged && !opts.ShowUnchanged {
				continue
			}
			line := symbols[ch.Action] + " " + clean(ch.Key.String())
			pr.printf("  %s%s\n", paint(colors[ch.Action], line), paint(ansiDim, origin(ch)))
			if ch.Action != Update {
				continue
			}
			for _, fc := range ch.Fields {
				pr.printf("      %s\n", fieldLine(fc))
			}
		}
		if c.Err != nil {
			continue // the counts of a failed plan would mislead
		}
		if !c.HasChanges() {
			pr.printf("  no changes\n")
			continue
		}
		pr.printf("  %s\n", summaryLine(c.Summary()))
	}
	return pr.err
}

// fieldLine is "path: old → new", or the path and a fixed text for a
// Secret value.
func fieldLine(fc FieldChange) string {
	if fc.Sensitive {
		return clean(fc.Path) + ": " + sensitiveText
	}
	old, new := fieldValues(fc)
	return clean(fc.Path) + ": " + old + " → " + new
}

// Texts returns fc's old and new value as plans print them: compact JSON,
// long strings cut around their first difference, "(absent)" for a missing
// side, and for a Secret value only the fixed text that it changed. Other
// renderings of a plan (the dashboard) use it to show the same diff.
func (fc FieldChange) Texts() (old, new string) {
	if fc.Sensitive {
		return sensitiveText, sensitiveText
	}
	return fieldValues(fc)
}

// origin is " (file)" when the file of a change is known.
func origin(ch Change) string {
	if ch.File == "" {
		return ""
	}
	return " (" + clean(ch.File) + ")"
}

func summaryLine(s Summary) string {
	return fmt.Sprintf("%d to create, %d to update, %d to delete", s.Create, s.Update, s.Delete)
}
