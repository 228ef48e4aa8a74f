package main

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestApplyEnv(t *testing.T) {
	tests := map[string]struct {
		args    []string
		env     map[string]string
		want    string
		wantLst []string
	}{
		"env sets an unset flag": {
			env:  map[string]string{"MCP_GIT_PASSWORD_FILE": "/run/token"},
			want: "/run/token",
		},
		"flag wins over env": {
			args: []string{"--git-password-file=/flag"},
			env:  map[string]string{"MCP_GIT_PASSWORD_FILE": "/env"},
			want: "/flag",
		},
		"repeatable flag takes a comma list": {
			env:     map[string]string{"MCP_CLUSTER": "eu, us"},
			wantLst: []string{"eu", "us"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			pw := fs.String("git-password-file", "", "")
			clusters := fs.StringSlice("cluster", nil, "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if err := applyEnv(fs, lookup); err != nil {
				t.Fatal(err)
			}
			if *pw != tc.want {
				t.Errorf("git-password-file = %q, want %q", *pw, tc.want)
			}
			if strings.Join(*clusters, ",") != strings.Join(tc.wantLst, ",") {
				t.Errorf("cluster = %q, want %q", *clusters, tc.wantLst)
			}
		})
	}
}

func TestApplyEnvRejectsBadValue(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Int("concurrency", 8, "")
	err := applyEnv(fs, func(k string) (string, bool) { return "many", k == "MCP_CONCURRENCY" })
	if err == nil || !strings.Contains(err.Error(), "MCP_CONCURRENCY") {
		t.Fatalf("got %v, want an error naming MCP_CONCURRENCY", err)
	}
}

func TestVersionCommand(t *testing.T) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "mcp ") || !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version printed %q", out.String())
	}
}

func TestLogLevelFromEnv(t *testing.T) {
	t.Setenv("MCP_LOG_LEVEL", "loud")
	if code := run([]string{"version"}); code != exitError {
		t.Fatalf("exit %d, want %d for a bad MCP_LOG_LEVEL", code, exitError)
	}
}

// wrapped is an error with its own message over several causes, as the git
// source's errors are: one problem, printed with its own message.
type wrapped struct{ causes []error }

func (w wrapped) Error() string {
	return "authentication failed for https://git:***@example.com/fleet.git"
}
func (w wrapped) Unwrap() []error { return w.causes }

func TestPrintErrorOneLinePerProblem(t *testing.T) {
	err := errors.Join(
		wrapped{causes: []error{errors.New("authentication failed"), errors.New("authentication required")}},
		errors.New("cluster eu: unreachable"),
	)
	var buf bytes.Buffer
	printError(&buf, err)
	want := "error: authentication failed for https://git:***@example.com/fleet.git\nerror: cluster eu: unreachable\n"
	if buf.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", buf.String(), want)
	}
}
