package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// MinLen is the length of the shortest secret redacted: shorter ones ("1",
// "true") would garble every message and give little away.
const MinLen = 4

// Redactor replaces every form of a set of secrets by a mask. The zero
// value and nil redact nothing. It is safe for concurrent use.
type Redactor struct {
	mask  string
	forms []string // longest first, each once
}

// New returns a Redactor that replaces the forms of each secret by mask.
// Secrets shorter than MinLen are left alone.
func New(mask string, secrets ...string) *Redactor {
	r := &Redactor{mask: mask}
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < MinLen {
			continue
		}
		for _, f := range Forms(s) {
			if f != "" && !seen[f] {
				seen[f] = true
				r.forms = append(r.forms, f)
			}
		}
	}
	slices.SortFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	return r
}

// Forms returns s in each form a Redactor looks for (see the package
// documentation), duplicates included.
func Forms(s string) []string {
	b := []byte(s)
	return []string{
		s,
		unquote(strconv.Quote(s)),
		unquote(strconv.QuoteToASCII(s)),
		goJSON(s, true),
		goJSON(s, false),
		asciiJSON(s, "%04x"),
		asciiJSON(s, "%04X"),
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(s),
		url.PathEscape(s),
		userinfo(s),
	}
}

// String returns s with every occurrence of every form replaced by the
// mask. Occurrences that overlap or touch are replaced as one, so that no
// piece of a secret is left between two masks.
func (r *Redactor) String(s string) string {
	if r == nil || len(r.forms) == 0 || s == "" {
		return s
	}
	// depth[i] counts the occurrences that start at i minus those that end
	// there; its running sum is positive exactly on covered bytes.
	var depth []int32
	for _, f := range r.forms {
		for i := 0; i+len(f) <= len(s); {
			j := strings.Index(s[i:], f)
			if j < 0 {
				break
			}
			if depth == nil {
				depth = make([]int32, len(s)+1)
			}
			depth[i+j]++
			depth[i+j+len(f)]--
			i += j + 1
		}
	}
	if depth == nil {
		return s
	}
	var out strings.Builder
	covered := int32(0)
	for i := 0; i < len(s); i++ {
		was := covered > 0
		covered += depth[i]
		switch {
		case covered == 0:
			out.WriteByte(s[i])
		case !was:
			out.WriteString(r.mask)
		}
	}
	return out.String()
}

// Error returns err with its message redacted. The result unwraps to err,
// so errors.Is and errors.As see the same chain; err itself is returned
// when its message holds no secret.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.String(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError is an error whose message had secrets cut out.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// userinfo is s escaped as the password of a URL's userinfo.
func userinfo(s string) string {
	return strings.TrimPrefix(url.UserPassword("", s).String(), ":")
}

// unquote drops the quotes strconv.Quote put around its result.
func unquote(q string) string { return q[1 : len(q)-1] }

// goJSON is s inside a JSON string as encoding/json writes it.
func goJSON(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s) // a string always encodes
	return unquote(strings.TrimSuffix(b.String(), "\n"))
}

// asciiJSON is s inside a JSON string as ASCII-only encoders write it
// (Python's json.dumps, Jackson's ESCAPE_NON_ASCII): every rune outside
// printable ASCII as \uXXXX, with UTF-16 surrogate pairs above U+FFFF.
// hex is "%04x" or "%04X", as encoders differ in the case of the digits.
func asciiJSON(s, hex string) string {
	var b strings.Builder
	for _, r := range s { // an invalid byte is one utf8.RuneError, as in encoding/json
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u`+hex+`\u`+hex, hi, lo)
		default:
			fmt.Fprintf(&b, `\u`+hex, r)
		}
	}
	return b.String()
}
