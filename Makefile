# Memberly: group membership with a deterministic simulator.
# `make help` lists the targets.

GO ?= go
FUZZTIME ?= 30s

.PHONY: help run test lint bench fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## replay the seed's four test cases in the in-memory driver and show their logs
	$(GO) test ./protocol -run 'TestSeedCase' -v -count=1

test: lint ## the whole test suite (vet, gofmt, race detector)
	$(GO) test -race -count=1 ./...

lint: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench: ## the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## fuzz the wire decoder and the log-line parser ($(FUZZTIME) each)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME)

clean: ## remove build and test caches of this module
	$(GO) clean -testcache
