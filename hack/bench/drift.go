package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// driftObject is the object edited by hand in the drift row.
const driftObject = 3

// idleWindow is how long an idle mcp run is watched for requests.
const idleWindow = 10 * time.Second

// drift edits one object by hand and measures how it is healed: by a
// forced kubectl apply for the peer (kubectl has no daemon: this is what a
// loop around it would run each interval), and by a running `mcp run`,
// from the edit until the object is back. Then it counts what the idle
// mcp run asks of the apiserver.
func (c *clusterBench) drift(ctx context.Context, st *state) (drift, idle row, err error) {
	drift.name = fmt.Sprintf("drift on one object healed, N=%d", st.n)
	drift.note = "kubectl: a forced re-apply; mcp: `mcp run`, edit to healed"
	idle.name = fmt.Sprintf("idle `mcp run`, %s, N=%d", idleWindow, st.n)

	if err := c.editByHand(ctx, st.peerNS); err != nil {
		return drift, idle, err
	}
	p, err := c.measure(ctx, func() (int64, time.Duration, error) { return c.kubectlAll(ctx, st, true) })
	if err != nil {
		return drift, idle, err
	}
	if err := c.requireHealed(ctx, st.peerNS); err != nil {
		return drift, idle, fmt.Errorf("kubectl: %w", err)
	}
	drift.peer = []sample{p}

	// The apiservers' own traffic while nothing else runs, for comparison.
	background, err := c.counter.measure(ctx, func() error { time.Sleep(idleWindow); return nil })
	if err != nil {
		return drift, idle, err
	}
	idle.peer = []sample{{reqs: background}}
	idle.note = "kubectl column: the apiserver alone, no client"

	port, err := freePort()
	if err != nil {
		return drift, idle, err
	}
	cmd := exec.CommandContext(ctx, c.b.mcp, "run", "--dir", st.repo, "--credentials-dir", c.env.KubeconfigDir,
		"--listen", "127.0.0.1:"+strconv.Itoa(port), "--log-level", "warn", "--max-objects", maxObjects)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return drift, idle, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := waitSynced(ctx, port); err != nil {
		return drift, idle, err
	}
	time.Sleep(time.Second) // the first reconcile's watches settle

	w, err := c.dyn[0].Resource(cmGVR).Namespace(st.mcpNS).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + objectName(driftObject),
	})
	if err != nil {
		return drift, idle, err
	}
	defer w.Stop()
	var healedIn time.Duration
	reqs, err := c.counter.measure(ctx, func() error {
		start := time.Now()
		if err := c.editByHand(ctx, st.mcpNS); err != nil {
			return err
		}
		timeout := time.After(60 * time.Second)
		for {
			select {
			case ev := <-w.ResultChan():
				if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type == watch.Modified && !edited(u) {
					healedIn = time.Since(start)
					return nil
				}
			case <-timeout:
				// Reported in the table, not fatal: the other rows stand.
				drift.note += "; mcp run did not heal it within 60 s"
				return nil
			}
		}
	})
	if err != nil {
		return drift, idle, err
	}
	// The edit is the bench's own request; the watch is counted only when
	// it ends.
	drift.mcp = []sample{{wall: healedIn, reqs: reqs - 1, rss: vmHWM(cmd.Process.Pid)}}

	time.Sleep(2 * time.Second)
	idleReqs, err := c.counter.measure(ctx, func() error { time.Sleep(idleWindow); return nil })
	if err != nil {
		return drift, idle, err
	}
	idle.mcp = []sample{{reqs: idleReqs, rss: vmHWM(cmd.Process.Pid)}}
	return drift, idle, nil
}

func objectName(i int) string { return fmt.Sprintf("cm-%05d", i) }

const handValue = "edited by hand"

func edited(u *unstructured.Unstructured) bool {
	v, _, _ := unstructured.NestedString(u.Object, "data", "key00")
	return v == handValue
}

// editByHand changes one value of the drift object, as kubectl edit would.
func (c *clusterBench) editByHand(ctx context.Context, ns string) error {
	r := c.dyn[0].Resource(cmGVR).Namespace(ns)
	u, err := r.Get(ctx, objectName(driftObject), metav1.GetOptions{})
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedField(u.Object, handValue, "data", "key00"); err != nil {
		return err
	}
	_, err = r.Update(ctx, u, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	return err
}

func (c *clusterBench) requireHealed(ctx context.Context, ns string) error {
	u, err := c.dyn[0].Resource(cmGVR).Namespace(ns).Get(ctx, objectName(driftObject), metav1.GetOptions{})
	if err != nil {
		return err
	}
	if edited(u) {
		return fmt.Errorf("%s/%s was not healed", ns, objectName(driftObject))
	}
	return nil
}

// waitSynced polls mcp run's /status until every cluster is Synced.
func waitSynced(ctx context.Context, port int) error {
	deadline := time.Now().Add(3 * time.Minute)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/status"
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var st struct {
				Clusters []struct{ Result string } `json:"clusters"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			synced := derr == nil && len(st.Clusters) > 0
			for _, c := range st.Clusters {
				synced = synced && c.Result == "Synced"
			}
			if synced {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("mcp run did not report every cluster Synced within 3 minutes")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
