package dashboard

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/reconciler/status"
)

// TestBrowserShowsHostileTextAsText opens pages full of markup-like
// values in chromium: they must read as text, run nothing and break
// nothing, in light and dark, on a wide screen and a phone.
func TestBrowserShowsHostileTextAsText(t *testing.T) {
	store := fixture(t)
	srv := httptest.NewServer(New(store, DefaultOptions()))
	t.Cleanup(srv.Close) // after the browser's cleanup: Close waits for its live stream
	b := newBrowser(t)

	b.do(t, chromedp.Navigate(srv.URL+"/"))
	b.waitJS(t, "the live indicator", `document.getElementById('live').textContent === 'Live'`, 10*time.Second)
	labels := eval[[]string](t, b, `Array.from(document.querySelectorAll('tr[data-cluster="gcp-us"] .labels li'), li => li.textContent)`)
	if len(labels) != 2 || labels[0] != "cloud="+xssScript || labels[1] != "team="+xssImg {
		t.Fatalf("labels read %q", labels)
	}
	if n := eval[int](t, b, `document.querySelectorAll('script').length + document.querySelectorAll('main img, main [onerror]').length`); n != 1 {
		t.Fatalf("%d script, img or onerror elements, want only the page's own script", n)
	}
	if title := eval[string](t, b, `document.title`); title != "Fleet · mcp" {
		t.Fatalf("title %q", title)
	}

	// Keyboard: the skip link comes first, then the clusters can be reached.
	b.do(t, chromedp.KeyEvent("\t"))
	if cls := eval[string](t, b, `document.activeElement.className`); cls != "skip" {
		t.Fatalf("first Tab focuses %q, want the skip link", cls)
	}
	reached := false
	for range 10 {
		b.do(t, chromedp.KeyEvent("\t"))
		if eval[string](t, b, `document.activeElement.dataset.key || ''`) == "cluster-aws-eu" {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reaches the first cluster's link")
	}

	// Live: a cluster that reports shows up without a reload, and the
	// focused link keeps the focus.
	b.do(t, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	store.Update(status.Cluster{Name: "azure-asia", Result: apply.Paused, Revision: "x", Since: time.Now()})
	took := b.waitJS(t, "the new cluster", `document.querySelector('tr[data-cluster="azure-asia"]')?.dataset.result === 'Paused'`, 5*time.Second)
	t.Logf("a change showed after %v", took)
	if !eval[bool](t, b, `window.notReloaded === true && document.activeElement.dataset.key === 'cluster-aws-eu'`) {
		t.Fatal("the page reloaded or lost the focus for a live update")
	}

	// Light and dark differ; both keep every status in words.
	light := eval[string](t, b, `getComputedStyle(document.body).backgroundColor`)
	b.do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	}))
	if dark := eval[string](t, b, `getComputedStyle(document.body).backgroundColor`); dark == light {
		t.Fatalf("dark mode has the light background %s", dark)
	}
	b.screenshot(t, "dashboard-hostile-dark")

	// A phone: no sideways scrolling, the cluster page included.
	b.do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(srv.URL+"/clusters/gcp-us"))
	b.waitJS(t, "the plan", `document.querySelectorAll('#plan .field').length === 2`, 10*time.Second)
	if w := eval[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); w > 1 {
		t.Fatalf("the cluster page is %dpx wider than a phone", w)
	}
	fields := eval[[]string](t, b, `Array.from(document.querySelectorAll('#plan .field'), li => li.textContent.replace(/\s+/g, ' '))`)
	if want := `data.value: from "one" → to "\"><img src=x onerror=alert(1)>"`; fields[0] != want {
		t.Fatalf("field reads %q, want %q", fields[0], want)
	}
	if want := "data.password: (sensitive value changed)"; fields[1] != want {
		t.Fatalf("secret field reads %q, want %q", fields[1], want)
	}
	b.screenshot(t, "dashboard-cluster-phone")
	b.checkClean(t)
}
