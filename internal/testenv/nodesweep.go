package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// hostRecord is what a node cluster changed outside its directory. It is
// saved in the directory (host.json) as soon as it is known, so that when
// a test binary is killed before Stop, the next StartNode puts the machine
// back (sweepStale).
type hostRecord struct {
	// PID of the process that started the node cluster.
	PID int `json:"pid"`
	// Sysctls are the kernel settings as they were before the kubelet.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// Created are directories at fixed paths that did not exist before.
	Created []string `json:"created,omitempty"`
}

const hostRecordFile = "host.json"

func saveHostRecord(dir string, rec hostRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, hostRecordFile), data, 0o600)
}

// restoreHost puts back what the node cluster in dir changed, once its
// processes are gone: mounts below dir, the kubepods cgroups, directories
// created at fixed paths, log links, kernel settings.
func restoreHost(dir string, rec hostRecord, cgroups bool) error {
	errs := []error{unmountBelow(dir)}
	if cgroups {
		errs = append(errs, removeKubepodsCgroups())
	}
	for _, d := range rec.Created {
		errs = append(errs, os.RemoveAll(d))
	}
	errs = append(errs, removeLinksInto("/var/log/containers", dir))
	if rec.Sysctls != nil {
		errs = append(errs, restoreSysctls(rec.Sysctls))
	}
	return errors.Join(errs...)
}

// sweepStale puts the machine back after node clusters whose process died
// without stopping them: their shims and containers are killed, their
// mounts, cgroups and directories removed, the kernel settings restored.
func sweepStale() error {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), "mcp-testenv-node-*"))
	if err != nil {
		return err
	}
	type staleNode struct {
		dir string
		rec hostRecord
	}
	var stale []staleNode
	live := false
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, hostRecordFile))
		if err != nil {
			continue // being created, or not ours
		}
		var rec hostRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			continue
		}
		if rec.PID > 0 && syscall.Kill(rec.PID, 0) == nil {
			live = true
			continue
		}
		stale = append(stale, staleNode{dir, rec})
	}
	var errs []error
	for _, s := range stale {
		killShims(filepath.Join(s.dir, "node", "containerd.sock"))
		if !live {
			killCgroupProcs()
		}
		if err := restoreHost(s.dir, s.rec, !live); err != nil {
			errs = append(errs, fmt.Errorf("stale node cluster %s: %w", s.dir, err))
			continue
		}
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// lockNodes waits until no other process runs a node cluster on this
// machine, and returns the lock that says this one does: two kubelets
// would share the kubepods cgroups (and kill each other's pods), the
// device plugins' socket and the kubernetes Service's address. It is an
// flock on the temporary directory itself, so it leaves no file behind
// and is released when the process dies.
func lockNodes(ctx context.Context) (*os.File, error) {
	f, err := os.Open(os.TempDir())
	if err != nil {
		return nil, err
	}
	if err := takeLock(ctx, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// takeLock takes the flock of f, waiting for other holders; a holder of
// the same open file (inherited by a child) gets it at once.
func takeLock(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for another node cluster on this machine to stop: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
