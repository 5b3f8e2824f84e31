# sfjira — two commands: `make demo` and `make test`.
SHELL        := /bin/bash
GO           ?= go
TEMPORAL_VER := v1.5.1
BIN          := $(CURDIR)/bin
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable
export DATABASE_URL

.PHONY: all build demo test test-unit bench check-go check-pg temporal clean fmt vet test-tools

all: build

check-go:
	@command -v $(GO) >/dev/null 2>&1 || { echo "error: Go is not installed or not on PATH (fix: install Go 1.26+ from your package manager and add it to PATH)"; exit 1; }

check-pg: build
	@$(BIN)/sfjira-dbcheck >/dev/null 2>&1 || { $(BIN)/sfjira-dbcheck; exit 1; }

build: check-go $(BIN)/temporal
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/sfjira ./starter
	$(GO) build -o $(BIN)/sfjira-worker ./worker
	$(GO) build -o $(BIN)/sfjira-dbcheck ./deploy/dev/dbcheck

# The Temporal CLI (dev server + UI), pinned and built once from the Go module proxy (~4 min).
temporal: $(BIN)/temporal
$(BIN)/temporal:
	@command -v $(GO) >/dev/null 2>&1 || { echo "error: Go is not installed or not on PATH (fix: install Go 1.26+)"; exit 1; }
	@echo "building the Temporal CLI $(TEMPORAL_VER) into bin/ (once, about 4 minutes)…"
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VER)

demo: build check-pg
	@bash deploy/dev/demo.sh

test: build check-pg test-tools
	TEMPORAL_CLI_PATH=$(BIN)/temporal $(GO) test -count=1 -timeout 45m ./...

# Benchmarks of design §9 (not part of `make test`); results in bench/results.json.
bench: build check-pg
	$(GO) run ./bench/b2 -temporal $(BIN)/temporal -out bench/results.json
	$(GO) build -o $(BIN)/sfjira-bench-bulk ./bench/bulk
	$(BIN)/sfjira-bench-bulk -temporal $(BIN)/temporal -out bench/results.json

test-unit: check-go
	$(GO) test -count=1 -short ./...

vet: check-go
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f $(BIN)/sfjira $(BIN)/sfjira-worker $(BIN)/sfjira-dbcheck

# Tools the deploy and browser tests use, from Debian packages: chromium (Temporal UI test),
# promtool (alert rules), docker-compose (compose file). Installs only what is missing, so it is
# cheap to run again; without root or apt-get it says so and those tests skip with the reason.
TEST_TOOLS := chromium:chromium promtool:prometheus docker-compose:docker-compose
test-tools:
	@missing=""; for t in $(TEST_TOOLS); do cmd=$${t%%:*}; pkg=$${t#*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing test tools:$$missing"; \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
	      || echo "warning: could not install$$missing; the tests that need them will skip"; \
	  else echo "warning: cannot install$$missing here (needs root and apt-get); the tests that need them will skip"; fi; \
	fi
