package diff

import (
	"crypto/sha256"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// MarkdownLimit is the most characters WriteMarkdown writes. GitHub
// refuses comments over 65,536; the rest is room for what a CI job adds.
const MarkdownLimit = 60000

// Limits of the parts of a shortened markdown plan.
const (
	tableShare     = 3    // the table takes at most 1/tableShare of the limit
	warningShare   = 6    // the warnings take at most 1/warningShare of it
	namesInRow     = 3    // cluster names in a table row of a group
	maxNamesLen    = 4000 // characters of a section's list of cluster names
	maxBriefLines  = 100  // object lines of a section without its fields
	fullPlanNotice = "The full plan is the JSON output of `mcp diff --output json`, which the CI examples save as a job artifact (`plan.json`)."
)

// WriteMarkdown writes p as a pull-request comment of at most
// MarkdownLimit bytes. Clusters whose plans are identical (same
// changes, same fields, same error) form one group. It starts with a
// summary table, one row per group, then per group with changes a
// collapsible <details> naming its clusters and holding the field-level
// changes in a diff block. A cluster that leaves management gets a line of
// its own. When the whole plan does not fit, field changes are left out
// first, then whole sections and table rows, and the comment says what is
// missing and where the full plan is. Names, paths, values and errors are
// escaped so that none of them can break the table or the HTML, or
// mention a user.
func WriteMarkdown(w io.Writer, p Plan) error {
	pr := &printer{w: w}
	pr.printf("%s", markdown(p, MarkdownLimit))
	return pr.err
}

// planGroup is a set of clusters with identical plans.
type planGroup struct {
	clusters []string
	plan     ClusterPlan // the first cluster's
	block    string      // diffBlock of the plan
}

// groupPlans groups the clusters of p whose plans print the same, in the
// order of their first cluster.
func groupPlans(p Plan, waves bool) []*planGroup {
	var groups []*planGroup
	byKey := map[[sha256.Size]byte]*planGroup{}
	for _, c := range p.Clusters {
		key := planKey(c)
		if g, ok := byKey[key]; ok {
			g.clusters = append(g.clusters, c.Cluster)
			continue
		}
		g := &planGroup{clusters: []string{c.Cluster}, plan: c, block: diffBlock(c, waves, true)}
		byKey[key] = g
		groups = append(groups, g)
	}
	return groups
}

// planKey is equal for two cluster plans when they show the same: the same
// error, the same changes with the same fields and values. It hashes the
// values as they are instead of printing them, which is the slow part of a
// plan of thousands of fields.
func planKey(c ClusterPlan) [sha256.Size]byte {
	h := sha256.New()
	if c.Err != nil {
		io.WriteString(h, c.Err.Error())
	}
	fmt.Fprintf(h, "\x00%t\x00%d\x00%q\x00", c.Leaves, c.Remaining, c.Undecrypted)
	for _, ch := range c.Changes {
		if !shown(ch) {
			continue
		}
		fmt.Fprintf(h, "%d\x00%q\x00%q\x00%q\x00%d\x00%q\x00", ch.Action, ch.Key.String(), ch.File, ch.Placement, ch.Wave, ch.Reason)
		for _, fc := range ch.Fields {
			fmt.Fprintf(h, "%q\x00%t\x00%#v\x00%#v\x00", fc.Path, fc.Sensitive, fc.Old, fc.New)
		}
		io.WriteString(h, "\x01")
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// markdown is the comment of p in at most limit bytes (GitHub counts
// characters, so bytes are the stricter bound).
func markdown(p Plan, limit int) string {
	waves := p.hasWaves()
	groups := groupPlans(p, waves)

	var left []string // what the comment leaves out

	// The table, cut to its share of the limit.
	var head strings.Builder
	head.WriteString(overview(p, len(groups)))
	head.WriteString(warningList(p.Warnings, limit/warningShare))
	head.WriteString("| clusters | create | update | delete | replace | adopt | keep | orphan | note |\n")
	head.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	rows := len(groups)
	for i, g := range groups {
		row := tableRow(g)
		if head.Len()+len(row) > limit/tableShare && i < len(groups)-1 {
			rows = i
			break
		}
		head.WriteString(row)
	}
	if rows < len(groups) {
		var s Summary
		n := 0
		for _, g := range groups[rows:] {
			gs := g.plan.Summary()
			k := len(g.clusters)
			n += k
			s.Create += gs.Create * k
			s.Update += gs.Update * k
			s.Delete += gs.Delete * k
			s.Replace += gs.Replace * k
			s.Adopt += gs.Adopt * k
			s.Keep += gs.Keep * k
			s.Orphan += gs.Orphan * k
		}
		fmt.Fprintf(&head, "| … %d more clusters in %d groups (totals) | %d | %d | %d | %d | %d | %d | %d | not shown |\n",
			n, len(groups)-rows, s.Create, s.Update, s.Delete, s.Replace, s.Adopt, s.Keep, s.Orphan)
		left = append(left, fmt.Sprintf("the table rows of %d groups", len(groups)-rows))
	}

	// The sections: in full where they fit, else without their fields,
	// else not at all. A section is only written in full if the ones after
	// it still fit without their fields.
	var sectioned []*planGroup
	for _, g := range groups {
		if g.plan.Leaves || slices.ContainsFunc(g.plan.Changes, shown) {
			sectioned = append(sectioned, g)
		}
	}
	full := make([]string, len(sectioned))
	brief := make([]string, len(sectioned))
	total := head.Len()
	for i, g := range sectioned {
		full[i] = section(g, g.block)
		brief[i] = full[i]
		if !g.plan.Leaves {
			brief[i] = section(g, briefBlock(g.plan, waves))
		}
		total += len(full[i])
	}
	if total <= limit && len(left) == 0 {
		return head.String() + strings.Join(full, "")
	}
	// Room for the notice at the end.
	budget := limit - head.Len() - 1000
	suffix := make([]int, len(sectioned)+1)
	for i := len(sectioned) - 1; i >= 0; i-- {
		suffix[i] = suffix[i+1] + len(brief[i])
	}
	var body strings.Builder
	shortened, omitted := 0, 0
	for i := range sectioned {
		room := budget - body.Len()
		switch {
		case len(full[i])+suffix[i+1] <= room:
			body.WriteString(full[i])
		case len(brief[i]) <= room:
			body.WriteString(brief[i])
			if brief[i] != full[i] {
				shortened++
			}
		default:
			omitted = len(sectioned) - i
		}
		if omitted > 0 {
			break
		}
	}
	if shortened > 0 {
		left = append(left, fmt.Sprintf("the field changes of %d groups", shortened))
	}
	if omitted > 0 {
		n := 0
		for _, g := range sectioned[len(sectioned)-omitted:] {
			n += len(g.clusters)
		}
		left = append(left, fmt.Sprintf("the last %d sections (%d clusters)", omitted, n))
	}
	// The notice comes right after the table, where a reviewer reads first.
	notice := fmt.Sprintf("\n> **This plan is shortened** to fit a comment of %d characters: %s are left out. %s\n",
		limit, joinAnd(left), fullPlanNotice)
	return head.String() + notice + body.String()
}

// joinAnd joins items as "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// overview is the line above the table: how many clusters, in how many
// groups, and how many change, fail or leave.
func overview(p Plan, groups int) string {
	var changed, same, failed, leaving int
	for _, c := range p.Clusters {
		switch {
		case c.Err != nil:
			failed++
		case c.Leaves:
			leaving++
		case c.HasChanges():
			changed++
		default:
			same++
		}
	}
	var parts []string
	for _, n := range []struct {
		n    int
		what string
	}{{changed, "with changes"}, {same, "without changes"}, {failed, "that could not be planned"}, {leaving, "leaving management"}} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.n, n.what))
		}
	}
	clusters := "clusters"
	if len(p.Clusters) == 1 {
		clusters = "cluster"
	}
	line := fmt.Sprintf("**%d %s**", len(p.Clusters), clusters)
	if groups < len(p.Clusters) {
		line += fmt.Sprintf(" in %d groups of identical plans", groups)
	}
	if len(parts) > 0 {
		line += ": " + joinAnd(parts)
	}
	return line + ".\n\n"
}

