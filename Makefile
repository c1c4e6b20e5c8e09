# One venv, two commands: `make run` starts everything, `make test` passes the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test soak bench install requirements proto lint clean go-deps go-proto go-client node-deps browser

# The development set: the runtime one (requirements.txt, all the image installs) plus the tools and test libraries.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Both pinned sets, with hashes, from requirements.in and requirements-dev.in (pins already in the .txt files are
# kept; `make requirements UPGRADE=1` moves them to the newest releases). -r makes the dev set include the runtime one.
COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links $(if $(UPGRADE),--upgrade)
requirements: $(STAMP)
	$(COMPILE) --output-file requirements.txt requirements.in
	$(COMPILE) --output-file requirements-dev.txt requirements-dev.in
	{ echo "-r requirements.txt"; grep -vx -- "-r requirements.txt" requirements-dev.txt; } > requirements-dev.tmp
	mv requirements-dev.tmp requirements-dev.txt

run: $(STAMP)
	OMS_DEV=1 $(BIN)/python manage.py up

# The suite runs in TEST_PROCESSES pytest-xdist workers (0: in this process alone): its tests mostly wait on sockets
# and child processes (one serial run keeps a third of one core busy), so 3 workers suit 2 cores. Each worker has its
# own test database and Redis key prefix (tests/isolation.py); worksteal evens out the few long tests.
TEST_PROCESSES ?= 3
test: $(STAMP) lint go-client node-deps browser
	OMS_DEV=1 $(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal

# The long reliability runs (tests/soak, about 5 minutes on 2 cores): scenario 15 for 60 s, the state machine
# at 20 examples x 20 steps, scenario 1 at 200 placements (SDK and worker), 200 random orders and fills; the
# figures table is printed at the end.
soak: $(STAMP)
	OMS_DEV=1 $(BIN)/python -m pytest -m soak tests/soak

# Benchmarks against the local venue on free ports with a database of their own (about 6 minutes on 2 cores):
# the table is printed and written to bench/results/latest.json. One scenario: .venv/bin/python -m bench placement
bench: $(STAMP)
	OMS_DEV=1 $(BIN)/python -m bench

# The admin's browser test drives Debian's headless Chromium; install it when missing (needs root/apt).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "warning: chromium/chromium-driver not installed; the admin browser test will be skipped"

proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I./proto --python_out=./proto --pyi_out=./proto --grpc_python_out=./proto ./proto/oms.proto

# Go CLI: built offline from Debian's packages in GOPATH mode (grpc-go and protobuf from /usr/share/gocode;
# build/gopath/src/oms links back to this tree so the generated package imports as oms/proto/omspb).
GO_DEBS := golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-goprotobuf-dev protobuf-compiler protoc-gen-go-grpc
GO_ENV := GO111MODULE=off GOPATH=$(CURDIR)/build/gopath:/usr/share/gocode GOCACHE=$(CURDIR)/build/gocache GOFLAGS=
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

go-deps:
	@missing=$$(for p in $(GO_DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

go-proto: go-deps
	protoc -I proto --go_out=paths=source_relative:proto/omspb --go-grpc_out=paths=source_relative:proto/omspb proto/oms.proto

go-client: go-proto
	mkdir -p build/gopath/src bin
	ln -sfn ../../.. build/gopath/src/oms
	$(GO_ENV) go vet oms/cmd/oms-client
	$(GO_ENV) go build -o bin/oms-client oms/cmd/oms-client

# Node SDK: the locked dependencies (npm ci), reinstalled when the lock file changes.
node-deps: clients/javascript/node_modules/.installed

clients/javascript/node_modules/.installed: clients/javascript/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js >= 18 with npm" >&2; exit 1; }
	cd clients/javascript && npm ci --no-audit --no-fund
	touch $@

# Style, the import contracts of pyproject.toml (which room may import which; README "Layout"), and types
# ([tool.mypy]). The Django plugin of mypy loads the settings: placeholder URLs keep them from starting the embedded
# servers (nothing connects).
LINT_ENV := OMS_DEV=1 OMS_FERNET_KEYS=unused-at-lint DATABASE_URL=postgresql://lint@127.0.0.1:1/none \
	REDIS_URL=redis://127.0.0.1:1/0
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(LINT_ENV) $(BIN)/mypy

clean:
	rm -rf $(VENV)
