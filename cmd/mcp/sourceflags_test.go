package main

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"mcp.dev/mcp/internal/gitserver"
)

func parseSourceFlags(t *testing.T, args ...string) *sourceOptions {
	t.Helper()
	o := &sourceOptions{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.addFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return o
}

func TestSourceOptionsValidate(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"neither":      {args: nil, want: "give --dir PATH or --repo URL"},
		"both":         {args: []string{"--dir", dir, "--repo", "https://h/r.git"}, want: "exclude each other"},
		"ref with dir": {args: []string{"--dir", dir, "--ref", "v1"}, want: "--ref"},
		"bad scheme":   {args: []string{"--repo", "ftp://h/r.git"}, want: "ftp"},
		"path escapes": {args: []string{"--dir", dir, "--path", "../x"}, want: "leaves the repo"},
		"token hidden": {args: []string{"--repo", "ftp://u:tok@h/r.git"}, want: "u:***@"},
		"missing dir":  {args: []string{"--dir", dir + "/nope"}, want: "nope"},
		"dir only":     {args: []string{"--dir", dir}, want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseSourceFlags(t, tc.args...).open(context.Background())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "tok@") {
				t.Fatalf("open: err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSourceOptionsRepo(t *testing.T) {
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	base := repo.Commit("main", "base", map[string]string{"clusters/c.yaml": "base\n"})
	head := repo.Commit("main", "head", map[string]string{"clusters/c.yaml": "head\n"})

	o := parseSourceFlags(t, "--repo", repo.FileURL(), "--path", "clusters", "--cache-dir", t.TempDir())
	src, err := o.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	snap, changed, err := src.Fetch(context.Background())
	if err != nil || !changed || snap.Revision != head {
		t.Fatalf("Fetch = %+v, %v, %v; want %s", snap, changed, err, head)
	}
	at, cleanup, err := o.snapshotAt(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if at.Revision != base || at.Path != "clusters" {
		t.Fatalf("snapshotAt = %+v, want %s", at, base)
	}
}

// TestRepoURLWithCredentialsIsRefused: a password or token in --repo is in
// the process list for every user of the host to read. It is refused with
// the flag to use instead, and the error does not repeat it.
func TestRepoURLWithCredentialsIsRefused(t *testing.T) {
	for url, tc := range map[string]struct {
		secret string // "" when the URL is fine
		want   string
	}{
		"https://user:t0ken-Secret@github.com/org/repo.git":                       {secret: "t0ken-Secret", want: "--git-password-file"},
		"https://oauth2:glpat-Xy12Ab34Cd56Ef78Gh90@gitlab.com/org/repo.git":       {secret: "glpat-Xy12Ab34Cd56Ef78Gh90", want: "--git-password-file"},
		"https://ghp_R4nd0mT0kenR4nd0mT0kenR4nd0mT0ken12@github.com/org/repo.git": {secret: "ghp_R4nd0m", want: "--git-password-file"},
		"https://x7Fq9LmZ2vR8kT3wYp6B@git.example.com/org/repo.git":               {secret: "x7Fq9LmZ2vR8kT3wYp6B", want: "--git-password-file"},
		"http://u:hunter2@127.0.0.1:3000/org/repo.git":                            {secret: "hunter2", want: "--git-password-file"},
		"ssh://git:hunter2@git.example.com:2222/org/repo.git":                     {secret: "hunter2", want: "--git-ssh-key-file"},
		"user:hunter2@git.example.com:org/repo.git":                               {secret: "hunter2", want: "not a valid ssh URL"},
		"git@github.com:org/repo.git":                                             {},
		"ssh://git@git.example.com:2222/org/repo.git":                             {},
		"https://git@gitlab.com/org/repo.git":                                     {},
		"https://deploy-bot@git.example.com/org/repo.git":                         {},
		"https://github.com/org/repo.git":                                         {},
	} {
		t.Run(url, func(t *testing.T) {
			_, err := parseSourceFlags(t, "--repo", url, "--cache-dir", t.TempDir()).open(context.Background())
			if tc.secret == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
}
