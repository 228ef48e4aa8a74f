package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a kubelet and containerd change on the machine outside the node's
// directory, and how the test bed puts it back.

// hostDirs are the directories containerd and the kubelet create at fixed
// paths whatever their configuration: the shims' sockets, the device
// plugins' socket, the links to container logs.
var hostDirs = []string{"/run/containerd", "/var/lib/kubelet", "/var/log/containers"}

// removeLinksInto removes the symbolic links in dir that point below
// target: the kubelet's links to the logs of its containers.
func removeLinksInto(dir, target string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // gone already, or never there
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if dest, err := os.Readlink(p); err == nil && strings.HasPrefix(dest, target+"/") {
			errs = append(errs, os.Remove(p))
		}
	}
	return errors.Join(errs...)
}

// kubeletSysctls are the kernel settings the kubelet sets at start
// (protectKernelDefaults: false).
var kubeletSysctls = []string{
	"vm.overcommit_memory",
	"vm.panic_on_oom",
	"kernel.panic",
	"kernel.panic_on_oops",
	"kernel.keys.root_maxkeys",
	"kernel.keys.root_maxbytes",
}

func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// readSysctls records the current values of names.
func readSysctls(names []string) (map[string]string, error) {
	vals := map[string]string{}
	for _, n := range names {
		data, err := os.ReadFile(sysctlPath(n))
		if err != nil {
			return nil, fmt.Errorf("sysctl %s: %w", n, err)
		}
		vals[n] = strings.TrimSpace(string(data))
	}
	return vals, nil
}

// restoreSysctls writes back the values readSysctls recorded.
func restoreSysctls(vals map[string]string) error {
	var errs []error
	for n, v := range vals {
		if err := os.WriteFile(sysctlPath(n), []byte(v+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// mountsBelow lists the mount points at or below dir, deepest first.
func mountsBelow(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	// Later mounts may sit on top of earlier ones: unmount in reverse.
	slices.Reverse(out)
	return out, s.Err()
}

// unescapeMount undoes the octal escapes of /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountBelow unmounts everything the kubelet and containerd mounted in
// dir (Secret volumes, sandbox shm, container root filesystems).
func unmountBelow(dir string) error {
	var errs []error
	for range 3 {
		mps, err := mountsBelow(dir)
		if err != nil || len(mps) == 0 {
			return err
		}
		errs = nil
		for _, mp := range mps {
			if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
				errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
			}
		}
	}
	if mps, _ := mountsBelow(dir); len(mps) > 0 {
		errs = append(errs, fmt.Errorf("still mounted: %s", strings.Join(mps, ", ")))
	}
	return errors.Join(errs...)
}

// cgroupRoots are the mounted cgroup hierarchies: one per v1 controller,
// and the unified (v2) one.
func cgroupRoots() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	var roots []string
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && (f[2] == "cgroup" || f[2] == "cgroup2") {
			roots = append(roots, f[1])
		}
	}
	return roots, nil
}

// kubepodsCgroups are the cgroup directories the kubelet creates for pods.
func kubepodsCgroups() ([]string, error) {
	roots, err := cgroupRoots()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range roots {
		if _, err := os.Stat(filepath.Join(r, "kubepods")); err == nil {
			out = append(out, filepath.Join(r, "kubepods"))
		}
	}
	return out, nil
}

// killCgroupProcs kills every process left in the kubepods cgroups: a
// container whose shim is gone still runs there.
func killCgroupProcs() {
	dirs, _ := kubepodsCgroups()
	for _, d := range dirs {
		filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || e.Name() != "cgroup.procs" {
				return nil
			}
			data, _ := os.ReadFile(path)
			for f := range strings.FieldsSeq(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	}
}

// removeKubepodsCgroups removes the kubepods cgroup trees, deepest first;
// an empty cgroup is removed with rmdir, its control files go with it.
func removeKubepodsCgroups() error {
	dirs, err := kubepodsCgroups()
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range dirs {
		var sub []string
		filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				sub = append(sub, path)
			}
			return nil
		})
		slices.Reverse(sub)
		for _, s := range sub {
			var err error
			// A cgroup whose last process just died may be busy a moment.
			for range 50 {
				if err = syscall.Rmdir(s); err == nil || errors.Is(err, syscall.ENOENT) {
					err = nil
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", s, err))
			}
		}
	}
	return errors.Join(errs...)
}

// killShims kills containerd shims started for the containerd listening on
// socket: they outlive containerd by design.
func killShims(socket string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(cmdline, []byte{0})
		if len(args) > 0 && strings.Contains(string(args[0]), "containerd-shim") && bytes.Contains(cmdline, []byte(socket)) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
