package git

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// echoEncodings are the forms in which a git server (or a proxy in front
// of it) may echo the credentials it was sent in its error messages.
var echoEncodings = map[string]func(v string) string{
	"raw":            func(v string) string { return v },
	"%q":             func(v string) string { return fmt.Sprintf("%q", v) },
	"%+q":            func(v string) string { return fmt.Sprintf("%+q", v) },
	"json":           func(v string) string { b, _ := json.Marshal(v); return string(b) },
	"base64":         func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) },
	"base64 url":     func(v string) string { return base64.URLEncoding.EncodeToString([]byte(v)) },
	"base64 raw":     func(v string) string { return base64.RawStdEncoding.EncodeToString([]byte(v)) },
	"base64 raw url": func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) },
	"query":          func(v string) string { return url.QueryEscape(v) },
}

// echoingGitServer answers every ls-remote with an "ERR" line, as git
// servers refuse a client, quoting the credentials it was sent in every
// one of echoEncodings, and the Authorization header itself.
func echoingGitServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		msg := "ERR access denied: header " + r.Header.Get("Authorization")
		for name, enc := range echoEncodings {
			msg += fmt.Sprintf("; password as %s: %s; pair as %s: %s", name, enc(pass), name, enc(user+":"+pass))
		}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		fmt.Fprintf(w, "%04x# service=git-upload-pack\n0000", 4+len("# service=git-upload-pack\n"))
		fmt.Fprintf(w, "%04x%s\n", 4+len(msg)+1, msg)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestServerEchoesCredentials: whatever form a git server's message echoes
// the token in (from the password file or the URL), the error mcp reports
// holds none of them.
func TestServerEchoesCredentials(t *testing.T) {
	srv := echoingGitServer(t)
	const token = "s3cr3t\"t0k<e>n&\u00fc/+?"
	cases := map[string]Options{
		"password file": {URL: srv.URL + "/fleet.git", Username: testUser, PasswordFile: writeFile(t, "token", token+"\n")},
		"URL userinfo":  {URL: strings.Replace(srv.URL, "http://", "http://"+testUser+":"+url.QueryEscape(token)+"@", 1) + "/fleet.git"},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			opts.CacheDir = t.TempDir()
			src, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = src.Fetch(context.Background())
			if err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "***") {
				t.Fatalf("err = %v, want the server's message, redacted", err)
			}
			for _, secret := range []string{token, testUser + ":" + token} {
				for enc, encode := range echoEncodings {
					if form := encode(secret); strings.Contains(err.Error(), form) || strings.Contains(err.Error(), strings.Trim(form, `"`)) {
						t.Errorf("%q as %s shows in %q", secret, enc, err)
					}
				}
			}
		})
	}
}
