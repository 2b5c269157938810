# ratchet — one plain Makefile. Targets: all (default), test, demo, bench, sanitize, fuzz, clean,
# install, uninstall. WERROR=1 turns warnings into errors (CI sets it).

CC ?= cc
PKGS := sqlite3 jansson libcrypto inih libcurl libseccomp libzstd
# Open MPI (scripts/deps.sh installs it): `mpirun -np N ratchet run` (docs/scaling.md). Without
# it the same ratchet builds and runs alone; src/mpi/ then says it was built without MPI.
MPI_PKG := $(shell pkg-config --exists ompi-c 2>/dev/null && echo ompi-c)
ifneq ($(MPI_PKG),)
PKGS += $(MPI_PKG)
MPI_CFLAGS := -DRT_HAVE_MPI
endif
BUILD ?= build

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wconversion
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Isrc -I$(BUILD)/gen $(MPI_CFLAGS) $(EXTRA_CFLAGS) \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

# the library: every .c under src/ (a new module, problem or proposer needs no line here)
LIB_SRC := $(shell find src -name '*.c' | LC_ALL=C sort)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)


.PHONY: bench-sandbox-compare bench-walk-compare
.PHONY: test-browser bench-report bench-research
.PHONY: all deps deps-test test demo bench bench-drift bench-meta bench-meta2 bench-matmul bench-portfolio sanitize fuzz \
        bench-coevolve bench-binpack \
        clean examples install uninstall

# make install: PREFIX/bin/ratchet, its prompts in PREFIX/share/ratchet/prompts (found beside the
# program wherever DESTDIR puts the tree, and at PREFIX when a copy is moved elsewhere) and the
# manual page ratchet.1 (docs/ratchet.1).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/ratchet
MANDIR = $(PREFIX)/share/man/man1

all: deps $(BUILD)/ratchet examples

# Missing Debian packages are installed before the rest of this file is used: make first remakes
# the included stamp (running scripts/deps.sh), then reads the Makefile again, so pkg-config sees
# the new packages and a parallel build (make -j) never compiles while apt-get is installing.
# A dry run (make -n) includes nothing, since make remakes included files even then.
DEPS_SET := $(if $(filter test test-browser sanitize,$(MAKECMDGOALS)),test,$(if $(filter fuzz,$(MAKECMDGOALS)),fuzz,build))
DRY_RUN := $(findstring n,$(firstword -$(MAKEFLAGS)))
ifeq ($(filter clean uninstall,$(MAKECMDGOALS))$(DRY_RUN),)
include $(BUILD)/deps-$(DEPS_SET).stamp
endif
$(BUILD)/deps-%.stamp: scripts/deps.sh
	@scripts/deps.sh $*
	@mkdir -p $(dir $@) && echo '# scripts/deps.sh $* found every package' > $@

# the examples' compiled parts (examples/*/README.md); the exact circle-packing checker uses GMP
examples: examples/circle_packing/cp_check
examples/circle_packing/cp_check: examples/circle_packing/cp_check.c
	$(CC) -std=c17 -O2 $(WARN) $< -lgmp -o $@

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# each object depends on the headers it includes (-MMD writes them down, -MP survives removals)
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# files built into the program as string literals (each line quoted): the standalone checker a
# matmul certificate ships, the HTML report's page (docs/report.md), and the shim that runs
# OpenEvolve evaluators (docs/migrating.md), and the shipped default policy (policy/README.md)
EMBED = @mkdir -p $(dir $@) && sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@
$(BUILD)/gen/check_matmul.inc: cert/check_matmul.c
	$(EMBED)
$(BUILD)/gen/report_html.inc: src/report/report.html
	$(EMBED)
$(BUILD)/gen/openevolve_shim.inc: src/problems/program/openevolve_shim.py
	$(EMBED)
$(BUILD)/gen/default_policy.inc: policy/default.json
	$(EMBED)
$(BUILD)/src/policy.o: $(BUILD)/gen/default_policy.inc
$(BUILD)/src/problems/matmul/matmul_cert.o: $(BUILD)/gen/check_matmul.inc
$(BUILD)/src/report/report.o: $(BUILD)/gen/report_html.inc
$(BUILD)/src/problems/program/program_openevolve.o: $(BUILD)/gen/openevolve_shim.inc

# the prompts' folder of an installed ratchet, for a copy of the program moved away from it
$(BUILD)/src/proposers/llm/llm_prompt.o: CFLAGS_ALL += -DRT_PROMPTS_DIR='"$(DATADIR)/prompts"'

# The flip kernel: GCC's SLP vectorizer moves its scalar key arithmetic into vector registers and
# back, which measured slower (the kernel's own two-lane vectors are written out explicitly).
$(BUILD)/src/problems/matmul/matmul_walk.o: CFLAGS_ALL += -fno-tree-slp-vectorize