// warningList is the render's warnings as a list of at most limit bytes,
// and a line counting those left out.
func warningList(warnings []string, limit int) string {
	if len(warnings) == 0 {
		return ""
	}
	what := "warnings"
	if len(warnings) == 1 {
		what = "warning"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%d %s** (`--strict` makes them fail):\n\n", len(warnings), what)
	for i, w := range warnings {
		line := "- " + escapeCell(w) + "\n"
		if b.Len()+len(line) > limit {
			fmt.Fprintf(&b, "- … and %d more (all of them are in the JSON plan)\n", len(warnings)-i)
			break
		}
		b.WriteString(line)
	}
	return b.String() + "\n"
}

// tableRow is the summary row of a group.
func tableRow(g *planGroup) string {
	s := g.plan.Summary()
	note := ""
	switch {
	case g.plan.Err != nil:
		note = "error: " + g.plan.Err.Error()
	case g.plan.Leaves:
		note = fmt.Sprintf("leaves management (%d objects stay)", g.plan.Remaining)
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %d | %d | %d | %s |\n", escapeCell(groupName(g, namesInRow)),
		s.Create, s.Update, s.Delete, s.Replace, s.Adopt, s.Keep, s.Orphan, escapeCell(note))
}

// groupName names a group's clusters: all of up to n names, else the
// first n and how many there are ("a, b, c, … (102 clusters)").
func groupName(g *planGroup, n int) string {
	k := len(g.clusters)
	switch {
	case k == 1:
		return g.clusters[0]
	case k <= n:
		return fmt.Sprintf("%s (%d clusters)", strings.Join(g.clusters, ", "), k)
	}
	return fmt.Sprintf("%s, … (%d clusters)", strings.Join(g.clusters[:n], ", "), k)
}

// section is the markdown of one group: a line for a cluster that leaves
// management, else a <details> with its diff block.
func section(g *planGroup, block string) string {
	var b strings.Builder
	if g.plan.Leaves {
		fmt.Fprintf(&b, "\n**%s** %s.\n", escapeCell(groupName(g, namesInRow)), escapeCell(leavesLine(g.plan)))
		if len(g.clusters) > 1 {
			fmt.Fprintf(&b, "\nClusters: %s\n", escapeCell(nameList(g.clusters)))
		}
		return b.String()
	}
	fence := strings.Repeat("`", max(3, longestRun(block, '`')+1))
	if n := undecryptedNote(g.plan); n != "" {
		fmt.Fprintf(&b, "\n%s: %s\n", escapeCell(groupName(g, namesInRow)), escapeCell(n))
	}
	fmt.Fprintf(&b, "\n<details><summary>%s: %s</summary>\n\n", escapeHTML(groupName(g, namesInRow)), summaryLine(g.plan.Summary()))
	if len(g.clusters) > 1 {
		fmt.Fprintf(&b, "Clusters: %s\n\n", escapeCell(nameList(g.clusters)))
	}
	fmt.Fprintf(&b, "%sdiff\n%s%s\n\n</details>\n", fence, block, fence)
	return b.String()
}

// nameList lists names, cut after maxNamesLen characters.
func nameList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if b.Len()+len(n) > maxNamesLen {
			fmt.Fprintf(&b, ", … and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

// briefBlock is a diff block of the object lines only, at most
// maxBriefLines of them.
func briefBlock(c ClusterPlan, waves bool) string {
	block := diffBlock(c, waves, false)
	lines := strings.SplitAfter(block, "\n")
	if len(lines) > maxBriefLines+1 {
		block = strings.Join(lines[:maxBriefLines], "") + fmt.Sprintf("… %d more objects\n", len(lines)-1-maxBriefLines)
	}
	return block + "(field changes left out)\n"
}

// diffBlock is the body of one cluster's diff block. Each changed field
// becomes a "-" line with the old value and a "+" line with the new one,
// so that the block colours like a diff; an absent side has no line.
// Adopted, kept, orphaned and replaced objects end their line as in text
// ("— adopt").
// Without fields only the object lines are written.
func diffBlock(c ClusterPlan, waves, fields bool) string {
	var b strings.Builder
	for _, ch := range c.Changes {
		if !shown(ch) {
			continue
		}
		fmt.Fprintf(&b, "%s %s%s%s\n", symbols[ch.Action], clean(ch.Key.String()), origin(ch, waves), note(ch))
		if !fields {
			continue
		}
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
