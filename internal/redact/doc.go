// Package redact cuts secrets out of text that leaves mcp: error messages
// of apiservers, admission webhooks and git servers end up in logs, the
// /status endpoint and status commits.
//
// A secret rarely comes back in the form it was sent. A webhook quotes it
// with %q or marshals the object it was given into JSON; an apiserver
// shows a Secret's data in base64; a URL carries it percent-escaped. A
// Redactor is built from the secrets once and knows every such form:
//
//	r := redact.New("(redacted)", token, password)
//	err = r.Error(err) // same chain for errors.Is and errors.As, message cleaned
//	line := r.String(line)
//
// The forms of each secret s (see Forms): s itself; the inside of
// strconv.Quote and strconv.QuoteToASCII (what %q and %+q print, so the
// quoted form is caught with or without its quotes); the inside of a JSON
// string as encoding/json writes it (with and without HTML escaping) and as
// ASCII-only encoders write it (\u00e9, either case of hex digits); standard
// and URL base64, padded and raw; and URL escaping (query, path and userinfo). Base64
// of s at another offset inside a longer base64 text is not caught: its
// characters depend on what precedes s.
package redact
