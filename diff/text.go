package diff

import (
	"fmt"
	"io"
	"strings"
)

// TextOptions control WriteText.
type TextOptions struct {
	// Color adds ANSI colours (green create, yellow update, red delete,
	// cyan adopt, magenta kept); callers set it only when writing to a
	// terminal.
	Color bool
	// ShowUnchanged also lists objects that would not change, marked "=".
	ShowUnchanged bool
}

// ANSI colour codes of the text plan.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
)

// symbols are the plan markers of each action, shared by text and markdown.
// An orphan is "<", the reverse of an adoption: mcp lets go of the object.
// A replacement is "-/+", as in Terraform: delete, then create.
var symbols = map[Action]string{Create: "+", Update: "~", Delete: "-", Adopt: ">", Keep: "!", Orphan: "<", Replace: "-/+", Unchanged: "="}

// words name the actions whose symbol nobody knows by heart; a plan line
// of such a change ends in its Reason or, without one, in this word.
var words = map[Action]string{Adopt: "adopt", Keep: "kept", Orphan: "orphan: stays on the cluster, no longer managed (prune: false)", Replace: "replace: delete and create"}

// WriteText writes p as a human-readable plan: per cluster one line per
// object change, under each update, adoption or replacement one line per
// changed field,
// then a summary line ("1 to create, 2 to update, 0 to delete") or "no
// changes".
func WriteText(w io.Writer, p Plan, opts TextOptions) error {
	pr := &printer{w: w}
	paint := func(code, s string) string {
		if !opts.Color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	colors := map[Action]string{Create: ansiGreen, Update: ansiYellow, Delete: ansiRed, Adopt: ansiCyan, Keep: ansiMagenta, Orphan: ansiMagenta, Replace: ansiRed, Unchanged: ansiDim}
	waves := p.hasWaves()

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
		if c.Leaves {
			pr.printf("  %s\n", paint(ansiMagenta, leavesLine(c)))
			continue
		}
		for _, ch := range c.Changes {
			if !shown(ch) && !opts.ShowUnchanged {
				continue
			}
			line := symbols[ch.Action] + " " + clean(ch.Key.String())
			pr.printf("  %s%s%s\n", paint(colors[ch.Action], line), paint(ansiDim, origin(ch, waves)), paint(colors[ch.Action], note(ch)))
			for _, fc := range ch.Fields {
				pr.printf("      %s\n", fieldLine(fc))
			}
		}
		if n := undecryptedNote(c); n != "" {
			pr.printf("  %s\n", paint(ansiDim, n))
		}
		if c.Err != nil {
			continue // the counts of a failed plan would mislead
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

// note is " — " and the Reason of a change, or the word of its action;
// empty for the actions everyone reads from their symbol.
func note(ch Change) string {
	switch {
	case ch.Reason != "":
		return " — " + clean(ch.Reason)
	case words[ch.Action] != "":
		return " — " + words[ch.Action]
	}
	return ""
}

// origin is " (file)" when the file of a change is known, with the
// change's wave added (" (file, wave 2)", " (wave 0)") when waves is set.
func origin(ch Change, waves bool) string {
	var parts []string
	if ch.File != "" {
		parts = append(parts, clean(ch.File))
	}
	if waves {
		parts = append(parts, fmt.Sprintf("wave %d", ch.Wave))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// hasWaves reports whether any shown change of p has a wave other than 0;
// only then do plans print waves, since most fleets use none.
func (p Plan) hasWaves() bool {
	for _, c := range p.Clusters {
		for _, ch := range c.Changes {
			if ch.Wave != 0 && shown(ch) {
				return true
			}
		}
	}
	return false
}

// leavesLine says what happens to a cluster whose Cluster document is gone.
func leavesLine(c ClusterPlan) string {
	return fmt.Sprintf("leaves management: its %d objects stay on the cluster, no longer reconciled", c.Remaining)
}

// summaryLine counts a cluster's changes: "1 to create, 2 to update, 0 to
// delete", then ", 1 to replace", ", 1 to adopt", ", 1 to orphan" and
// ", 1 kept" where there are any; "no changes" instead of the first three
// when nothing changes.
func summaryLine(s Summary) string {
	line := fmt.Sprintf("%d to create, %d to update, %d to delete", s.Create, s.Update, s.Delete)
	if s.Create+s.Update+s.Delete+s.Adopt+s.Orphan+s.Replace == 0 {
		line = "no changes"
	}
	if s.Replace > 0 {
		line += fmt.Sprintf(", %d to replace", s.Replace)
	}
	if s.Adopt > 0 {
		line += fmt.Sprintf(", %d to adopt", s.Adopt)
	}
	if s.Orphan > 0 {
		line += fmt.Sprintf(", %d to orphan", s.Orphan)
	}
	if s.Keep > 0 {
		line += fmt.Sprintf(", %d kept", s.Keep)
	}
	return line
}
