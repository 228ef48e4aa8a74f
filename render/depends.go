package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// orderDependencies checks every placement's spec.dependsOn, a name of
// another Placement of the repo, and sets its Depth: 0 without
// dependencies, else one more than the deepest placement it depends on.
// An unknown name and a cycle are errors naming the placement and its
// file; the placements of a cycle keep depth 0.
func (c *config) orderDependencies() []error {
	byName := make(map[string]*Placement, len(c.placements))
	for i := range c.placements {
		byName[c.placements[i].Name] = &c.placements[i]
	}
	var errs []error
	for i := range c.placements {
		p := &c.placements[i]
		for _, d := range p.DependsOn {
			switch {
			case d == p.Name:
				errs = append(errs, &Error{File: p.File, Line: p.Line, Placement: p.Name, Err: fmt.Errorf("%w: spec.dependsOn names the placement itself", ErrInvalid)})
			case byName[d] == nil:
				errs = append(errs, &Error{File: p.File, Line: p.Line, Placement: p.Name, Err: fmt.Errorf("%w: spec.dependsOn names placement %q, which no Placement document defines%s", ErrNotFound, d, suggestName(d, byName))})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	// Depth-first, in name order so that the cycle reported is stable.
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(p *Placement, path []string) error
	visit = func(p *Placement, path []string) error {
		switch state[p.Name] {
		case done:
			return nil
		case visiting:
			cycle := append(path[slices.Index(path, p.Name):], p.Name)
			return &Error{File: p.File, Line: p.Line, Placement: p.Name, Err: fmt.Errorf("%w: spec.dependsOn makes a cycle: %s", ErrInvalid, strings.Join(cycle, " → "))}
		}
		state[p.Name] = visiting
		depth := 0
		for _, d := range p.DependsOn {
			q := byName[d]
			if err := visit(q, append(path, p.Name)); err != nil {
				return err
			}
			depth = max(depth, q.Depth+1)
		}
		p.Depth, state[p.Name] = depth, done
		return nil
	}
	for i := range c.placements {
		if err := visit(&c.placements[i], nil); err != nil {
			for j := range c.placements {
				c.placements[j].Depth = 0
			}
			return []error{err}
		}
	}
	return nil
}

// suggestName is " (did you mean "x"?)" when a placement's name is close
// to name, else "".
func suggestName(name string, byName map[string]*Placement) string {
	names := slices.Sorted(maps.Keys(byName))
	if n, ok := closest(name, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", n)
	}
	return ""
}
