package git

import (
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

func openClone(t *testing.T, src *Source) *git.Repository {
	t.Helper()
	repo, err := git.PlainOpen(src.Dir())
	if err != nil {
		t.Fatalf("open clone %s: %v", src.Dir(), err)
	}
	return repo
}

func plumbingHash(s string) plumbing.Hash { return plumbing.NewHash(s) }
