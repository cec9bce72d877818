# clinops front door. Each target installs what it needs, idempotently.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# onnxruntime-node's install script would download extra binaries; its CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL := skip

NODE_STAMP := node_modules/.clinops-installed
BUILD_STAMP := dist/.clinops-built
TS_SOURCES := $(shell find contract statistics operator inference-server cli hack -name '*.ts' 2>/dev/null)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: $(NODE_STAMP) ## install system packages (openssl) and npm packages
	@bash hack/deps.sh

.PHONY: binaries
binaries: ## build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy, KWOK, helm, the tests' object store (MinIO) and custom metrics API (prometheus-adapter) into bin/
	@bash hack/binaries.sh >/dev/null
	@bash hack/minio.sh >/dev/null
	@bash hack/prometheus-adapter.sh >/dev/null

$(BUILD_STAMP): $(NODE_STAMP) $(TS_SOURCES) tsconfig.json tsconfig.build.json
	npx tsc -p tsconfig.build.json
	@touch $@

.PHONY: build
build: $(BUILD_STAMP) ## compile TypeScript into dist/

.PHONY: image-archives
image-archives: deps binaries
	@bash hack/images.sh >/dev/null

.PHONY: images
images: image-archives build ## build the server, operator, base and pause images with buildah (cached by their inputs); import them into a running cluster's node
	@node dist/hack/cluster.js import-images

.PHONY: typecheck
typecheck: $(NODE_STAMP)
	npx tsc -p tsconfig.json --noEmit

.PHONY: test
test: deps binaries image-archives typecheck build ## everything CI runs: typecheck, unit tests, integration tests on a real control plane and a real node
	node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit
	@# The tests' Python venvs (reference values, fixtures; the benchmarks' baselines, smoke-run here) before
	@# the clusters start: no test pays for an install mid-run.
	@bash hack/python-env.sh test >/dev/null
	@bash hack/python-env.sh bench >/dev/null
	@bash hack/python-env.sh mlserver >/dev/null
	node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects integration --runInBand --testPathIgnorePatterns 'test/integration/pods\.test\.ts' 'test/integration/bench-node\.test\.ts'
	@# The whole product in real pods, in a jest run (and control plane) of its own: its real node changes
	@# this machine's network and load. (Fake nodes' pods once turned unready five minutes into a run: KWOK
	@# renewed no node lease, so the node lifecycle controller marked its nodes Unknown; it renews them now.)
	node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects integration --runInBand test/integration/pods.test.ts test/integration/bench-node.test.ts

.PHONY: docs
docs: build ## remake the reference pages (docs/reference/) from the CRDs and the settings tables; make test checks them
	node dist/hack/gen-docs.js

.PHONY: test-unit
test-unit: $(NODE_STAMP) ## unit tests only (no cluster)
	node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit

.PHONY: cluster-up
cluster-up: deps binaries image-archives build ## start the local control plane with fake GPU nodes and a real node; writes .clinops/kubeconfig
	node dist/hack/cluster.js up

.PHONY: cluster-down
cluster-down: build ## stop the local control plane
	node dist/hack/cluster.js down

.PHONY: run
run: build ## run the operator out of cluster against the current KUBECONFIG
	node dist/cli/main.js operator --no-leader-elect --http-address 127.0.0.1:8081

.PHONY: demo
demo: deps binaries image-archives build ## the local story: control plane, operator, a GPU model scheduled and served
	node dist/hack/demo.js

.PHONY: bench
bench: deps binaries image-archives build ## benchmarks: operator vs kube-controller-manager and its floor, drift checks of 1,000 models, server vs raw onnxruntime and FastAPI, ours vs MLServer and FastAPI over OIP v2 JSON, shadow on vs off, DICOM decoding vs pydicom, async jobs vs synchronous, studies through a PACS (Orthanc) vs a direct /predict, statistics vs scipy, a pod vs loopback, this server vs an earlier commit's
	node dist/bench/operator/main.js
	node dist/bench/operator/drift-scale.js
	node dist/bench/server/main.js
	node dist/bench/server/peers.js
	node dist/bench/server/tabular.js
	node dist/bench/server/shadow.js
	node dist/bench/server/dicom.js
	node dist/bench/server/jobs.js
	node dist/bench/server/pacs.js
	node dist/bench/statistics/main.js
	node dist/bench/node/main.js
	$(MAKE) --no-print-directory bench-ab

# The commit the side-by-side server benchmark compares against (the one before this, by default).
BASE ?= HEAD~1

.PHONY: bench-ab
bench-ab: build ## this server against an earlier commit's, side by side (CNN c=1, tiny c=1 and c=32): make bench-ab BASE=<commit>
	node dist/bench/server/ab.js --base "$$(bash hack/bench-base.sh $(BASE))"

.PHONY: clean
clean: ## remove build outputs (bin/ keeps pointing at the per-user cache)
	rm -rf dist .clinops
