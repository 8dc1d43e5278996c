# The two commands: `make demo` and `make test`. Both install what is missing first.
BUILD   ?= build
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
FUZZ_SECONDS ?= 30
# Let every clone of the repository (CI checks out a fresh one each time) share compiler cache hits.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all bootstrap build test demo bench fuzz sanitize install readme-check golden clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja: CMakeLists.txt | bootstrap
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# What the tests run, and no benchmarks (`make build` and `make bench` build those).
TEST_TARGETS = taco kb_sample taco_tests taco_torch_tests
test: bootstrap $(BUILD)/build.ninja fuzz
	cmake --build $(BUILD) -j $(JOBS) --target $(TEST_TARGETS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@rm -rf $(BUILD)/fuzz-corpus && mkdir -p $(BUILD)/fuzz-corpus && cp fuzz/corpus/* $(BUILD)/fuzz-corpus/
	$(BUILD)/parse_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 $(BUILD)/fuzz-corpus 2>&1 | tail -n 2

# The demo builds only what it runs: the binary, its modules and the sample knowledge base (not
# the tests and benchmarks that `make build` and `make test` add).
demo: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target taco kb_sample
	$(BUILD)/taco demo --out $(BUILD)/demo --model models/taco-small
	$(BUILD)/taco synth --n 60 --seed 1 --out $(BUILD)/demo/world
	$(BUILD)/taco gen --data $(BUILD)/demo/world/scene-graph-annotations.json --out $(BUILD)/demo/train.jsonl --format llava --mc-ratio 0.3
	@printf '\nMade:\n'
	@printf '  %-32s %s\n' $(BUILD)/demo/traces.jsonl "a recorded model's episode through the real loop and tools" \
	  $(BUILD)/demo/model-traces.jsonl "taco's own model (models/taco-small) on scenes it never saw, scored" \
	  $(BUILD)/demo/world/ "60 synthetic scenes: images, depth maps, Visual-Genome-style annotations" \
	  $(BUILD)/demo/train.jsonl "CoTA and Direct training examples in LLaVA format (images in train.images/)"
	@printf '\nTry next:\n'
	@printf '  %s\n' "$(BUILD)/taco view $(BUILD)/demo/model-traces.jsonl --scores $(BUILD)/demo/model-traces.scores.jsonl   # the episodes step by step, with verdicts, in a browser" \
	  "$(BUILD)/taco run --model embedded:models/taco-small --tools-config examples/tools-oracle.json --image examples/world/images/7-0.png --question 'How many cones are there?'" \
	  "LMUData=examples/LMUData $(BUILD)/taco eval --model embedded:models/taco-small --tools-config examples/tools-oracle.json --data TacoMini" \
	  "$(BUILD)/taco --help                                   # every command; README.md and docs/ say more"

# The unit tests and the fault-injection suite (tests/runtime/fault_injection_test.cpp) under
# AddressSanitizer and UndefinedBehaviorSanitizer, in a build folder of their own. Left out:
# what loads SentencePiece (with RTLD_DEEPBIND, src/util/module.h says why, which ASan refuses:
# the embedded model, its trainer and taco rl's model tests) and the workers' address-space limit (ASan's shadow memory cannot live under it).
SANITIZE_BUILD ?= build-sanitize
SANITIZE_SKIP  ?= Embedded*:Tokenizer*:Trainer*:RlToy*:RolloutTokens*:*ShippedModel*:*MemoryLimit*
SANITIZE_ENV   = OMP_THREAD_LIMIT=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
                 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp:print_suppressions=0
sanitize: bootstrap
	cmake -S . -B $(SANITIZE_BUILD) $(CMAKE_FLAGS) -DTACO_SANITIZE=address,undefined -DTACO_BUILD_BENCH=OFF
	$(SANITIZE_ENV) cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target taco taco_tests kb_sample
	cd $(SANITIZE_BUILD) && $(SANITIZE_ENV) ./taco_tests --gtest_filter=-$(SANITIZE_SKIP) --gtest_brief=1

bench: build
	scripts/bench $(BUILD)

# libFuzzer target for the response parser (clang; the parser has no dependency beyond nlohmann/json).
fuzz: bootstrap $(BUILD)/parse_fuzz

$(BUILD)/parse_fuzz: fuzz/parse_fuzz.cpp src/cota/parse.cpp src/cota/parse.h src/cota/step.h src/util/utf8.h
	@mkdir -p $(BUILD)
	ccache clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc \
	  fuzz/parse_fuzz.cpp src/cota/parse.cpp -o $@

# Every command's output compared with the recorded one (tests/golden/): a change meant to keep
# behaviour must pass it unchanged (scripts/golden --record re-records one meant to change it).
golden: build
	scripts/golden $(BUILD)

# Every command of README.md as written (scripts/readme_check; CI runs it after make test).
readme-check: build
	scripts/readme_check $(BUILD)

# The binary, its modules, the shipped model, the man page and the bash completion (scripts/install).
PREFIX ?= /usr/local
install: build
	scripts/install $(BUILD) "$(DESTDIR)$(PREFIX)"

clean:
	rm -rf $(BUILD)
