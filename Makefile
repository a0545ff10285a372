# Thin entry points; the real build is meson (see meson.build).
#   make          build ./build/brume
#   make demo     boot the default Debian guest
#   make check    run every test; ends with "N passed, M failed, K skipped"
#   make bench    run the benchmarks against QEMU (figures: bench/RESULTS.md)
#   make ssh-demo ssh into a Debian disk booted on emu (slow; tests/e2e/ssh_debian.sh)

BUILD      ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps demo check bench ssh-demo clean

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dguests=false -Dfuzz=true -Dslow_tests=false

demo: all
	./scripts/demo.sh

check: all $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	./scripts/check.sh $(BUILD) $(ASAN_BUILD)

bench: all
	./bench/run-all.sh

# Not in check: systemd on the emu engine takes several minutes of CPU.
ssh-demo: all
	./tests/e2e/ssh_debian.sh $(BUILD)/brume

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
