// Command mkdb writes the Go vulnerability database that go.mod pins
// (golang.org/x/vulndb) as a directory that govulncheck reads with
// -db file://DIR, so that make vulncheck needs no vulnerability server.
//
//	go run ./mkdb -out DIR
//
// The vulndb module holds one OSV file per entry in data/osv; govulncheck
// reads the v1 layout (https://go.dev/doc/security/vuln/database):
//
//	DIR/index/db.json       {"modified": newest entry}
//	DIR/index/modules.json  per module path: its entries and latest fix
//	DIR/index/vulns.json    per entry: id, modified, aliases
//	DIR/ID/GO-YYYY-NNNN.json
//
// The index holds what vulndb's own generator (cmd/indexdb) writes for the
// same files; the entries are copied as they are. The module download goes
// through the module proxy and is checked against go.sum like any other.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

const vulndbModule = "golang.org/x/vulndb"

func main() {
	log.SetFlags(0)
	log.SetPrefix("mkdb: ")
	out := flag.String("out", "", "directory to write the database to (replaced)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		log.Fatal("usage: mkdb -out DIR")
	}
	mod, err := download(vulndbModule)
	if err != nil {
		log.Fatal(err)
	}
	n, err := write(filepath.Join(mod.Dir, "data", "osv"), *out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d entries of %s@%s\n", *out, n, vulndbModule, mod.Version)
}

// module is what go mod download -json reports.
type module struct {
	Path, Version, Dir, Error string
}

// download fetches the version of path that go.mod requires into the
// module cache and returns where it is.
func download(path string) (module, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("go", "mod", "download", "-json", path)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var m module
	if jerr := json.Unmarshal(b, &m); jerr == nil && m.Error != "" {
		return m, fmt.Errorf("go mod download %s: %s", path, m.Error)
	}
	if err != nil {
		return m, fmt.Errorf("go mod download %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("go mod download %s: %w", path, err)
	}
	return m, nil
}

// entry is the part of an OSV entry the index is made of.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

// The index files; field names and order as in vulndb's internal/database.
type (
	dbMeta struct {
		Modified string `json:"modified"`
	}
	moduleIndex struct {
		Path  string       `json:"path"`
		Vulns []moduleVuln `json:"vulns"`
	}
	moduleVuln struct {
		ID       string `json:"id"`
		Modified string `json:"modified"`
		Fixed    string `json:"fixed,omitempty"`
	}
	vulnIndex struct {
		ID       string   `json:"id"`
		Modified string   `json:"modified"`
		Aliases  []string `json:"aliases,omitempty"`
	}
)

// write reads the OSV files of src and writes the database to dst,
// replacing what was there. It returns the number of entries.
func write(src, dst string) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("%s: no OSV files", src)
	}
	if err := os.RemoveAll(dst); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(dst, "ID"), 0o755); err != nil {
		return 0, err
	}
	var (
		newest  time.Time
		modules = map[string]*moduleIndex{}
		vulns   []vulnIndex
		seen    = map[string]bool{}
	)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" || filepath.Base(f) != e.ID+".json" {
			return 0, fmt.Errorf("%s: id %q does not match the file name", f, e.ID)
		}
		if seen[e.ID] {
			return 0, fmt.Errorf("%s: id %q appears twice", f, e.ID)
		}
		seen[e.ID] = true
		modified := e.Modified.UTC().Format(time.RFC3339)
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		vulns = append(vulns, vulnIndex{ID: e.ID, Modified: modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			if a.Package.Name == "" {
				return 0, fmt.Errorf("%s: an affected package without a name", f)
			}
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleIndex{Path: a.Package.Name, Vulns: []moduleVuln{}}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: modified, Fixed: latestFixed(a.Ranges)})
		}
		if err := os.WriteFile(filepath.Join(dst, "ID", e.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
	}

	// A database that govulncheck would read as empty passes every scan:
	// fail instead if the layout of the OSV files has changed.
	if modules["stdlib"] == nil {
		return 0, fmt.Errorf("%s: no entry names the standard library (module stdlib)", src)
	}

	slices.SortStableFunc(vulns, func(a, b vulnIndex) int { return strings.Compare(a.ID, b.ID) })
	var mods []*moduleIndex
	for _, m := range modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b *moduleIndex) int { return strings.Compare(a.Path, b.Path) })

	index := filepath.Join(dst, "index")
	if err := os.MkdirAll(index, 0o755); err != nil {
		return 0, err
	}
	return len(vulns), errors.Join(
		writeJSON(filepath.Join(index, "db.json"), dbMeta{Modified: newest.UTC().Format(time.RFC3339)}),
		writeJSON(filepath.Join(index, "modules.json"), mods),
		writeJSON(filepath.Join(index, "vulns.json"), vulns),
	)
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}

// latestFixed is the newest fixed version of the SEMVER ranges, or "" when
// the vulnerability was introduced again after it (vulndb's
// osvutils.LatestFixed): govulncheck skips a module at or above it without
// reading the entry.
func latestFixed(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && before(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// before reports whether v < w for versions without the leading "v".
func before(v, w string) bool {
	return semver.Compare("v"+v, "v"+w) < 0
}
