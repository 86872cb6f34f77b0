# Memberly: group membership with a deterministic simulator.
# `make help` lists the targets.

GO ?= go
FUZZTIME ?= 30s
# staticcheck, pinned: `go run` fetches and builds it on first use.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
TRACE ?= $(CURDIR)/leader-crash-loss-seed1.html

.PHONY: help run test e2e chaos demo image lint bench soak fuzz swarm explore clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## simulate the seed's case 4 (leader crash with message loss), seed 1, and write its space-time diagram
	$(GO) run ./cmd/simulate -scenario leader-crash-loss -seed 1 -trace $(TRACE)

test: lint ## the whole test suite: vet, gofmt, and every test under the race detector
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e /cmd/peer -e /sim/explore)
	@# The explorer starts no goroutine, so the race detector has nothing
	@# to find there, and would make its searches ten times slower.
	$(GO) test -count=1 ./sim/explore
	@# The real-process tests run alone: their peers time suspicions in
	@# real milliseconds, which a simulator run under the race detector on
	@# the other core would skew.
	$(GO) test -race -count=1 ./cmd/peer/...

e2e: image ## the seed's four test cases, case 4 again with a key, and a restart of durable peers, as containers under docker compose, checked like the simulator's runs
	$(GO) test -tags e2e -count=1 -v -timeout 15m ./docker/

chaos: ## real peers in network namespaces under partitions, cuts, loss and delay, judged by the checkers of check/ (root; CHAOS_SHORT=1 for the short run)
	$(GO) test -tags chaos -count=1 -v -timeout 30m ./netrt/chaos/

demo: ## five real peers on loopback replay the seed's case 4 in real time, log lines merged
	$(GO) run ./cmd/peer/demo

image: ## build the static peer binary and the FROM-scratch image memberly-peer (pulls nothing)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o docker/peer ./cmd/peer
	docker build -t memberly-peer docker

lint: ## go vet and staticcheck (the docker e2e and chaos tests too) and a gofmt check
	$(GO) vet ./...
	$(GO) vet -tags e2e ./docker/
	$(GO) vet -tags chaos ./netrt/chaos/
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags e2e ./docker/
	$(STATICCHECK) -tags chaos ./netrt/chaos/
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench: ## the benchmarks (protocol step, simulator throughput)
	$(GO) test -run '^$$' -bench . -benchmem ./...

soak: ## every randomized test a hundred times over (properties, swarm, scenario seeds)
	$(GO) test -count=1 -timeout 60m ./protocol -run Property -rapid.checks=10000
	$(GO) test -count=1 -timeout 60m ./sim -run Property -rapid.checks=10000
	$(GO) test -count=1 -timeout 60m ./sim -run 'Swarm|Scenarios' -swarm.runs=200000 -scenario.seeds=10000

explore: ## the explorer: the real protocol past a million states twice, then each mutation, which it must catch
	@dir=$$(mktemp -d) && bin=$$dir/simulate && $(GO) build -o $$bin ./cmd/simulate && \
	$$bin -explore -scenario explore-four -depth 40 -faults 2 -max-states 1000000 | tail -1 && \
	$$bin -explore -scenario explore-four -depth 120 -faults 1 -delays 1 -max-states 0 | tail -1 && \
	$$bin -explore -scenario explore-durable -depth 120 -faults 1 -delays 1 -max-states 0 | tail -1 && \
	for case in quorum-of-one:explore-four skip-recovery:explore-four stale-promises:explore-four found-at-once:explore-restart volatile-promise:explore-durable split-batch:explore-batch untagged-recovery:explore-tags; do \
		m=$${case%%:*}; sc=$${case#*:}; \
		$$bin -explore -scenario $$sc -depth 120 -faults 1 -delays 1 -max-states 0 -mutation $$m >$$dir/out; code=$$?; \
		echo "$$m on $$sc: $$(tail -1 $$dir/out)"; \
		if [ $$code -ne 1 ]; then echo "explore: mutation $$m went unnoticed (exit $$code)"; exit 1; fi; \
	done; rm -r $$dir

swarm: ## 2000 random scenarios on every CPU
	$(GO) run ./cmd/simulate -swarm -runs 2000

fuzz: ## fuzz the wire decoder, log lines, a peer's input, state files, scenarios, network frames and hosts files (FUZZTIME each, 30s unless set)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./check -run '^$$' -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzStep$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzDecodeState$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scenarios -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scenarios -run '^$$' -fuzz '^FuzzFormat$$' -fuzztime $(FUZZTIME)
	$(GO) test ./netrt -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime $(FUZZTIME)
	$(GO) test ./netrt -run '^$$' -fuzz '^FuzzParseHosts$$' -fuzztime $(FUZZTIME)

clean: ## remove traces written by make run, the image's binary and the test cache
	rm -f $(TRACE) *.html *.shiviz docker/peer
	$(GO) clean -testcache
