// Package gitserver starts real git servers on loopback for tests: git's
// smart HTTP protocol (git-http-backend behind basic auth, fetch and push)
// and ssh (golang.org/x/crypto/ssh running git-upload-pack and
// git-receive-pack), both serving the bare repos of one Root.
//
//	root := gitserver.NewRoot(t)
//	repo := root.Init("fleet")
//	sha := repo.Commit("main", "first", map[string]string{"clusters.yaml": "..."})
//	srv := gitserver.NewHTTP(t, root, "user", "token")
//	url := srv.RepoURL("fleet") // http://127.0.0.1:PORT/fleet.git
//	n := len(srv.Requests())    // round trips so far
//
//	key, pub := gitserver.GenerateKey(t, "")
//	sshSrv := gitserver.NewSSH(t, root, pub)
//	knownHosts := sshSrv.WriteKnownHosts(t.TempDir())
package gitserver
