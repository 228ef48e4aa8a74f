package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"mcp.dev/mcp/source/helmrepo"
)

// Dependencies of a chart in the repo that are not vendored in its
// charts/ directory are fetched like charts of chart repositories: by
// the commands that fetch (helmrepo.Fetcher, at the version Chart.lock
// pins, or else the range Chart.yaml gives), into the chart cache, and
// render reads them from there. A dependency of a chart repository
// reached otherwise than https:// or oci:// (file://, a repository
// alias) must be vendored.

// unvendored lists the dependencies Chart.yaml declares that the chart's
// charts/ directory does not hold.
func unvendored(ch *chart.Chart) []*chart.Dependency {
	var out []*chart.Dependency
	for _, d := range ch.Metadata.Dependencies {
		if d != nil && !slices.ContainsFunc(ch.Dependencies(), func(sub *chart.Chart) bool { return sub.Name() == d.Name }) {
			out = append(out, d)
		}
	}
	return out
}

// missingDeps lists the dependencies of ch that charts/ does not hold
// and that can be fetched, by the name they are vendored under.
func missingDeps(ch *chart.Chart) []helmrepo.Ref {
	locked := map[string]string{}
	if ch.Lock != nil {
		for _, d := range ch.Lock.Dependencies {
			if d != nil {
				locked[d.Name+"\x00"+d.Repository] = d.Version
			}
		}
	}
	var refs []helmrepo.Ref
	for _, d := range unvendored(ch) {
		if !fetchable(d.Repository) {
			continue
		}
		version := d.Version
		if v, ok := locked[d.Name+"\x00"+d.Repository]; ok {
			version = v
		}
		ref := helmrepo.Ref{Repo: d.Repository, Name: d.Name, Version: version}
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	return refs
}

func fetchable(repo string) bool {
	return strings.HasPrefix(repo, "https://") || strings.HasPrefix(repo, "oci://")
}

// withCachedDeps adds to files, the files of chart c, the archives of
// its missing dependencies from the chart cache, as charts/NAME-VERSION.tgz
// (what helm dependency build writes). A dependency not in the cache is an
// error saying how to get it there.
func withCachedDeps(c *Chart, files []*archive.BufferedFile, ch *chart.Chart, opts Options) ([]*archive.BufferedFile, error) {
	refs := missingDeps(ch)
	if len(refs) == 0 {
		return files, nil
	}
	files = slices.Clone(files)
	var errs []error
	for _, ref := range refs {
		if err := opts.ChartFetchErrors[ref.String()]; err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: dependency %s could not be fetched: %w", ErrChart, c, ref, err))
			continue
		}
		if opts.ChartCache == "" {
			errs = append(errs, fmt.Errorf("%w: %s: dependency %s is not in charts/ and there is no chart cache (--cache-dir) to read it from", ErrChart, c, ref))
			continue
		}
		res, data, err := helmrepo.Cache{Dir: opts.ChartCache}.Lookup(ref)
		if errors.Is(err, helmrepo.ErrNotCached) {
			errs = append(errs, fmt.Errorf("%w: %s: dependency %s is neither vendored in charts/ nor in the chart cache: mcp apply and mcp run fetch it (mcp diff, render and validate with --fetch-charts), or vendor it with helm dependency build", ErrChart, c, ref))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: dependency %s: %w", ErrChart, c, ref, err))
			continue
		}
		files = append(files, &archive.BufferedFile{Name: "charts/" + ref.Name + "-" + res.Version + ".tgz", Data: data})
	}
	return files, errors.Join(errs...)
}
