package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"go.yaml.in/yaml/v3"

	"mcp.dev/mcp/internal/testenv"
)

// The CI examples of examples/ci: their structure, and the mcp commands
// they run, run here on a pull request of testdata/fleet.

const ciExamples = "../../examples/ci"

// githubWorkflow is the part of a GitHub Actions workflow the example
// relies on. yaml.v3 reads the key "on" as a string (YAML 1.1 readers
// would make it true, which is why GitHub's own parser is YAML 1.2-like).
type githubWorkflow struct {
	Name string `yaml:"name"`
	On   struct {
		PullRequest *struct {
			Branches []string `yaml:"branches"`
		} `yaml:"pull_request"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency map[string]any    `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]struct {
		RunsOn string       `yaml:"runs-on"`
		Steps  []githubStep `yaml:"steps"`
	} `yaml:"jobs"`
}

type githubStep struct {
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	With map[string]any    `yaml:"with"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

type gitlabJob struct {
	Stage        string            `yaml:"stage"`
	Image        string            `yaml:"image"`
	Rules        []map[string]any  `yaml:"rules"`
	Variables    map[string]string `yaml:"variables"`
	Artifacts    map[string]any    `yaml:"artifacts"`
	BeforeScript []string          `yaml:"before_script"`
	Script       []string          `yaml:"script"`
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true) // a misspelt key is an error, not ignored
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// mcpCommands returns the argument lists of the mcp commands in shell
// script text: "mcp validate ..." or an image run with "validate ...",
// continuation lines joined, redirections cut, variables set from vars.
func mcpCommands(script string, vars map[string]string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		for _, cmd := range []string{"validate ", "diff "} {
			i := strings.Index(line, cmd+"--dir")
			if i < 0 {
				continue
			}
			args := line[i:]
			if j := strings.IndexAny(args, ">|"); j >= 0 {
				args = args[:j]
			}
			for k, v := range vars {
				args = strings.ReplaceAll(args, k, v)
			}
			out = append(out, strings.Fields(strings.ReplaceAll(args, `"`, "")))
		}
	}
	return out
}

