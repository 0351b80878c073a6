// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Drives libflowacct's daemon engine without the command line:
 *
 *   engine_drive IFACE RECORDS
 *
 * takes IFACE (attaching it), writes its records as JSON lines to RECORDS,
 * and on SIGTERM stops the engine (every flow out, a counters line,
 * detached), through a signalfd it polls, as `flowacct run` does. The
 * engine's lines go to stderr. Exits 0, or 1 with the engine's error.
 */
#include <stdio.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "libflowacct.h"

static void log_line(void *ctx, enum fa_log_level level, const char *line)
{
	(void)ctx;
	fprintf(stderr, "engine_drive: %s%s\n", level == FA_LOG_ERR ? "error: " : "", line);
}

static void on_wake(void *ctx, struct fa_engine *e)
{
	struct signalfd_siginfo si;

	if (read(*(int *)ctx, &si, sizeof(si)) == sizeof(si))
		fa_engine_stop(e);
}

int main(int argc, char **argv)
{
	struct fa_engine_cfg cfg = {
		.interval_ms = 50,
		.idle_ms = 1000,
		.active_ms = 300,
		.quiet_ms = FA_DEFAULT_QUIET_MS,
		.cache_size = FA_DEFAULT_CACHE_SIZE,
		.attach = { .max_flows = FLOW_DEFAULT_MAX_FLOWS, .by_run = true,
			    .sample = { .snaplen = FLOW_DEFAULT_SNAPLEN } },
		.attach_flags = FA_IFACE_ANY_MAP | FA_IFACE_ANY_MAX_FLOWS,
		.ipfix_max_message = FA_IPFIX_DEFAULT_MESSAGE,
		.ipfix_refresh_ms = FA_IPFIX_DEFAULT_REFRESH_MS,
		.on_wake = on_wake,
		.log = { .fn = log_line },
	};
	struct fa_err err = {};
	struct fa_engine e;
	sigset_t set;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: engine_drive IFACE RECORDS\n");
		return 1;
	}
	cfg.json = argv[2];
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	cfg.wake_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	cfg.ctx = &cfg.wake_fd;
	if (cfg.wake_fd < 0) {
		perror("engine_drive: signalfd");
		return 1;
	}
	r = fa_engine_open(&e, &cfg, &err);
	if (!r)
		r = fa_engine_add_iface(&e, argv[1], &err);
	if (!r)
		fa_engine_run(&e);
	fa_engine_close(&e);
	close(cfg.wake_fd);
	if (r)
		fprintf(stderr, "engine_drive: %s\n", err.msg);
	return r ? 1 : 0;
}
