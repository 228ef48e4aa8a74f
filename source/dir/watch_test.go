package dir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const debounce = 100 * time.Millisecond

// watch starts a watch and returns a function that counts the
// notifications of the next quiet period.
func watch(t *testing.T, root string) func() int {
	t.Helper()
	src, err := New(Options{Dir: root, Debounce: debounce, MaxDelay: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := src.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		for range ch { // closed once the watch has stopped
		}
	})
	return func() int {
		n := 0
		quiet := time.NewTimer(10 * debounce)
		defer quiet.Stop()
		for {
			select {
			case <-ch:
				n++
				quiet.Reset(10 * debounce)
			case <-quiet.C:
				return n
			}
		}
	}
}

func TestWatch(t *testing.T) {
	root := t.TempDir()
	write(t, root, "clusters/a.yaml", "a\n")
	write(t, root, ".git/HEAD", "ref: refs/heads/main\n")
	next := watch(t, root)

	steps := []struct {
		name string
		edit func()
		want int
	}{
		{"create", func() { write(t, root, "clusters/b.yaml", "b\n") }, 1},
		{"modify", func() { write(t, root, "clusters/a.yaml", "a2\n") }, 1},
		{"delete", func() { os.Remove(filepath.Join(root, "clusters/b.yaml")) }, 1},
		{"new subdirectory", func() { write(t, root, "apps/web/deep/d.yaml", "d\n") }, 1},
		// The new directory is watched too.
		{"file in the new subdirectory", func() { write(t, root, "apps/web/deep/e.yaml", "e\n") }, 1},
		{"burst of ten files", func() {
			for i := range 10 {
				write(t, root, fmt.Sprintf("apps/web/f%d.yaml", i), "f\n")
				time.Sleep(debounce / 10)
			}
		}, 1},
		{"editor temp files", func() {
			write(t, root, "clusters/.a.yaml.swp", "x")
			write(t, root, "clusters/a.yaml~", "x")
			write(t, root, "4913", "")
			write(t, root, ".#a.yaml", "x")
		}, 0},
		{"git metadata", func() { write(t, root, ".git/refs/heads/main", "abc\n") }, 0},
		{"remove a directory", func() { os.RemoveAll(filepath.Join(root, "apps")) }, 1},
	}
	for _, st := range steps {
		st.edit()
		if got := next(); got != st.want {
			t.Fatalf("%s: %d notifications, want %d", st.name, got, st.want)
		}
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	src, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := src.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatalf("a notification instead of the channel closing")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the channel was not closed after cancel")
	}
}
