// Package testenv starts real Kubernetes control planes for tests: for each
// cluster its own etcd and kube-apiserver, built from source by
// `make testenv` into bin/, listening on free loopback ports.
//
// Start them once per test package, in TestMain, and stop them when the
// tests end:
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) {
//		testenv.Main(m, &env, testenv.Options{Clusters: []string{"eu", "us"}})
//	}
//
// Each cluster has a kubeconfig file named after it in env.KubeconfigDir,
// the layout mcp expects of --credentials-dir. A cluster's apiserver can be
// stopped and started again (its etcd keeps the data) to test outages.
//
// Options.TokenController also starts a kube-controller-manager beside
// each apiserver with only the token and namespace controllers: the
// tokens of kubernetes.io/service-account-token Secrets are filled in and
// deleted namespaces go away, without a kubelet.
//
// When the binaries are missing, Start fails with "run make testenv": tests
// that need a control plane never skip silently.
//
// StartNode starts a cluster with a real node, for tests that run pods:
// kube-controller-manager, kube-scheduler and a kubelet on top of etcd and
// kube-apiserver, with Debian's containerd and runc (make testenv installs
// them) under a temporary directory. It needs root. The node's only
// address is InternalIP 127.0.0.1 and it has no pod network, so pods use
// the host network and listen on loopback; the kubernetes Service
// (127.96.0.1:443) is forwarded to the apiserver, so in-cluster clients
// work. Images are built without a Docker engine by BuildImage (hack/image)
// and imported before the kubelet starts. NodeCluster.Stop deletes the
// pods, stops every process, and puts back what the kubelet and containerd
// changed on the machine: mounts, the kubepods cgroups, the directories
// they create at fixed paths, and the kernel settings the kubelet sets.
// Start-up takes 10 to 15 seconds; a test binary starts at most one, when
// a test first needs it (see e2e/).
package testenv
