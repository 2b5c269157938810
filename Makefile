# ratchet — one plain Makefile. Targets: all (default), test, demo, bench, sanitize, fuzz, clean.
# WERROR=1 turns warnings into errors (CI sets it).

CC ?= cc
PKGS := sqlite3 jansson libcrypto
BUILD ?= build

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wconversion
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Isrc $(EXTRA_CFLAGS) \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIB_SRC := $(wildcard src/*.c src/problems/*.c src/proposers/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps deps-test test demo bench bench-matmul sanitize fuzz clean

all: deps $(BUILD)/ratchet

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*.h src/problems/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libratchet.a: $(LIB_OBJ)
	ar rcs $@ $^

TOOL_SRC := $(wildcard tool/*.c)
$(BUILD)/ratchet: $(TOOL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libratchet.a
	$(CC) $(CFLAGS_ALL) $^ $(LIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/testutil.c tests/testutil.h $(BUILD)/libratchet.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags cmocka) $< tests/testutil.c $(BUILD)/libratchet.a \
	    $(LIBS) $(shell pkg-config --libs cmocka) $(TEST_LDFLAGS) -o $@

# allocation failure on demand: ratchet's own allocations go through the test's wrappers
$(BUILD)/tests/test_alloc: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

$(BUILD)/bench/%: bench/%.c $(BUILD)/libratchet.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(BUILD)/libratchet.a $(LIBS) -o $@

test: deps-test $(BUILD)/ratchet $(TEST_BIN)
	@RATCHET=$(BUILD)/ratchet tests/run.sh $(TEST_BIN)

demo: all
	@scripts/demo.sh $(BUILD)/ratchet

bench: all $(BUILD)/bench/bench_matmul
	@$(BUILD)/bench/bench_matmul

# The matmul target table (bench/matmul_targets.sh: TARGETS, SEEDS, CAP, CAPX, THREADS, SAVE).
bench-matmul: all
	@bench/matmul_targets.sh $(BUILD)/ratchet

# The tests under AddressSanitizer and UndefinedBehaviorSanitizer, in a build tree of their own.
sanitize: deps-test
	@$(MAKE) --no-print-directory test BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

FUZZ_TIME ?= 60
fuzz:
	@scripts/deps.sh fuzz
	@mkdir -p build/fuzz
	clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
	    tests/fuzz/fuzz_matmul_parse.c src/problems/matmul_plain.c src/util.c \
	    $(shell pkg-config --cflags --libs jansson libcrypto) -o build/fuzz/fuzz_matmul_parse
	build/fuzz/fuzz_matmul_parse -max_total_time=$(FUZZ_TIME) -max_len=4096

clean:
	rm -rf build build-san
