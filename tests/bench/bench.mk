# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench         install what is missing, build, run scripts/bench.sh, which
#                    writes tests/bench/RESULTS.md (22 to 30 minutes, 10 of them
#                    section 11's 500 interfaces)
# make bench-build   the benchmark driver and its reference BPF programs only
# make bench-ifaces [IFACES=N] [MINUTES=M]
#                    section 11 alone (tests/bench/ifaces.sh): one daemon
#                    following N (500) interfaces with M (2) minutes of churn;
#                    puts the section into tests/bench/RESULTS.md (about 10
#                    minutes at the defaults)
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
# the journal's cost per record, a drain by key against the walk), not parts
# of flowbench.
BENCH_TOOLS := mapmem journalcost drainkey
# The library's flow cache alone (its own rule: it links the library).
CACHECOST := $(BENCH_DIR)/cachecost
BENCH_TOOL_BINS := $(patsubst %,$(BENCH_DIR)/%,$(BENCH_TOOLS))
BENCH_OBJS := $(patsubst tests/bench/%.c,$(BENCH_DIR)/%.o,\
	$(filter-out %.bpf.c tests/bench/cachecost.c $(patsubst %,tests/bench/%.c,$(BENCH_TOOLS)),\
	$(wildcard tests/bench/*.c)))

# Explicit: the top Makefile's $(BUILD)/tests/%.o would otherwise match with
# a shorter stem than $(BUILD)/%.bpf.o, and compile it for the host.
$(BENCH_DIR)/bench_progs.bpf.o: tests/bench/bench_progs.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/drainkey.bpf.o: tests/bench/drainkey.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/drainkey: | $(BENCH_DIR)/drainkey.bpf.o

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

$(CACHECOST).o: tests/bench/cachecost.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(CACHECOST): $(CACHECOST).o $(LIB)
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
# The commit the scale work starts from: the default table layout's mix is
# measured against its default (percpu) in the same rounds.
SCALE_START := c1207c1d6ef3c3e55137fd7a26e50e98079a2e0c
SCALE_DIR   := build/scale-start
# The commit the drop program starts from: the hooks' mix is measured
# against its in the same rounds, to show the drop program left them alone.
DROPS_START := 660d09b019aaa2801256d7c7de30955ddbcfb098
DROPS_DIR   := build/drops-start
# The commit the tunnels start from: the untunnelled mix against its.
TUNNELS_START := 29475011e8a469ecf36af461f4baa5579d2dd128
TUNNELS_DIR   := build/tunnels-start
# The commit before the tunnel's tag in the key: a daemon of it killed
# under tunnels is converted (tests), and the mix against its (bench).
TAG_START   := 9a3151c1dd0a59d0158da5e17e9de47d60e4d962
TAG_DIR     := build/tag-start
START_OBJS  := $(foreach d,$(START_DIR) $(SCALE_DIR) $(DROPS_DIR) $(TUNNELS_DIR) $(TAG_DIR),$(d)/clang-14.bpf.o $(d)/clang-19.bpf.o)

# start_objs DIR COMMIT: COMMIT's programs, built from git, as DIR/clang-N.bpf.o.
define start_objs
$(1)/src/Makefile:
	@rm -rf $(1)/src && mkdir -p $(1)/src
	$$(call msg,GIT,$(1)/src)
	$$(Q)git archive $(2) | tar -x -C $(1)/src

$(1)/clang-%.bpf.o: $(1)/src/Makefile
	$$(call msg,BPF,$$@)
	$$(Q)$$(MAKE) --no-print-directory -s -C $(1)/src CLANG=clang-$$* \
		BUILD=build/clang-$$* build/clang-$$*/flowacct.bpf.o >/dev/null
	$$(Q)cp $(1)/src/build/clang-$$*/flowacct.bpf.o $$@
endef
$(eval $(call start_objs,$(START_DIR),$(BENCH_START)))
$(eval $(call start_objs,$(SCALE_DIR),$(SCALE_START)))
$(eval $(call start_objs,$(DROPS_DIR),$(DROPS_START)))
$(eval $(call start_objs,$(TUNNELS_DIR),$(TUNNELS_START)))
$(eval $(call start_objs,$(TAG_DIR),$(TAG_START)))

.PHONY: bench-build
bench-build: $(BUILD)/flowacct $(BENCH_BIN) $(BENCH_TOOL_BINS) $(CACHECOST) $(NOEPOCH) $(START_OBJS)

# tests/suites/test_bench.sh runs the benchmark small, with the builds of `make tests`.
tests: $(BENCH_BIN) $(NOEPOCH) $(START_OBJS)

bench: deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)BUILD=$(BUILD) CLANG=$(CLANG) bash scripts/bench.sh

# Section 11 alone: nothing of the bench's own but the daemon.
IFACES  ?= 500
MINUTES ?= 2
.PHONY: bench-ifaces
bench-ifaces: $(BUILD)/flowacct
	$(Q)BUILD=$(BUILD) bash tests/bench/ifaces.sh --ifaces $(IFACES) --minutes $(MINUTES) \
		--into tests/bench/RESULTS.md

# The daemon's soak: nothing of the bench's own but the daemon.
DURATION ?= 3600
.PHONY: soak
soak: $(BUILD)/flowacct
	$(Q)BUILD=$(BUILD) bash tests/bench/soak.sh --seconds $(DURATION)

-include $(BENCH_OBJS:.o=.d) $(BENCH_TOOL_BINS:=.d) $(BENCH_DIR)/bench_progs.bpf.d $(NOEPOCH_OBJS:.o=.d)
