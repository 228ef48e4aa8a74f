package object

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
)

func TestSharedMapsOneMapPerContent(t *testing.T) {
	var s SharedMaps
	a := s.Get(map[string]string{"app": "web", "tier": "front"})
	b := s.Get(map[string]string{"tier": "front", "app": "web"})
	if reflect.ValueOf(a).Pointer() != reflect.ValueOf(b).Pointer() {
		t.Fatal("equal contents got two maps")
	}
	if !reflect.DeepEqual(a, map[string]any{"app": "web", "tier": "front"}) {
		t.Fatalf("content: %v", a)
	}
	// Contents that would read alike if joined without lengths.
	for _, m := range []map[string]string{
		{"app": "web:tier"},
		{"app": "web", "tier": ""},
		{"app:web": ""},
		{},
	} {
		got := s.Get(m)
		if reflect.ValueOf(got).Pointer() == reflect.ValueOf(a).Pointer() || len(got) != len(m) {
			t.Errorf("Get(%v) = %v", m, got)
		}
		for k, v := range m {
			if got[k] != v {
				t.Errorf("Get(%v) = %v", m, got)
			}
		}
	}
}

func TestSharedMapsConcurrent(t *testing.T) {
	var s SharedMaps
	var wg sync.WaitGroup
	got := make([]map[string]any, 8)
	for i := range got {
		wg.Go(func() {
			for j := range 100 {
				s.Get(map[string]string{"n": fmt.Sprint(j)})
			}
			got[i] = s.Get(map[string]string{"n": "0"})
		})
	}
	wg.Wait()
	for _, m := range got[1:] {
		if reflect.ValueOf(m).Pointer() != reflect.ValueOf(got[0]).Pointer() {
			t.Fatal("one content, several maps")
		}
	}
}

// TestContentKey: lists of strings that differ never share a key, however
// their strings would run together.
func TestContentKey(t *testing.T) {
	lists := [][]string{{}, {""}, {"", ""}, {"ab"}, {"a", "b"}, {"a:b"}, {"1:a"}, {"a", "1:b"}}
	seen := map[string][]string{}
	for _, l := range lists {
		k := ContentKey(l...)
		if other, ok := seen[k]; ok {
			t.Errorf("%q and %q share the key %q", other, l, k)
		}
		seen[k] = l
	}
	if ContentKey("a", "b") != ContentKey("a", "b") {
		t.Errorf("one list, two keys")
	}
}
