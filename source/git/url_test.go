package git

import "testing"

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:token@github.com/org/repo.git": "https://user:***@github.com/org/repo.git",
		"https://github.com/org/repo.git":            "https://github.com/org/repo.git",
		"https://git@gitlab.com/org/repo.git":        "https://git@gitlab.com/org/repo.git",
		"ssh://git:pw@host:2222/org/repo.git":        "ssh://git:***@host:2222/org/repo.git",
		"git@github.com:org/repo.git":                "git@github.com:org/repo.git",
		"user:pw@host:org/repo.git":                  "user:***@host:org/repo.git",
		"https://us%20er:p@ss@host/x":                "https://us%20er:***@host/x",
		"file:///srv/git/fleet.git":                  "file:///srv/git/fleet.git",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string]repoURL{
		"git@github.com:org/repo.git": {clean: "git@github.com:org/repo.git", redacted: "git@github.com:org/repo.git", user: "git", ssh: true, host: "github.com", port: 22},
		"ssh://git@host:2222/org/r":   {clean: "ssh://git@host:2222/org/r", redacted: "ssh://git@host:2222/org/r", user: "git", ssh: true, host: "host", port: 2222},
		"https://u:t@host/org/r.git":  {clean: "https://host/org/r.git", redacted: "https://u:***@host/org/r.git", user: "u", password: "t"},
	} {
		got, err := parseURL(in)
		if err != nil {
			t.Fatalf("parseURL(%q): %v", in, err)
		}
		if got != want {
			t.Errorf("parseURL(%q) = %+v, want %+v", in, got, want)
		}
	}
	for _, bad := range []string{"", "ftp://host/r", "user:pw@host:"} {
		if _, err := parseURL(bad); err == nil {
			t.Errorf("parseURL(%q) accepted", bad)
		}
	}
}
