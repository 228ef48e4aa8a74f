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
// When the binaries are missing, Start fails with "run make testenv": tests
// that need a control plane never skip silently.
package testenv
