# mcp — build, test and benchmark targets. `make help` lists them.

GO        ?= go
# The newest toolchain the module proxy serves: go1.26.8 has known
# standard-library vulnerabilities (make vulncheck). go.mod names it too.
export GOTOOLCHAIN ?= go1.27.3
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X mcp.dev/mcp/internal/version.Version=$(VERSION) -X mcp.dev/mcp/internal/version.Commit=$(COMMIT)
IMAGE     ?= mcp:$(VERSION)
FUZZTIME  ?= 5s

.PHONY: help build test testenv containerd browser lint vulncheck fuzz bench image image-tar clean demo demo-pod soak docs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/mcp, version stamped
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/mcp ./cmd/mcp

test: testenv browser ## run every test with the race detector (builds the test bed, installs chromium if missing)
	$(GO) test -race -count=1 -timeout 30m ./...
	cd hack/image && $(GO) test -count=1 ./...

# The test bed: kube-apiserver and etcd built from source, because no
# prebuilt binaries can be downloaded. Rebuilt only when their pins change.
# The node clusters add a kubelet, controller-manager and scheduler, and run
# pods through Debian's containerd and runc (installed when missing; CI runs
# as root).
testenv: $(BIN)/kube-apiserver $(BIN)/etcd $(BIN)/kubelet $(BIN)/kube-controller-manager $(BIN)/kube-scheduler containerd ## build the control plane and node used by tests

# Stamped with their real version: built plainly they report v0.0.0-master,
# and clients that check /version (Helm's kubeVersion) would refuse them.
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=v1.35.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35

$(BIN)/kube-apiserver: hack/controlplane/go.mod hack/controlplane/go.sum
	cd hack/controlplane && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o ../../$@ k8s.io/kubernetes/cmd/kube-apiserver

$(BIN)/kubelet $(BIN)/kube-controller-manager $(BIN)/kube-scheduler: hack/controlplane/go.mod hack/controlplane/go.sum
	cd hack/controlplane && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o ../../$@ k8s.io/kubernetes/cmd/$(notdir $@)

containerd: ## install containerd and runc for the test bed's node when missing
	@test -x /usr/bin/containerd -a -x /usr/sbin/runc || (apt-get update && apt-get install -y --no-install-recommends containerd runc)

$(BIN)/etcd: hack/controlplane/go.mod hack/controlplane/go.sum
	cd hack/controlplane && $(GO) build -o ../../$@ go.etcd.io/etcd/server/v3

# The dashboard is tested in a real browser: Debian's chromium, driven
# headless by chromedp. Installed only when missing (CI runs as root).
browser: ## install chromium for the dashboard's browser tests
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium fonts-liberation)

lint: ## gofmt check, go vet, and go.mod tidy
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff

# govulncheck against the Go vulnerability database that hack/vulncheck
# pins (golang.org/x/vulndb), written out as a local directory: the scan
# asks no vulnerability server, and runs with GOPROXY=off once the modules
# it loads are downloaded. It fails (exit status 3) when mcp's code can
# reach a known vulnerability, in a module or in the standard library of
# the Go it is built with.
VULNCHECK_MOD := hack/vulncheck/go.mod hack/vulncheck/go.sum

vulncheck: $(BIN)/govulncheck $(BIN)/vulndb/index/db.json ## govulncheck against the pinned vulnerability database, offline
	$(GO) list -deps -test ./... >/dev/null
	GOPROXY=off $(BIN)/govulncheck -db file://$(abspath $(BIN))/vulndb ./...

$(BIN)/govulncheck: $(VULNCHECK_MOD)
	cd hack/vulncheck && $(GO) build -o $(abspath $@) golang.org/x/vuln/cmd/govulncheck

$(BIN)/vulndb/index/db.json: $(VULNCHECK_MOD) hack/vulncheck/mkdb/main.go
	cd hack/vulncheck && $(GO) run ./mkdb -out $(abspath $(BIN))/vulndb

SOAK_DURATION ?= 3m

soak: testenv ## many reconcile rounds for SOAK_DURATION (default 3m): memory and goroutines stay bounded
	MCP_SOAK=1 SOAK_DURATION=$(SOAK_DURATION) $(GO) test -race -count=1 -timeout 60m -run '^TestSoak$$' -v ./reconciler/

fuzz: ## run each fuzz target for FUZZTIME
	hack/fuzz.sh $(FUZZTIME)

# mcp side by side with kubectl apply --server-side on real apiservers of
# the test bed (about 10 minutes; BENCH_FLAGS=-sizes=500,2000 skips the
# 10,000-object rows), then the Go benchmarks of render and diff. Not part
# of make test or CI: it measures, it does not judge.
BENCH_FLAGS ?=
bench: build testenv ## benchmark mcp against kubectl on real apiservers, and the Go benchmarks
	@command -v kubectl >/dev/null || { echo "make bench: kubectl not found on PATH; it is the peer mcp is measured against. Install kubectl and run again."; exit 1; }
	$(GO) run ./hack/bench $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchmem ./render/ ./diff/

image: ## build the container image (needs a Docker engine)
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .

# The same image without a Docker engine: hack/image packs bin/mcp with
# go-containerregistry into an OCI archive, with the user, entrypoint, ports
# and files the Dockerfile gives it (a test compares them). Load it with
# `ctr -n k8s.io images import` or `docker load`.
IMAGE_TAR ?= $(BIN)/mcp-image.tar
image-tar: build ## write the container image as an OCI archive, no Docker engine needed
	cd hack/image && $(GO) run . -o $(abspath $(IMAGE_TAR)) -name $(IMAGE) -binary $(abspath $(BIN)/mcp) -path /mcp -cmd run -port 8080 \
		-env MCP_CACHE_DIR=/var/cache/mcp -label org.opencontainers.image.title=mcp \
		-label 'org.opencontainers.image.description=GitOps reconciler for fleets of Kubernetes clusters' \
		-label org.opencontainers.image.version=$(VERSION)

docs: ## regenerate docs/cli.md from the commands' help (a test fails when it is stale)
	$(GO) test ./cmd/mcp -run TestCLIReference -count=1 -update

clean: ## remove build output
	rm -rf $(BIN)

demo: build testenv ## the main job: three local clusters reconciled from testdata/demo
	$(GO) run ./hack/demo

demo-pod: build testenv ## the same, with mcp running as a pod of deploy/ on a cluster with a real node (as root)
	$(MAKE) --no-print-directory image-tar IMAGE=localhost/mcp:demo
	$(GO) run ./hack/demo -pod -image-tar $(IMAGE_TAR)
