# The two commands: `make demo` and `make check`. Both install missing Debian packages
# when run as root (tools/deps.sh) and say what is missing otherwise.
.PHONY: all build demo check bench clean format

all: build

build:
	@tools/deps.sh build
	@[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
	@ninja -C build >/dev/null

# The demo needs spinat-sim only: building just that target keeps a warning elsewhere
# (a test under -O3) from stopping it.
demo:
	@tools/deps.sh build
	@[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
	@ninja -C build apps/spinat-sim >/dev/null
	./build/apps/spinat-sim

check:
	@tools/deps.sh check
	@tools/run-checks.sh

bench: build
	./build/bench/spinat-bench all

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-fuzz build-*.setup.log
