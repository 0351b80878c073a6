# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench         install what is missing, build, run scripts/bench.sh, which
#                    writes tests/bench/RESULTS.md (12 to 20 minutes)
# make bench-build   the benchmark driver and its reference BPF programs only
# make soak DURATION=S
#                    build, run tests/bench/soak.sh: the daemon under churning
#                    traffic for S seconds (3600), a table a minute, whether it
#                    stays flat; writes tests/bench/SOAK.md (not in make test)
#
# Included by the top Makefile after its own rules; uses its variables.

BENCH_DIR  := $(BUILD)/tests/bench
BENCH_BIN  := $(BENCH_DIR)/flowbench
BENCH_SKEL := $(BENCH_DIR)/bench_progs.skel.h
# Tools of their own beside tests/bench/profile_run.sh (map memory per flow,
# the journal's cost per record), not parts of flowbench.
BENCH_TOOLS := mapmem journalcost
BENCH_TOOL_BINS := $(patsubst %,$(BENCH_DIR)/%,$(BENCH_TOOLS))
BENCH_OBJS := $(patsubst tests/bench/%.c,$(BENCH_DIR)/%.o,\
	$(filter-out %.bpf.c $(patsubst %,tests/bench/%.c,$(BENCH_TOOLS)),\
	$(wildcard tests/bench/*.c)))

# Explicit: the top Makefile's $(BUILD)/tests/%.o would otherwise match with
# a shorter stem than $(BUILD)/%.bpf.o, and compile it for the host.
$(BENCH_DIR)/bench_progs.bpf.o: tests/bench/bench_progs.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Stripped like flowacct's object (BTF stays: the spin lock needs it).
$(BENCH_DIR)/bench_progs.o: $(BENCH_DIR)/bench_progs.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $<
	$(Q)$(LLVM_STRIP) -g $@

$(BENCH_SKEL): $(BENCH_DIR)/bench_progs.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench_progs_bpf > $@

# A static pattern rule, so it wins over the top Makefile's tests/%.o.
$(BENCH_OBJS): $(BENCH_DIR)/%.o: tests/bench/%.c | $(BUILD)/flowacct.skel.h $(BENCH_SKEL)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -I$(BENCH_DIR) -c $< -o $@

$(BENCH_BIN): $(BENCH_OBJS) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

$(BENCH_TOOL_BINS:=.o): $(BENCH_DIR)/%.o: tests/bench/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BENCH_TOOL_BINS): %: %.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

# flowacct's programs built without epochs (FLOW_NO_EPOCHS): what the epochs
# cost is measured against them in the same rounds (flowbench --baseline).
NOEPOCH_OBJS := $(patsubst %.bpf.c,$(BENCH_DIR)/noepoch/%.bpf.o,$(notdir $(BPF_SRCS)))
NOEPOCH := $(BENCH_DIR)/flowacct_noepoch.bpf.o

$(BENCH_DIR)/noepoch/%.bpf.o: common/%.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFLOW_NO_EPOCHS -c $< -o $@
$(BENCH_DIR)/noepoch/%.bpf.o: xdp/%.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFLOW_NO_EPOCHS -c $< -o $@
$(BENCH_DIR)/noepoch/%.bpf.o: tc/%.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFLOW_NO_EPOCHS -c $< -o $@

$(NOEPOCH): $(NOEPOCH_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^
	$(Q)$(LLVM_STRIP) -g $@

# The commit the hot-path work started from, built from git with each
# compiler: make bench measures this tree against it in the same rounds.
# Shared by every build directory (it depends on nothing here).
BENCH_START := 38dad997503bb69052e7355d63d1c13fc17197e3
START_DIR   := build/bench-start
START_OBJS  := $(START_DIR)/clang-14.bpf.o $(START_DIR)/clang-19.bpf.o

$(START_DIR)/src/Makefile:
	@rm -rf $(START_DIR)/src && mkdir -p $(START_DIR)/src
	$(call msg,GIT,$(START_DIR)/src)
	$(Q)git archive $(BENCH_START) | tar -x -C $(START_DIR)/src

$(START_DIR)/clang-%.bpf.o: $(START_DIR)/src/Makefile
	$(call msg,BPF,$@)
	$(Q)$(MAKE) --no-print-directory -s -C $(START_DIR)/src CLANG=clang-$* \
		BUILD=build/clang-$* build/clang-$*/flowacct.bpf.o >/dev/null
	$(Q)cp $(START_DIR)/src/build/clang-$*/flowacct.bpf.o $@

.PHONY: bench-build
bench-build: $(BUILD)/flowacct $(BENCH_BIN) $(BENCH_TOOL_BINS) $(NOEPOCH) $(START_OBJS)

# tests/suites/test_bench.sh runs the benchmark small, with the builds of `make tests`.
tests: $(BENCH_BIN) $(NOEPOCH) $(START_OBJS)

bench: deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)BUILD=$(BUILD) CLANG=$(CLANG) bash scripts/bench.sh

# The daemon's soak: nothing of the bench's own but the daemon.
DURATION ?= 3600
.PHONY: soak
soak: $(BUILD)/flowacct
	$(Q)BUILD=$(BUILD) bash tests/bench/soak.sh --seconds $(DURATION)

-include $(BENCH_OBJS:.o=.d) $(BENCH_TOOL_BINS:=.d) $(BENCH_DIR)/bench_progs.bpf.d $(NOEPOCH_OBJS:.o=.d)