$(BUILD)/libratchet.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

TOOL_SRC := $(wildcard tool/*.c)
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/%.o)
-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d)
$(BUILD)/ratchet: $(TOOL_OBJ) $(BUILD)/libratchet.a
	$(CC) $(CFLAGS_ALL) $^ $(LIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/testutil.c tests/testutil.h $(BUILD)/libratchet.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags cmocka) $< tests/testutil.c $(TEST_EXTRA) $(BUILD)/libratchet.a \
	    $(LIBS) $(shell pkg-config --libs cmocka) $(TEST_LDFLAGS) -o $@

# allocation failure on demand: ratchet's own allocations go through the test's wrappers
$(BUILD)/tests/test_alloc: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

# the LLM tests talk to a scripted chat completions server on 127.0.0.1
LLM_TESTS := $(filter $(BUILD)/tests/test_llm%,$(TEST_BIN))
$(LLM_TESTS): TEST_EXTRA = tests/llm_server.c
$(LLM_TESTS): tests/llm_server.c tests/llm_server.h

# the attack programs of test_sandbox_attacks (tests/attacks/*.c): standalone, without sanitizers
# (which would not fit the sandbox's memory limits)
ATTACK_BIN := $(patsubst tests/attacks/%.c,$(BUILD)/tests/attacks/%,$(wildcard tests/attacks/*.c))
$(BUILD)/tests/attacks/%: tests/attacks/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE -O2 -g $(WARN) $< -o $@
$(BUILD)/tests/test_sandbox_attacks: | $(ATTACK_BIN)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libratchet.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(BUILD)/libratchet.a $(LIBS) -o $@

test: deps-test $(BUILD)/ratchet examples $(ATTACK_BIN) $(TEST_BIN)
	@RATCHET=$(BUILD)/ratchet tests/run.sh $(TEST_BIN)
	@scripts/fuzz.sh $(FUZZ_SHORT) $(LLM_FUZZERS)

# The HTML report in headless Chromium (docs/report.md): console errors, failed loads, empty
# figures and network URLs fail it; screenshots land in build/artifacts/.
test-browser: deps-test all $(BUILD)/bench/bench_report
	@scripts/browser_test.sh $(BUILD)/ratchet $(BUILD)/bench/bench_report

# The report on synthetic stores of 10 thousand and 1 million candidates (docs/report.md).
bench-report: $(BUILD)/bench/bench_report
	@rm -f $(BUILD)/bench-report-10k.db* $(BUILD)/bench-report-1m.db*
	$(BUILD)/bench/bench_report 10000 $(BUILD)/bench-report-10k.db 5
	$(BUILD)/bench/bench_report 1000000 $(BUILD)/bench-report-1m.db 3
	@rm -f $(BUILD)/bench-report-10k.db* $(BUILD)/bench-report-1m.db*

demo: all
	@scripts/demo.sh $(BUILD)/ratchet

bench: all $(BUILD)/bench/bench_matmul $(BUILD)/bench/bench_sandbox
	@$(BUILD)/bench/bench_matmul
	@$(BUILD)/bench/bench_sandbox

# the sandbox's cost against a baseline revision, interleaved (docs/sandbox.md, "What it costs")
bench-sandbox-compare: all
	@bench/sandbox_compare.sh $(BASE)

# the flip kernel against a baseline revision, interleaved (5 pairs of 4e6-flip walks per field)
bench-walk-compare: all
	@bench/compare.sh $(or $(BASE),2a1b126) 5 bench_matmul --walk gf2 4000000
	@bench/compare.sh $(or $(BASE),2a1b126) 5 bench_matmul --walk z 4000000

# the --trust-proxy ablation (docs/verification.md)
bench-drift: all $(BUILD)/bench/bench_drift
	@$(BUILD)/bench/bench_drift

# ratchet research on examples/tinylm, gated and --trust-proxy, with re-runs (docs/research.md)
bench-research: all
	@bench/research.sh $(BUILD)/ratchet $(RESEARCH_OUT)

# The meta level's evidence (docs/policy.md, docs/recursion.md): a racing meta run on the
# training shapes (disjoint from the held-out ones and from the never-used shapes of
# docs/recursion.md), then every admitted policy against the default on the held-out shapes with
# fresh test seeds. These variables default to run 3 of 6 Dec 2026 over Z (its admitted policy
# was not shipped: policy/lineage.json, not_shipped); the run
# of 3 Dec over GF(2) was META_TRAIN=matmul:2x3x4:gf2,matmul:2x3x3:z,matmul:3x3x5:gf2@38
# META_HELDOUT=matmul:2x4x4:gf2,matmul:2x3x5:gf2@26,matmul:3x3x4:gf2@30 META_SECONDS=300
# META_OPTS="--seed 1 --seeds 4 --evals 1000 --work 40000000". `ratchet meta` with neither
# --train nor --heldout uses the suites and caps below (tool/cmd_meta.c, builtin), and at level 2
# those of META2_* below.
META_TRAIN ?= matmul:3x3x5:z,matmul:3x3x4:z,matmul:3x3x3:z
META_HELDOUT ?= matmul:3x4x4:z@38,matmul:4x4x4:z@49,matmul:2x4x4:z@26
META_SECONDS ?= 2400
META_TEST_SEEDS ?= 5
META_OPTS ?= --seed 3 --seeds 4 --vseeds 30 --vfirst 3000001 --evals 1000 --work 400000000
bench-meta: all $(BUILD)/bench/bench_meta
	@rm -f $(BUILD)/bench-meta.db
	$(BUILD)/ratchet meta --train $(META_TRAIN) --heldout $(META_HELDOUT) --seconds $(META_SECONDS) \
	    $(META_OPTS) --store $(BUILD)/bench-meta.db --out $(BUILD)/bench-meta-best.json
	$(BUILD)/bench/bench_meta $(BUILD)/bench-meta.db $(META_TEST_SEEDS)

# Level 2 (docs/recursion.md): a level-2 run tunes the meta knobs on level-1 runs of the
# meta-training suite (gated on the meta-held-out suite, disjoint shapes), then level 1 under the
# default and under the level-2 output on the meta-held-out suite with fresh seeds (bench_meta2's
# level-0 and level-1 caps are those of META2_OPTS). Reduced size; docs/recursion.md has the full.
META2_TRAIN ?= matmul:2x3x4:gf2,matmul:2x2x3:z,matmul:3x3x3:gf2,matmul:2x2x4:z
META2_HELDOUT ?= matmul:2x3x3:z,matmul:2x3x5:gf2@26,matmul:3x3x4:gf2@30,matmul:2x4x4:gf2@26
META2_SECONDS ?= 300
META2_RUNS ?= 3
META2_STEPS ?= 20
META2_L1WORK ?= 5e8
META2_OPTS ?= --seed 1 --seeds 2 --vseeds 6 --l1seeds 2 --l1vseeds 3 --evals 1000 \
	--work 40000000 --islands 2
bench-meta2: all $(BUILD)/bench/bench_meta2
	@rm -f $(BUILD)/bench-meta2.db
	$(BUILD)/ratchet meta --level 2 --train $(META2_TRAIN) --heldout $(META2_HELDOUT) \
	    --seconds $(META2_SECONDS) --l1steps $(META2_STEPS) --l1work $(META2_L1WORK) \
	    $(META2_OPTS) --store $(BUILD)/bench-meta2.db --out $(BUILD)/bench-meta2-best.json
	$(BUILD)/bench/bench_meta2 $(META2_HELDOUT) $(META2_RUNS) $(META2_STEPS) $(META2_L1WORK) \
	    default $(BUILD)/bench-meta2-best.json

# The co-evolution experiment (docs/coevolution.md): ARM_SECONDS, SEEDS, JOBS, OUT.
bench-coevolve: all
	@bench/coevolve_experiment.sh $(BUILD)/ratchet

# binpack's speed against a plain C best fit (docs/coevolution.md, "Speed")
bench-binpack: all $(BUILD)/bench/bench_binpack
	@$(BUILD)/bench/bench_binpack

# The matmul target table (bench/matmul_targets.sh: TARGETS, SEEDS, CAP, CAPX, THREADS, SAVE).
bench-matmul: all
	@bench/matmul_targets.sh $(BUILD)/ratchet

# The default portfolio against each row's hand mode, same session (bench/portfolio_compare.sh:
# ROWS, SEEDS, CAP, THREADS; docs/recursion.md).
bench-portfolio: all
	@bench/portfolio_compare.sh $(BUILD)/ratchet

# The tests under AddressSanitizer and UndefinedBehaviorSanitizer, in a build tree of their own.
# The jail's client inside the sandboxes is the plain build's tool: AddressSanitizer cannot start
# under the sandbox's address-space limit.
sanitize: deps-test
	@$(MAKE) --no-print-directory all
	@RATCHET_JAIL_HELPER=$(CURDIR)/build/ratchet \
	    $(MAKE) --no-print-directory test BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

FUZZ_TIME ?= 60
FUZZ_SHORT ?= 2
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
              -Ibuild/gen
FUZZ_LIBS = $(shell pkg-config --cflags --libs jansson libcrypto inih) -lm
# Each libFuzzer harness is tests/fuzz/NAME.c plus the library sources it exercises (named once,
# here). make test runs those in LLM_FUZZERS briefly (scripts/fuzz.sh); make fuzz runs all of them.
FUZZ_SRC_fuzz_llm_reply := src/proposers/llm/llm_reply.c src/util.c
FUZZ_SRC_fuzz_edit_apply := src/problems/program/program_text.c src/proposers/llm/llm_reply.c \
                            src/util.c src/rng.c
FUZZ_SRC_fuzz_jail_request := src/sandbox/jail.c src/util.c
FUZZ_SRC_fuzz_matmul_parse := src/problems/matmul/matmul_plain.c src/util.c
FUZZ_SRC_fuzz_store_unpack := src/problems/matmul/matmul_pack.c src/problems/matmul/matmul_plain.c \
                              src/problems/matmul/matmul_solve.c src/util.c
FUZZ_SRC_fuzz_program_parse := src/problems/program/program_eval.c \
                               src/problems/program/program_text.c \
                               src/problems/program/program_features.c src/config.c src/util.c \
                               src/rng.c
FUZZ_SRC_fuzz_policy_parse := src/policy.c src/problems/matmul/matmul_policy.c src/rng.c src/util.c
build/fuzz/fuzz_policy_parse: build/gen/default_policy.inc
FUZZ_SRC_fuzz_proposer_opts := src/proposer_opts.c src/util.c
FUZZ_SRC_fuzz_failures := src/failures.c src/util.c
FUZZ_SRC_fuzz_wire := src/mpi/wire.c src/util.c src/rng.c
FUZZ_SRC_fuzz_research := src/problems/research/research_text.c src/recent.c src/util.c
FUZZ_SRC_fuzz_binpack_expr := src/problems/binpack/bp_expr.c src/problems/binpack/bp_check.c \
                              src/problems/binpack/bp_sim.c src/problems/binpack/bp_inst.c \
                              src/util.c src/rng.c
FUZZ_SRC_fuzz_binpack_instances := src/problems/binpack/bp_inst.c src/util.c src/rng.c
FUZZ_SRC_fuzz_binpack_poser := src/problems/binpack/bp_poser.c src/problems/binpack/bp_check.c \
                               src/problems/binpack/bp_sim.c src/problems/binpack/bp_expr.c \
                               src/problems/binpack/bp_inst.c src/util.c src/rng.c
LLM_FUZZERS := build/fuzz/fuzz_llm_reply build/fuzz/fuzz_edit_apply build/fuzz/fuzz_jail_request \
               build/fuzz/fuzz_failures build/fuzz/fuzz_research build/fuzz/fuzz_binpack_expr \
               build/fuzz/fuzz_binpack_instances build/fuzz/fuzz_binpack_poser build/fuzz/fuzz_wire \
               build/fuzz/fuzz_store_unpack

.SECONDEXPANSION:
build/fuzz/%: tests/fuzz/%.c $$(FUZZ_SRC_$$*)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $< $(FUZZ_SRC_$*) $(FUZZ_LIBS) -o $@

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory build/fuzz/fuzz_matmul_parse build/fuzz/fuzz_program_parse \
	    build/fuzz/fuzz_policy_parse build/fuzz/fuzz_proposer_opts
	build/fuzz/fuzz_matmul_parse -max_total_time=$(FUZZ_TIME) -max_len=4096
	build/fuzz/fuzz_program_parse -max_total_time=$(FUZZ_TIME) -max_len=4096
	@rm -rf build/fuzz/policy_corpus && cp -r tests/fuzz/policy_seed build/fuzz/policy_corpus
	build/fuzz/fuzz_policy_parse -max_total_time=$(FUZZ_TIME) -max_len=8192 build/fuzz/policy_corpus
	@rm -rf build/fuzz/opts_corpus && cp -r tests/fuzz/proposer_opts_seed build/fuzz/opts_corpus
	build/fuzz/fuzz_proposer_opts -max_total_time=$(FUZZ_TIME) -max_len=8192 build/fuzz/opts_corpus
	@scripts/fuzz.sh $(FUZZ_TIME) $(LLM_FUZZERS)

install: $(BUILD)/ratchet
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 755 $(BUILD)/ratchet $(DESTDIR)$(BINDIR)/ratchet
	install -m 644 docs/ratchet.1 $(DESTDIR)$(MANDIR)/ratchet.1
	@for f in $$(find prompts -type f -name '*.md' | LC_ALL=C sort); do \
	    install -d $(DESTDIR)$(DATADIR)/$$(dirname $$f) && \
	    install -m 644 $$f $(DESTDIR)$(DATADIR)/$$f && echo "installed $(DATADIR)/$$f"; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ratchet $(DESTDIR)$(MANDIR)/ratchet.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-san examples/circle_packing/cp_check
