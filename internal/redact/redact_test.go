package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// embeddings are the ways a secret reaches a message, each made by the
// encoder that makes it in real life, not by Forms.
var embeddings = map[string]func(s string) string{
	"raw":            func(s string) string { return s },
	"%q":             func(s string) string { return fmt.Sprintf("%q", s) },
	"%+q":            func(s string) string { return fmt.Sprintf("%+q", s) },
	"%q of bytes":    func(s string) string { return fmt.Sprintf("%q", []byte(s)) },
	"%v of a slice":  func(s string) string { return fmt.Sprintf("%q", []string{"x", s}) },
	"json":           func(s string) string { return mustJSON(map[string]any{"data": map[string]string{"k": s}}, true) },
	"json, no html":  func(s string) string { return mustJSON(s, false) },
	"base64 std":     func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"base64 url":     func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) },
	"base64 raw":     func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) },
	"base64 raw url": func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
	"json of base64": func(s string) string { return mustJSON(map[string]any{"data": []byte(s)}, true) },
	"query":          func(s string) string { return "https://h/p?token=" + url.QueryEscape(s) },
	"userinfo": func(s string) string {
		return (&url.URL{Scheme: "https", User: url.UserPassword("u", s), Host: "h"}).String()
	},
	"path": func(s string) string { return "https://h/" + url.PathEscape(s) + "/x" },
}

func mustJSON(v any, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return b.String()
}

func TestRedactEncodings(t *testing.T) {
	secrets := []string{
		"s3cr3t-t0ken",
		`pa"ss\word`,
		"multi\nline\tvalue\r\n",
		"<script>&amp;</script>",
		"pässwörd-€-𝄞",
		"ctl\x00\x01\x7f\b\f",
		"bad utf8 \xff\xfe here",
		"line\u2028sep",
		"a+b/c=d?e&f g%h@i:j",
	}
	for _, secret := range secrets {
		r := New("(redacted)", secret)
		for name, embed := range embeddings {
			msg := "denied: " + embed(secret) + " is not allowed"
			got := r.String(msg)
			if strings.Contains(got, embed(secret)) || strings.Contains(got, secret) {
				t.Errorf("%q, %s: survives in %q", secret, name, got)
			}
			if !strings.HasPrefix(got, "denied: ") || !strings.HasSuffix(got, " is not allowed") {
				t.Errorf("%q, %s: the rest of the message was cut: %q", secret, name, got)
			}
		}
	}
}

func TestRedactASCIIJSON(t *testing.T) {
	// As Python's json.dumps and Jackson write them; Go has no such encoder.
	cases := map[string][]string{
		"pässwörd<x>":   {`p\u00e4ssw\u00f6rd<x>`, `p\u00E4ssw\u00F6rd<x>`},
		"clef 𝄞 \"q\"":  {`clef \ud834\udd1e \"q\"`, `clef \uD834\uDD1E \"q\"`},
		"tab\there\x01": {`tab\there\u0001`},
	}
	for secret, encoded := range cases {
		r := New("***", secret)
		for _, e := range encoded {
			if got := r.String(`{"password": "` + e + `"}`); got != `{"password": "***"}` {
				t.Errorf("%q as %s: got %s", secret, e, got)
			}
		}
	}
}

func TestRedactShape(t *testing.T) {
	cases := map[string]struct {
		secrets []string
		in      string
		want    string
	}{
		"short secrets stay":     {[]string{"abc", ""}, "abc and abc", "abc and abc"},
		"overlaps are one mask":  {[]string{"abcdef", "defghi"}, "xabcdefghix", "x***x"},
		"adjacent are one mask":  {[]string{"abcd"}, "abcdabcd!", "***!"},
		"longest form wins":      {[]string{"tokentoken", "token"}, "tokentoken token", "*** ***"},
		"nothing to do":          {[]string{"secret"}, "all fine", "all fine"},
		"no secrets":             {nil, "secret", "secret"},
		"quoted keeps no quotes": {[]string{`a"bc`}, `value "a\"bc"`, `value "***"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := New("***", c.secrets...).String(c.in); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	var nilR *Redactor
	if nilR.String("x") != "x" {
		t.Fatal("a nil Redactor changed its input")
	}
}

func TestRedactError(t *testing.T) {
	cause := fmt.Errorf("webhook said %q: %w", "hunter22", fs.ErrPermission)
	err := New("(redacted)", "hunter22").Error(cause)
	if err.Error() != `webhook said "(redacted)": permission denied` {
		t.Fatalf("message %q", err)
	}
	if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, cause) {
		t.Fatal("the redacted error lost its chain")
	}
	if clean := errors.New("fine"); New("x", "hunter22").Error(clean) != clean {
		t.Fatal("an error without secrets was wrapped")
	}
	if New("x", "hunter22").Error(nil) != nil {
		t.Fatal("nil became an error")
	}
}

// FuzzRedact embeds a secret in every encoding into a message and checks
// that no form of it survives. Masks are swapped for a byte that no form
// holds before looking, so that a form made of a mask and its neighbours
// (a secret ending in "d)") does not count: only text of the message can
// leak.
func FuzzRedact(f *testing.F) {
	f.Add("s3cr3t-t0ken", "denied: ", " not allowed", uint8(0))
	f.Add("pä\"ss<>&\n\x00\xff𝄞", "{\"a\":", "}", uint8(3))
	f.Add("d)xy", "(redacte", "xy", uint8(7))
	f.Add("aaaa", "aaa", "aaaaa", uint8(200))
	f.Fuzz(func(t *testing.T, secret, prefix, suffix string, which uint8) {
		if len(secret) < MinLen || len(secret) > 256 {
			return
		}
		var names []string
		for name := range embeddings {
			names = append(names, name)
		}
		r := New("(redacted)", secret)
		forms := Forms(secret)
		// One message with every embedding, and one with one embedding
		// glued to arbitrary text.
		var all strings.Builder
		for _, embed := range embeddings {
			all.WriteString(prefix + embed(secret) + suffix)
		}
		one := prefix + embeddings[sortedKey(names, which)](secret) + suffix
		for _, msg := range []string{all.String(), one} {
			got := r.String(msg)
			sentinel, ok := freeByte(append([]string{msg}, forms...))
			if !ok {
				return
			}
			seen := strings.ReplaceAll(got, "(redacted)", string(sentinel))
			for _, form := range forms {
				if form != "" && strings.Contains(seen, form) {
					t.Fatalf("form %q of %q survives in %q", form, secret, got)
				}
			}
		}
	})
}

func sortedKey(keys []string, i uint8) string {
	slices.Sort(keys)
	return keys[int(i)%len(keys)]
}

// freeByte returns a byte that occurs in none of texts.
func freeByte(texts []string) (byte, bool) {
	var used [256]bool
	for _, t := range texts {
		for i := 0; i < len(t); i++ {
			used[t[i]] = true
		}
	}
	for b := 0; b < 256; b++ {
		if !used[b] {
			return byte(b), true
		}
	}
	return 0, false
}