// prRepo is testdata/fleet as a pull request checks it out: the work tree
// at the change, origin/main at the commit before it.
func prRepo(t *testing.T) string {
	t.Helper()
	dir := diffFleetRepo(t)
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := repo.ResolveRevision("HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/remotes/origin/main", *base)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runCI runs the mcp commands of an example on a pull request and checks
// that validate passes and the plan comment shows the change.
func runCI(t *testing.T, cmds [][]string, dirArg, repo string) {
	t.Helper()
	var ran []string
	for _, args := range cmds {
		for i := range args {
			if args[i] == dirArg {
				args[i] = repo
			}
		}
		code, out := runStdout(t, args...)
		if code != exitOK {
			t.Errorf("mcp %s: exit %d\n%s", strings.Join(args, " "), code, out)
			continue
		}
		ran = append(ran, args[0])
		switch args[0] {
		case "validate":
			if !strings.HasPrefix(out, "ok: 3 clusters") {
				t.Errorf("mcp validate printed %q", out)
			}
		case "diff":
			if slices.Contains(args, "json") {
				checkJSONPlan(t, out)
				continue
			}
			for _, want := range []string{"| aws-eu-prod, gcp-us-prod \\(2 clusters\\) | 0 | 1 | 0 |", "+     spec.replicas: 4", "<details>"} {
				if !strings.Contains(out, want) {
					t.Errorf("the plan comment lacks %q:\n%s", want, out)
				}
			}
		}
	}
	if strings.Join(ran, ",") != "validate,diff,diff" {
		t.Errorf("ran %v, want validate, then diff as markdown and as JSON", ran)
	}
}

// checkJSONPlan checks that out is the whole plan of the pull request in
// JSON, which the examples keep as an artifact.
func checkJSONPlan(t *testing.T, out string) {
	t.Helper()
	var plan struct {
		Clusters []struct {
			Name    string
			Summary map[string]int
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("the JSON plan does not parse: %v\n%s", err, out)
	}
	if len(plan.Clusters) != 3 || plan.Clusters[0].Name != "aws-eu-prod" || plan.Clusters[0].Summary["update"] != 1 {
		t.Errorf("JSON plan: %+v", plan)
	}
}

func TestCIGitHubWorkflow(t *testing.T) {
	path := filepath.Join(ciExamples, "github", "mcp-plan.yaml")
	var wf githubWorkflow
	readYAML(t, path, &wf)
	if wf.On.PullRequest == nil {
		t.Fatalf("%s does not run on pull_request", path)
	}
	if wf.Permissions["pull-requests"] != "write" || wf.Permissions["contents"] != "read" {
		t.Errorf("permissions %v: want contents: read, pull-requests: write", wf.Permissions)
	}
	job, ok := wf.Jobs["plan"]
	if !ok || job.RunsOn == "" || len(job.Steps) == 0 {
		t.Fatalf("no plan job with steps: %+v", wf.Jobs)
	}
	checkout := job.Steps[0]
	if !strings.HasPrefix(checkout.Uses, "actions/checkout@") || checkout.With["fetch-depth"] != 0 {
		t.Errorf("the first step must check out the full history (fetch-depth: 0) for origin/main: %+v", checkout)
	}
	if checkout.With["persist-credentials"] != false {
		t.Errorf("the checkout must not leave its token in .git/config (persist-credentials: false): %+v", checkout.With)
	}
	var script strings.Builder
	commented, ranMCP := false, 0
	for _, s := range job.Steps {
		script.WriteString(s.Run + "\n")
		if strings.Contains(s.Run, "gh pr comment") {
			commented = true
			if strings.Contains(s.Run, "$MCP_IMAGE") {
				t.Errorf("step %q runs mcp where it holds the token to comment", s.Name)
			}
			continue
		}
		for k, v := range s.Env {
			if strings.Contains(strings.ToLower(k+v), "token") || strings.Contains(v, "secrets.") {
				t.Errorf("step %q has a credential in its environment: %s", s.Name, k)
			}
		}
		if !strings.Contains(s.Run, "$MCP_IMAGE") {
			continue
		}
		for _, line := range strings.Split(strings.ReplaceAll(s.Run, "\\\n", " "), "\n") {
			if !strings.Contains(line, "$MCP_IMAGE") {
				continue
			}
			ranMCP++
			for _, want := range []string{"docker run ", "--network none", `-v "$PWD:/repo:ro"`, "--read-only", "--cap-drop ALL"} {
				if !strings.Contains(line, want) {
					t.Errorf("step %q runs mcp without %s: %s", s.Name, want, line)
				}
			}
		}
	}
	if !commented {
		t.Error("no step posts the plan as a comment")
	}
	if ranMCP != 3 {
		t.Errorf("%d docker runs of mcp, want validate and diff as markdown and as JSON", ranMCP)
	}
	uploaded := slices.ContainsFunc(job.Steps, func(s githubStep) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.With["path"] == "plan.json"
	})
	if !uploaded {
		t.Error("no step saves plan.json, the full plan, as an artifact")
	}
	runCI(t, mcpCommands(script.String(), map[string]string{"$BASE_REF": "main"}), "/repo", prRepo(t))
}

func TestCIGitLabJob(t *testing.T) {
	path := filepath.Join(ciExamples, "gitlab", "mcp-plan.gitlab-ci.yml")
	var doc struct {
		Stages []string  `yaml:"stages"`
		Job    gitlabJob `yaml:"mcp-plan"`
	}
	readYAML(t, path, &doc)
	job := doc.Job
	if len(doc.Stages) == 0 || job.Stage != doc.Stages[0] || job.Image == "" {
		t.Errorf("stages %v, job stage %q, image %q", doc.Stages, job.Stage, job.Image)
	}
	if len(job.Rules) == 0 || !strings.Contains(job.Rules[0]["if"].(string), "merge_request_event") {
		t.Errorf("the job does not run on merge requests: rules %v", job.Rules)
	}
	if job.Variables["GIT_DEPTH"] != "0" {
		t.Errorf("GIT_DEPTH %q, want \"0\": diff --against needs the target branch", job.Variables["GIT_DEPTH"])
	}
	all := strings.Join(append(job.BeforeScript, job.Script...), "\n")
	if !strings.Contains(all, "merge_requests/$CI_MERGE_REQUEST_IID/notes") {
		t.Error("no script line posts the plan as a merge request note")
	}
	fetched, detokenized := -1, -1
	for i, line := range job.BeforeScript {
		switch {
		case strings.HasPrefix(line, "git fetch origin ") && strings.Contains(line, "refs/remotes/origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"):
			fetched = i
		case strings.HasPrefix(line, "git remote set-url origin "):
			detokenized = i
			if strings.Contains(line, "TOKEN") || strings.Contains(line, "CI_REPOSITORY_URL") {
				t.Errorf("the remote URL is set to one with a token: %s", line)
			}
		}
	}
	if fetched < 0 || detokenized < fetched {
		t.Errorf("before_script must fetch the target branch, then set the remote URL without the job token:\n%s", strings.Join(job.BeforeScript, "\n"))
	}
	lines := mcpLines(job.Script)
	if len(lines) != 3 {
		t.Fatalf("%d script lines run mcp, want validate and diff as markdown and as JSON:\n%s", len(lines), strings.Join(job.Script, "\n"))
	}
	if paths, _ := job.Artifacts["paths"].([]any); !slices.Contains(paths, any("plan.json")) {
		t.Errorf("artifacts %v: want plan.json, the full plan, kept", job.Artifacts)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, offlinePrefix) {
			t.Errorf("mcp must run with an empty environment and no network (%s...): %s", offlinePrefix, line)
		}
	}
	vars := map[string]string{"$CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
	runCI(t, mcpCommands(strings.Join(job.Script, "\n"), vars), ".", prRepo(t))
}

// offlinePrefix starts every line of the GitLab job that runs mcp: no
// variable of the job reaches it, and it has a network namespace of its
// own with nothing in it.
const offlinePrefix = "env -i /usr/bin/unshare --net --map-root-user /usr/local/bin/mcp "

// mcpLines returns the script lines that run mcp.
func mcpLines(script []string) []string {
	var out []string
	for _, line := range script {
		if strings.Contains(line, "/mcp ") || strings.HasPrefix(line, "mcp ") {
			out = append(out, line)
		}
	}
	return out
}

// TestCIGitLabJobOffline runs the GitLab job's mcp lines as written, in a
// shell, on a pull request: validate and diff --against work with an empty
// environment and no network.
func TestCIGitLabJobOffline(t *testing.T) {
	if err := exec.Command("/usr/bin/unshare", "--net", "--map-root-user", "true").Run(); err != nil {
		t.Skipf("this machine cannot make a network namespace: %v", err)
	}
	var doc struct {
		Stages []string  `yaml:"stages"`
		Job    gitlabJob `yaml:"mcp-plan"`
	}
	readYAML(t, filepath.Join(ciExamples, "gitlab", "mcp-plan.gitlab-ci.yml"), &doc)
	bin := testenv.BuildMCP(t)
	repo := prRepo(t)
	for _, line := range mcpLines(doc.Job.Script) {
		line = strings.Replace(line, "/usr/local/bin/mcp ", bin+" ", 1)
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main", "CI_JOB_TOKEN=must-not-reach-mcp")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
		}
		if strings.Contains(line, " validate ") && !strings.HasPrefix(string(out), "ok: 3 clusters") {
			t.Errorf("%s printed %q", line, out)
		}
	}
	plan, err := os.ReadFile(filepath.Join(repo, "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(plan), "+     spec.replicas: 4") {
		t.Errorf("plan.md lacks the change:\n%s", plan)
	}
	full, err := os.ReadFile(filepath.Join(repo, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkJSONPlan(t, string(full))
}
