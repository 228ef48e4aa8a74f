package main

import "testing"

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"mcp:dev":                        "docker.io/library/mcp:dev",
		"platform/mcp:v1":                "docker.io/platform/mcp:v1",
		"localhost/mcp:e2e":              "localhost/mcp:e2e",
		"registry.example.com/mcp:v1":    "registry.example.com/mcp:v1",
		"127.0.0.1:5000/platform/mcp:v1": "127.0.0.1:5000/platform/mcp:v1",
		"docker.io/library/mcp:dev":      "docker.io/library/mcp:dev",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
