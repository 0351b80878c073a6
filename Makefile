# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make            build build/flowacct (BPF objects with $(CLANG), default clang)
# make test       install what is missing, build with clang 14 and 19, run tests
# make demo       install what is missing, build, show live accounting in netns
# make V=1        show the commands

BUILD      ?= build
CLANG      ?= clang
CC         ?= gcc
BPFTOOL    ?= bpftool
LLVM_STRIP ?= llvm-strip
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# Keep test objects: they are rebuilt from their .d dependencies anyway.
.SECONDARY:
.PHONY: all deps test tests demo bench clean

# The UAPI <asm/...> headers live in the multiarch directory, which clang
# does not search for -target bpf.
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g -Wall -Wextra -Werror \
	-Icommon -I$(ARCH_INC) -MMD -MP

BPF_SRCS := common/flow_maps.bpf.c xdp/flowacct_xdp.bpf.c tc/flowacct_tc.bpf.c
BPF_OBJS := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))

PKGS    := libbpf libxdp libpcap libmicrohttpd ncursesw json-c libnetfilter_conntrack
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# The library's JSON writer formats a large table on two threads.
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -pthread

CFLAGS  ?= -O2 -g
USER_CFLAGS := $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	$(PKG_CFLAGS) -I$(BUILD) -Icommon -Ilib -Iloader -MMD -MP

# libflowacct: everything the command, the daemon, the tests and the bench
# share; the command is a thin layer over it.
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
LIB      := $(BUILD)/libflowacct.a

