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
