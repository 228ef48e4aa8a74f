package render

// distance is the Levenshtein distance of a and b, counted in bytes: the
// names it compares (groups, versions, field names) are ASCII.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// closest returns the candidate nearest to s, if one is near enough to be
// what was meant: at most a third of its length away, and at most 3.
func closest(s string, candidates []string) (string, bool) {
	best, bestD := "", 4
	for _, c := range candidates {
		if d := distance(s, c); d < bestD && d <= max(1, len(c)/3) {
			best, bestD = c, d
		}
	}
	return best, best != ""
}
