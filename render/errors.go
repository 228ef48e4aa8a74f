package render

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors; each is wrapped in an *Error naming file, line and
// cluster, so errors.Is tells a caller what kind of problem it is.
var (
	// ErrInvalid: a document breaks the repo format (SPEC section 1).
	ErrInvalid = errors.New("invalid")
	// ErrSyntax: a file is not valid YAML or JSON.
	ErrSyntax = errors.New("syntax error")
	// ErrDuplicateKey: a YAML or JSON mapping has one key twice.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrTooLarge: a file is over MaxFileSize or a document expands past
	// the alias budget.
	ErrTooLarge = errors.New("too large")
	// ErrBinary: a file is not UTF-8 text.
	ErrBinary = errors.New("not UTF-8 text")
	// ErrEscapes: a path leaves the repo or the credentials directory.
	ErrEscapes = errors.New("path escapes")
	// ErrNotFound: a Placement path or a named cluster does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: two Clusters, two Placements or two objects on one
	// cluster share a name.
	ErrDuplicate = errors.New("duplicate")
	// ErrUnknownVariable: a ${var.KEY} or ${cluster.labels.KEY} has no value.
	ErrUnknownVariable = errors.New("unknown variable")
	// ErrKustomize: kustomize could not build a kustomization.
	ErrKustomize = errors.New("kustomize build failed")
	// ErrEncrypted: a SOPS-encrypted file could not be used: no key
	// decrypts it (ErrNoKey), its MAC does not match, or it is not a
	// Secret.
	ErrEncrypted = errors.New("SOPS-encrypted file")
	// ErrChart: a Helm chart could not be loaded or rendered.
	ErrChart = errors.New("helm chart")
	// ErrNoKey: none of the operator's age keys decrypts a file.
	ErrNoKey = errors.New("no age key of the operator decrypts it")
	// ErrChanged: a file of the repo changed on disk between two reads
	// of one render; the next render reads it anew.
	ErrChanged = errors.New("changed on disk during the render")
)

// Error is one problem, located: "file:line: cluster c: placement p: err".
type Error struct {
	File      string // relative to the repo root; "" when not about a file
	Line      int    // 1-based; 0 when unknown
	Cluster   string // "" when not about one cluster
	Placement string // "" when not about one placement
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Cluster != "" {
		b.WriteString("cluster " + e.Cluster + ": ")
	}
	if e.Placement != "" {
		b.WriteString("placement " + e.Placement + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// flatten returns the leaves of a tree of errors.Join results, so that
// each problem can be located on its own.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
