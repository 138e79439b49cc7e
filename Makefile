# The two commands: `make demo` and `make check`. Both install missing Debian packages
# when run as root (tools/deps.sh) and say what is missing otherwise.
.PHONY: all build demo check bench clean format install fuzz

# Configure build/ once; on failure show meson's own words (they name what is missing).
SETUP = [ -f build/build.ninja ] || meson setup build --buildtype=release >build-setup.log 2>&1 || \
	{ grep -v '^$$' build-setup.log | tail -n 15; echo "spinat: meson setup failed (build-setup.log)"; exit 1; }

all: build

build:
	@tools/deps.sh build
	@$(SETUP)
	@ninja -C build >/dev/null

# The demo needs spinat-sim only: building just that target keeps a warning elsewhere
# (a test under -O3) from stopping it.
demo:
	@tools/deps.sh build
	@$(SETUP)
	@ninja -C build apps/spinat-sim >/dev/null
	./build/apps/spinat-sim $(DEMO_ARGS)

check:
	@tools/deps.sh check
	@tools/run-checks.sh

# FHS layout under meson's prefix (/usr/local unless configured); DESTDIR stages it.
install: build
	meson install -C build

# Every libFuzzer target for FUZZ_SECONDS (default 60) each, then a table of executions,
# coverage and findings (tools/fuzz.sh; FUZZ_TARGETS, FUZZ_COVERAGE=1 per-file coverage).
fuzz:
	@tools/fuzz.sh

bench: build
	./build/bench/spinat-bench all

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-fuzz build-fuzzcov build-*.setup.log build-setup.log
