package apply

import "mcp.dev/mcp/diff"

// tally fills r's counts, errors and warnings from what the outcomes say
// happened to the items of a plan; it reads nothing else. An item without
// an outcome was not touched.
func tally(r *Result, items []*item, outcomes map[*item]*outcome) {
	for _, it := range items {
		o := outcomes[it]
		if o == nil {
			o = &outcome{}
		}
		if o.warning != "" {
			r.Warnings = append(r.Warnings, o.warning)
		}
		// An object the dry-run refused has no action; if its apply
		// passed, whether it existed says what the apply did.
		retried := it.err != nil
		switch {
		case o.err != nil:
			r.Errors = append(r.Errors, o.err)
		case o.done && it.src.declared() && (it.action == diff.Create || retried && it.live == nil):
			r.Created++
		case o.done && it.src.declared() && (it.action == diff.Update || it.action == diff.Adopt || it.action == diff.Replace || retried):
			r.Updated++
		case retried:
			r.Errors = append(r.Errors, &ObjectError{Key: it.key, Source: it.src.Source, Op: "plan", Err: it.err})
		case it.action == diff.Delete && o.done:
			r.Deleted++
		case it.action == diff.Unchanged && it.src.declared():
			r.Unchanged++
		}
	}
	r.Failed = len(r.Errors)
}