LOADER_SRCS := $(wildcard loader/*.c)
LOADER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LOADER_SRCS))

all: $(BUILD)/flowacct

$(BUILD)/%.bpf.o: %.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Link the hooks with the one map definition, strip DWARF (BTF stays), and
# embed the result in a skeleton.
$(BUILD)/flowacct.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/flowacct.skel.h: $(BUILD)/flowacct.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name flowacct_bpf > $@

# The socket programs read kernel structures: built against this kernel's
# BTF, with CO-RE, in an object and skeleton of their own.
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/sock/flowacct_sock.bpf.o: sock/flowacct_sock.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(BUILD) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/flowacct_sock.skel.h: $(BUILD)/sock/flowacct_sock.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name flowacct_sock_bpf > $@

# The drop program (kfree_skb) reads the dropped skb: the same, on its own.
$(BUILD)/sock/flowacct_drop.bpf.o: sock/flowacct_drop.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(BUILD) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/flowacct_drop.skel.h: $(BUILD)/sock/flowacct_drop.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name flowacct_drop_bpf > $@

$(LOADER_OBJS) $(LIB_OBJS): | $(BUILD)/flowacct.skel.h $(BUILD)/flowacct_sock.skel.h \
	$(BUILD)/flowacct_drop.skel.h

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/loader/%.o: loader/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

# The release, here only; a build from a git checkout adds git's
# description of the commit ("0.20.0 (v0.19-12-gabc1234-dirty)").
FLOWACCT_RELEASE := 0.20.0
GIT_DESCRIBE := $(shell git describe --always --dirty --tags 2>/dev/null)
FLOWACCT_VERSION := $(FLOWACCT_RELEASE)$(if $(GIT_DESCRIBE), ($(GIT_DESCRIBE)))

# Rewritten only when the version changes, so that only then flowacct.c is
# compiled again.
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@echo '#define FLOWACCT_VERSION "$(FLOWACCT_VERSION)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/loader/flowacct.o: $(BUILD)/version.h

.PHONY: FORCE
FORCE:

$(BUILD)/flowacct: $(LOADER_OBJS) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

TEST_PROGS := $(BUILD)/tests/prog_test $(BUILD)/tests/fuzz_diff $(BUILD)/tests/cache_drive \
	$(BUILD)/tests/epoch_hammer $(BUILD)/tests/table_check $(BUILD)/tests/ticks_check \
	$(BUILD)/tests/engine_drive $(BUILD)/tests/lock_hammer $(BUILD)/tests/stale_drive
# New flows at a fixed rate, each known from its index (test_churn.sh, the bench).
TEST_PROGS += $(BUILD)/tests/churn_send
# TCX hooks seen and shared, which Debian 12's bpftool cannot (test_tcx.sh).
TEST_PROGS += $(BUILD)/tests/tcx_query $(BUILD)/tests/tcx_counter
# One program set linked to many interfaces, its books per interface, a
# daemon's stream on it, and that stream built with the crash points (test_set.sh).
TEST_PROGS += $(BUILD)/tests/set_drive $(BUILD)/tests/set_stream $(BUILD)/tests/set_stream-crash
# The containers cgroup paths name, and their names (test_containers.sh).
TEST_PROGS += $(BUILD)/tests/container_names
bench-build: $(BUILD)/tests/churn_send

# The C test programs' sources are in tests/c/; their builds stay under
# $(BUILD)/tests/, where the suites run them. Dependency files written before
# the move name the sources directly under tests/: these empty rules let such
# a build dir go on instead of stopping.
$(patsubst tests/c/%,tests/%,$(wildcard tests/c/*.c)): ;
$(BUILD)/tests/%.o: tests/c/%.c | $(BUILD)/flowacct.skel.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

# The drain without the wait loses counts only in a window of tens of ns:
# epoch_hammer shows it with a build of the TC program that widens it, to
# more than a flip and a drain take (calls of an empty function).
EPOCH_TEST_DELAY := 50000
SLOW_OBJS := $(BUILD)/tests/slow/flow_maps.bpf.o $(BUILD)/tests/slow/flowacct_tc.bpf.o

$(BUILD)/tests/slow/%.bpf.o: common/%.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFLOW_EPOCH_TEST_DELAY=$(EPOCH_TEST_DELAY) -c $< -o $@

$(BUILD)/tests/slow/%.bpf.o: tc/%.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFLOW_EPOCH_TEST_DELAY=$(EPOCH_TEST_DELAY) -c $< -o $@

$(BUILD)/epoch_slow.skel.h: $(SLOW_OBJS)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen object $(BUILD)/tests/epoch_slow.bpf.o $^
	$(Q)$(LLVM_STRIP) -g $(BUILD)/tests/epoch_slow.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $(BUILD)/tests/epoch_slow.bpf.o name epoch_slow_bpf > $@

$(BUILD)/tests/epoch_hammer.o: $(BUILD)/epoch_slow.skel.h

# A kill between every two steps of a tick, where no syscall is there to
# hold it at: the command built with the crash points of the files that
# make a tick (lib/internal.h, FA_CRASH_POINT), killed at the one
# FLOWACCT_CRASH_AT names.
CRASH_SRCS := lib/cache.c lib/stream.c
CRASH_OBJS := $(patsubst lib/%.c,$(BUILD)/tests/crash/%.o,$(CRASH_SRCS))

$(BUILD)/tests/crash/%.o: lib/%.c | $(BUILD)/flowacct.skel.h $(BUILD)/flowacct_sock.skel.h \
		$(BUILD)/flowacct_drop.skel.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -DFA_CRASH_POINTS -c $< -o $@

$(BUILD)/tests/flowacct-crash: $(LOADER_OBJS) $(CRASH_OBJS) \
		$(filter-out $(patsubst %.c,$(BUILD)/%.o,$(CRASH_SRCS)),$(LIB_OBJS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/tests/set_stream-crash: $(BUILD)/tests/set_stream.o $(CRASH_OBJS) \
		$(filter-out $(patsubst %.c,$(BUILD)/%.o,$(CRASH_SRCS)),$(LIB_OBJS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

# Test-only programs that tests load with tc.
TEST_BPF := $(BUILD)/tests/progs/drop_segs.bpf.o $(BUILD)/tests/progs/count_len.bpf.o

$(BUILD)/tests/progs/%.bpf.o: tests/progs/%.bpf.c
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The differential fuzzer links the independent reference parser.
$(BUILD)/tests/fuzz_diff: $(BUILD)/tests/ref_parser.o

tests: $(BUILD)/flowacct $(TEST_PROGS) $(TEST_BPF) $(BUILD)/tests/flowacct-crash

deps:
	$(Q)bash scripts/deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)$(MAKE) --no-print-directory tests CLANG=clang-19 BUILD=build/clang-19
	$(Q)bash tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh

clean:
	$(Q)rm -rf build

# The flags user-space C is compiled with, without the dependency files:
# tests/suites/test_docs.sh compiles each header of lib/ alone with them.
.PHONY: print-cflags
print-cflags:
	@echo $(filter-out -MMD -MP,$(USER_CFLAGS))

# make install: the command, its man page and the systemd units under PREFIX,
# below DESTDIR if set (a staging root: the unit names the command by its
# path without DESTDIR). make uninstall removes exactly these files and no
# directory. README.md and docs/service.md list them; tests/suites/test_docs.sh
# holds the four to that list.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
# systemd reads /usr/local/lib/systemd/system too; with PREFIX=/usr this is
# /usr/lib/systemd/system, the same directory as /lib/systemd/system on a
# merged /usr.
UNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALLED := $(SBINDIR)/flowacct $(MANDIR)/man8/flowacct.8 $(UNITDIR)/flowacct@.service \
	$(UNITDIR)/flowacct.service

.PHONY: install uninstall
install: $(BUILD)/flowacct
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(BUILD)/flowacct $(DESTDIR)$(SBINDIR)/flowacct
	$(Q)install -D -m 0644 docs/flowacct.8 $(DESTDIR)$(MANDIR)/man8/flowacct.8
	$(Q)sed 's#@FLOWACCT@#$(SBINDIR)/flowacct#g' scripts/flowacct@.service \
		>$(BUILD)/flowacct@.service
	$(Q)install -D -m 0644 $(BUILD)/flowacct@.service $(DESTDIR)$(UNITDIR)/flowacct@.service
	$(Q)sed 's#@FLOWACCT@#$(SBINDIR)/flowacct#g' scripts/flowacct.service \
		>$(BUILD)/flowacct.service
	$(Q)install -D -m 0644 $(BUILD)/flowacct.service $(DESTDIR)$(UNITDIR)/flowacct.service

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))

-include $(BPF_OBJS:.o=.d) $(BUILD)/sock/flowacct_sock.bpf.d $(LIB_OBJS:.o=.d) $(LOADER_OBJS:.o=.d) $(TEST_PROGS:=.d) \
	$(BUILD)/tests/ref_parser.d $(SLOW_OBJS:.o=.d) $(BUILD)/sock/flowacct_drop.bpf.d \
	$(CRASH_OBJS:.o=.d)
include tests/bench/bench.mk
