package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"

	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/helmrepo"
)

// RemoteCharts lists the charts of chart repositories that the
// snapshot's placements name, and the dependencies their charts in the
// repo do not vendor: what a command that connects fetches
// (helmrepo.Fetcher) before it renders. It reads the repo only.
func RemoteCharts(ctx context.Context, snap source.Snapshot) ([]helmrepo.Ref, error) {
	l, err := Load(ctx, snap)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.RemoteCharts()
}

// RemoteCharts is RemoteCharts of the loaded snapshot. It only reads the
// repo: a Render of it afterwards renders what a Render alone would.
func (l *Loaded) RemoteCharts() ([]helmrepo.Ref, error) {
	dir, err := l.dir()
	if err != nil {
		return nil, err
	}
	r := l.r
	cfg, err := loadConfig(r, dir)
	if cfg == nil {
		return nil, err
	}
	var refs []helmrepo.Ref
	add := func(ref helmrepo.Ref) {
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	for _, p := range cfg.placements {
		switch {
		case p.Chart == nil:
		case p.Chart.Path == "" && p.Chart.Repo != "":
			add(p.Chart.Ref())
		case p.Chart.Path != "":
			// The dependencies a chart of the repo does not vendor.
			files, err := r.chartFiles(p.Chart)
			if err != nil {
				continue
			}
			if ch, err := chartloader.LoadFiles(files); err == nil {
				for _, ref := range missingDeps(ch) {
					add(ref)
				}
			}
		}
	}
	// A broken document elsewhere does not stop the fetch: Render
	// reports it.
	return refs, nil
}

// cachedChart reads a chart of a chart repository from the chart cache:
// render never fetches. A chart that could not be fetched before this
// render, or never was, fails the placement.
func cachedChart(c *Chart, opts Options) (helmrepo.Resolved, []*archive.BufferedFile, error) {
	ref := c.Ref()
	if err := opts.ChartFetchErrors[ref.String()]; err != nil {
		return helmrepo.Resolved{}, nil, fmt.Errorf("%w: %s could not be fetched: %w", ErrChart, c, err)
	}
	if opts.ChartCache == "" {
		return helmrepo.Resolved{}, nil, fmt.Errorf("%w: %s: no chart cache (--cache-dir) to read it from", ErrChart, c)
	}
	res, data, err := helmrepo.Cache{Dir: opts.ChartCache}.Lookup(ref)
	if errors.Is(err, helmrepo.ErrNotCached) {
		return res, nil, fmt.Errorf("%w: %s is not in the chart cache %s: mcp apply and mcp run fetch charts; mcp diff, render and validate do with --fetch-charts", ErrChart, c, opts.ChartCache)
	}
	if err != nil {
		return res, nil, fmt.Errorf("%w: %s: %w", ErrChart, c, err)
	}
	files, err := archive.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return res, nil, fmt.Errorf("%w: %s %s: the archive: %v", ErrChart, c, res.Version, err)
	}
	return res, files, nil
}

// Ref is the chart's name in its chart repository; zero for a chart of the repo.
func (c *Chart) Ref() helmrepo.Ref {
	if c.Path != "" {
		return helmrepo.Ref{}
	}
	return helmrepo.Ref{Repo: c.Repo, Name: c.Name, Version: c.Version}
}
