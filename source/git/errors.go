package git

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh/knownhosts"

	"mcp.dev/mcp/internal/redact"
	"mcp.dev/mcp/source"
)

// sourceError carries a message written for the user and keeps both the
// sentinel and go-git's cause reachable through errors.Is and errors.As.
type sourceError struct {
	msg      string
	sentinel error
	cause    error
}

func (e *sourceError) Error() string   { return e.msg }
func (e *sourceError) Unwrap() []error { return []error{e.sentinel, e.cause} }

// translate turns go-git's errors of one network call (what: "ls-remote",
// "fetch") made with auth into errors users can act on, naming the
// redacted URL, with the call's credentials cut out in every form package
// redact knows: a git server's own messages ("ERR ...", "remote: ...")
// reach the error text and may echo what it was sent. It is where go-git's
// errors about the remote (authentication, host keys, missing
// repositories) are looked at; fetch and checkout look at the few others
// they expect (already up to date, exact SHAs not served).
func (s *Source) translate(ctx context.Context, what string, auth transport.AuthMethod, err error) error {
	if err == nil {
		return nil
	}
	return s.redactor(auth).Error(s.explain(ctx, what, err))
}

// redactor knows the credentials of one call: the password or token and
// the basic-auth pair built from it (whose base64 is the Authorization
// header), from the URL or the password file.
func (s *Source) redactor(auth transport.AuthMethod) *redact.Redactor {
	secrets := []string{s.url.password}
	if b, ok := auth.(*githttp.BasicAuth); ok {
		secrets = append(secrets, b.Password, b.Username+":"+b.Password)
	}
	return redact.New("***", secrets...)
}

// explain is translate without the redaction.
func (s *Source) explain(ctx context.Context, what string, err error) error {
	url := s.url.redacted
	var keyErr *knownhosts.KeyError
	switch {
	case errors.As(err, &keyErr):
		host := s.sshAddr()
		if len(keyErr.Want) == 0 {
			return &sourceError{
				msg:      fmt.Sprintf("host key for %s not in known_hosts %s", host, s.knownHostsName()),
				sentinel: source.ErrUnknownHostKey, cause: err,
			}
		}
		return &sourceError{
			msg:      fmt.Sprintf("host key for %s does not match known_hosts %s (the key changed, or someone is in between)", host, s.knownHostsName()),
			sentinel: source.ErrUnknownHostKey, cause: err,
		}
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(err.Error(), "ssh: unable to authenticate"):
		return &sourceError{
			msg:      "authentication failed for " + url,
			sentinel: source.ErrAuthentication, cause: err,
		}
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return &sourceError{
			msg:      "repository " + url + " not found",
			sentinel: source.ErrRepoNotFound, cause: err,
		}
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return &sourceError{
			msg:      "repository " + url + " is empty: branch " + s.opts.Branch + " not found",
			sentinel: source.ErrBranchNotFound, cause: err,
		}
	case ctx.Err() == nil && isTimeout(err):
		return fmt.Errorf("%s %s: timed out after %s: %w", what, url, s.opts.Timeout, err)
	}
	return fmt.Errorf("%s %s: %w", what, url, err)
}

// timedOut marks err as the call's timeout when the call's own deadline
// passed (and not the caller's): the connection it closed surfaces as
// "use of closed network connection", not as the deadline.
func timedOut(ctx, callCtx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(callCtx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
}

// notFound is the error for a branch, tag or commit the remote lacks.
func (s *Source) notFound(kind, name string) error {
	sentinel := source.ErrRefNotFound
	if kind == "branch" {
		sentinel = source.ErrBranchNotFound
	}
	return fmt.Errorf("%s %s %w in %s", kind, name, sentinel, s.url.redacted)
}

// isNetwork reports whether err is the network failing rather than the
// server answering.
func isNetwork(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// isTimeout reports whether the call's own timeout ended it: its context
// (http) or the deadline on its connection (ssh).
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
}
