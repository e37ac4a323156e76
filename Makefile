# fleetform — build, test and benchmark targets.
GO ?= go
PKGS ?= ./...

.PHONY: all build test vet golden bench fuzz demo clean

all: build

# fleetform version shows what make build stamps: the version (git describe),
# the commit and the build date.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

vet:
	$(GO) vet $(PKGS)

# The README's test command. CI (.ci/run) calls exactly this.
test: vet
	$(GO) test -race -count=1 $(PKGS)

# Regenerate golden files; review the diff with `git diff testdata/ */testdata/`.
golden:
	UPDATE_GOLDEN=1 $(GO) test -count=1 $(PKGS)

# The daemon's latency figures are percentiles over a fixed number of
# pushes (50) and bursts (5), as the README quotes them.
bench:
	$(GO) test -run '^$$' -bench . -skip 'BenchmarkPushToReconciled|BenchmarkWebhookBurst' -benchmem $(PKGS)
	$(GO) test -run '^$$' -bench 'BenchmarkPushToReconciled' -benchtime 50x ./cmd/fleetform/
	$(GO) test -run '^$$' -bench 'BenchmarkWebhookBurst' -benchtime 5x ./cmd/fleetform/

# Fuzz the YAML loader, the JSON parser of Kibana's list pages (held to
# encoding/json) and fleetsim's parsers of what any client sends (the agent
# policy kuery, the Elasticsearch query DSL) and Elasticsearch's error
# answers, FUZZTIME each. The webhook parsers have fuzz targets in webhook/
# (go test -fuzz FuzzParseGitHub ./webhook/; GitLab, Generic, Forwarded).
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./schema/
	$(GO) test -run '^$$' -fuzz FuzzParseJSONValue -fuzztime $(FUZZTIME) ./kibana/
	$(GO) test -run '^$$' -fuzz FuzzParseKuery -fuzztime $(FUZZTIME) ./fleetsim/
	$(GO) test -run '^$$' -fuzz FuzzCompileQuery -fuzztime $(FUZZTIME) ./fleetsim/esim/
	$(GO) test -run '^$$' -fuzz FuzzParseError -fuzztime $(FUZZTIME) ./elastic/

# Run fleetform against the bundled simulator (plan, apply, plan, status).
demo:
	VERSION=$(VERSION) COMMIT=$(COMMIT) DATE=$(DATE) scripts/demo.sh

clean:
	rm -rf bin/
