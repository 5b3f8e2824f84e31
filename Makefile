# sfjira — two commands: `make demo` and `make test`.
SHELL        := /bin/bash
GO           ?= go
TEMPORAL_VER := v1.5.1
BIN          := $(CURDIR)/bin
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sfjira?sslmode=disable
export DATABASE_URL

.PHONY: all build demo test test-unit bench check-go check-pg temporal clean fmt vet

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

test: build check-pg
	TEMPORAL_CLI_PATH=$(BIN)/temporal $(GO) test -count=1 -timeout 20m ./...

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
