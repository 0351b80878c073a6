// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct run: the daemon, whose work is the engine's (lib/engine.c): this
 * parses the options, maps them to the engine's configuration, wires the
 * signals (a signalfd the engine polls: nothing happens in a handler) and
 * prints what the engine says.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmds.h"
#include "ipfix.h"

struct ipfix_specs {
	const char *spec[FA_IPFIX_MAX_COLLECTORS];
	size_t n;
};

#define MAX_PATTERNS 64

struct patterns {
	const char *v[MAX_PATTERNS];
	size_t n;
};

struct run_opts {
	__u64 interval_ms;
	__u64 idle_ms;
	__u64 active_ms;
	__u64 quiet_ms;
	__u32 cache_size;
	const char *json;
	struct fa_attach_args a;	/* for an interface not attached yet */
	/* Exports */
	struct ipfix_specs ipfix;
	__u32 ipfix_domain;		/* 0: derived */
	__u32 ipfix_max_message;
	__u64 ipfix_refresh_ms;
	__u32 ipfix_pen;
	const char *metrics;
	const char *metrics_file;
	/* Interfaces followed, beyond those named */
	struct patterns iface, exclude;
	bool all;
	int layout;			/* 1 (the default): one program set for the interfaces attached */
	const char *config;		/* read by the parser (struct command's config) */
	const char *container_root;
	__u64 metrics_containers;
	bool no_sockets;
	int drops;			/* enum fa_drops_mode; -1: attached with the set, else off */
};

static const struct opt_value drop_modes[] = {
	/* Its default first: the help says it of -1. */
	{ "attached", FA_DROPS_ATTACHED }, { "all", FA_DROPS_ALL }, { "off", FA_DROPS_OFF },
	{ NULL, 0 },
};

static const struct opt_value layouts[] = {
	{ "iface", 0 }, { "set", 1 }, { NULL, 0 },
};

static const struct run_opts defaults_run = {
	.layout = 1,
	.drops = -1,
	.interval_ms = 1000,
	.idle_ms = FA_DEFAULT_IDLE_MS,
	.active_ms = FA_DEFAULT_ACTIVE_MS,
	.quiet_ms = FA_DEFAULT_QUIET_MS,
	.cache_size = FA_DEFAULT_CACHE_SIZE,
	.a = FA_ATTACH_ARGS_UNSET,
	.ipfix_max_message = FA_IPFIX_DEFAULT_MESSAGE,
	.ipfix_refresh_ms = FA_IPFIX_DEFAULT_REFRESH_MS,
	.metrics_containers = 500,
};

/* --ipfix, once per collector: checked here, resolved before attaching. */
static int parse_ipfix(const char *arg, void *field, char *why, size_t len)
{
	struct ipfix_specs *specs = field;
	struct fa_ipfix_target t;
	int err;

	if (specs->n == FA_IPFIX_MAX_COLLECTORS) {
		snprintf(why, len, "at most %d collectors", FA_IPFIX_MAX_COLLECTORS);
		return -EINVAL;
	}
	err = fa_ipfix_target_parse(arg, &t);
	if (err == -ERANGE) {
		snprintf(why, len, "the port must be 1 to 65535");
		return -EINVAL;
	}
	if (err) {
		snprintf(why, len, "give HOST, HOST:PORT or [IPV6]:PORT (the port defaults to %d)",
			 IPFIX_PORT);
		return -EINVAL;
	}
	specs->spec[specs->n++] = arg;
	return 0;
}

/* --iface, --exclude: a shell glob each time. */
static int parse_pattern(const char *arg, void *field, char *why, size_t len)
{
	struct patterns *p = field;

	if (p->n == MAX_PATTERNS) {
		snprintf(why, len, "at most %d patterns", MAX_PATTERNS);
		return -EINVAL;
	}
	if (!*arg || strlen(arg) > 255) {
		snprintf(why, len, "give a shell glob of interface names, such as 'veth*'");
		return -EINVAL;
	}
	p->v[p->n++] = arg;
	return 0;
}

static const struct opt run_options[] = {
	OPTION("iface", 0, OPT_FUNC, struct run_opts, iface, "GLOB",
	       "also every interface whose name matches GLOB, as it appears (again for more)",
	       .parse = parse_pattern, .list = true),
	OPTION("exclude", 0, OPT_FUNC, struct run_opts, exclude, "GLOB",
	       "but not one whose name matches GLOB (named ones are always taken)",
	       .parse = parse_pattern, .list = true),
	OPTION("all", 0, OPT_FLAG, struct run_opts, all, NULL,
	       "every interface of the namespace but loopback, as they appear"),
	OPTION("interval", 0, OPT_SECONDS, struct run_opts, interval_ms, "SEC",
	       "flip and drain every SEC seconds (0.05 at least)",
	       .min = 50, .max = 3600 * 1000),
	OPTION("idle-timeout", 0, OPT_SECONDS, struct run_opts, idle_ms, "SEC",
	       "a flow not seen for SEC leaves the cache (idle)",
	       .min = 1, .max = 86400ull * 1000),
	OPTION("active-timeout", 0, OPT_SECONDS, struct run_opts, active_ms, "SEC",
	       "a long flow gets a record every SEC (active)",
	       .min = 1, .max = 86400ull * 1000),
	OPTION("end-timeout", 0, OPT_SECONDS, struct run_opts, quiet_ms, "SEC",
	       "a TCP flow closed (FIN both ways, RST) leaves once quiet for SEC (end)",
	       .min = 0, .max = 3600ull * 1000),
	OPTION("cache-size", 0, OPT_UINT, struct run_opts, cache_size, "N",
	       "flows the cache holds (the program set's; per interface with --layout iface); past it the least recent leave",
	       .min = 1, .max = 1u << 26),
	OPTION("json", 0, OPT_STRING, struct run_opts, json, "FILE",
	       "write records as JSON lines to FILE ('-': standard output, the default without --ipfix); SIGHUP reopens it"),
	OPTION("ipfix", 0, OPT_FUNC, struct run_opts, ipfix, "HOST[:PORT]",
	       "export records as IPFIX over UDP to a collector (again for more)",
	       .parse = parse_ipfix, .list = true),
	OPTION("ipfix-domain", 0, OPT_UINT, struct run_opts, ipfix_domain, "N",
	       "IPFIX observation domain of the flow records (default: from the host and the interfaces)",
	       .min = 1, .max = FA_IPFIX_OPTIONS_DOMAIN - 1),
	OPTION("ipfix-max-message", 0, OPT_UINT, struct run_opts, ipfix_max_message, "BYTES",
	       "largest IPFIX message (one UDP datagram)",
	       .min = FA_IPFIX_MIN_MESSAGE, .max = 65527),
	OPTION("ipfix-template-refresh", 0, OPT_SECONDS, struct run_opts, ipfix_refresh_ms, "SEC",
	       "send the IPFIX templates and options again every SEC (and every 100 messages)",
	       .min = 100, .max = 86400ull * 1000),
	OPTION("ipfix-pen", 0, OPT_UINT, struct run_opts, ipfix_pen, "PEN",
	       "export a tunnelled flow's type, id and outer addresses in flowacct's own IPFIX elements, under this Private Enterprise Number (yours)",
	       .min = 1, .max = UINT32_MAX),
	OPTION("metrics", 0, OPT_STRING, struct run_opts, metrics, "ADDR:PORT",
	       "serve Prometheus metrics at http://ADDR:PORT/metrics (':PORT': every address)"),
	OPTION("metrics-file", 0, OPT_STRING, struct run_opts, metrics_file, "PATH.prom",
	       "write the metrics to PATH.prom every interval (node_exporter's textfile collector)"),
	OPTION("metrics-containers", 0, OPT_UINT, struct run_opts, metrics_containers, "N",
	       "containers with metrics series of their own; those past N are counted under container=\"other\" for their life",
	       .min = 0, .max = 100000),
	OPTION("config", 0, OPT_STRING, struct run_opts, config, "FILE",
	       "read options from FILE first, 'name = value' a line (default " FLOWACCT_CONFIG
	       " if it exists; 'none': no file); the command line wins"),
	OPTION("no-sockets", 0, OPT_FLAG, struct run_opts, no_sockets, NULL,
	       "do not attach the socket programs (processes and containers of sockets on the rows); by default attached unless they are, and detached when the last daemon using them exits"),
	OPTION("container-root", 0, OPT_STRING, struct run_opts, container_root, "DIR",
	       "read the container runtimes' files (their names) under DIR (default /)"),
	OPTION("drops", 0, OPT_ENUM, struct run_opts, drops, NULL,
	       "attached (default with --layout set): the packets the kernel drops on the interfaces attached, per flow and reason, on the rows and records; all: on every interface of the network namespace (--layout set only); off (default with --layout iface): none",
	       .values = drop_modes),
	OPTION("layout", 0, OPT_ENUM, struct run_opts, layout, NULL,
	       "set (default): one program set and one pair of tables for every interface attached; iface: programs and tables per interface",
	       .values = layouts),
	ATTACH_OPTIONS(struct run_opts, a, "attach: "),
	OPT_END
};

/* SIGHUP reopens the records file (log rotation); SIGTERM, SIGINT stop. */
static void on_signal(void *ctx, struct fa_engine *e)
{
	struct signalfd_siginfo si;
	int *sfd = ctx;

	while (read(*sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			fa_engine_reopen(e);
		else
			fa_engine_stop(e);
	}
}

static int signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* A closed output is an error we count and say, not a death. */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int do_run(void *opts, int argc, char **argv)
{
	const struct run_opts *o = opts;
	struct fa_engine_cfg cfg = {
		.interval_ms = o->interval_ms,
		.idle_ms = o->idle_ms,
		.active_ms = o->active_ms,
		.quiet_ms = o->quiet_ms,
		.cache_size = o->cache_size,
		/* JSON to standard output unless asked elsewhere, or exporting. */
		.json = o->json ? o->json : o->ipfix.n ? NULL : "-",
		.nipfix = o->ipfix.n,
		.ipfix_domain = o->ipfix_domain,
		.ipfix_max_message = o->ipfix_max_message,
		.ipfix_refresh_ms = o->ipfix_refresh_ms,
		.ipfix_pen = o->ipfix_pen,
		.metrics = o->metrics,
		.metrics_file = o->metrics_file,
		.container_root = o->container_root,
		.metrics_containers = o->metrics_containers,
		.one_set = o->layout == 1,
		.drops = o->drops < 0 ? (o->layout == 1 ? FA_DROPS_ATTACHED : FA_DROPS_OFF) :
					o->drops,
		.drops_asked = o->drops >= 0,
		.sockets = !o->no_sockets,
		.on_wake = on_signal,
		.log = { .fn = cli_log_line },
	};
	const char *domain_of[64 + 2 * MAX_PATTERNS + 1];
	struct fa_err err = {};
	struct fa_engine e;
	size_t nd = 0, i;
	int sfd, r;

	if (!argc && !o->iface.n && !o->all) {
		pr_err("run: give interfaces, --iface GLOB or --all");
		return -EINVAL;
	}
	cfg.match = (struct fa_iface_match){
		.names = (const char *const *)argv, .nnames = argc,
		.globs = o->iface.v, .nglobs = o->iface.n,
		.exclude = o->exclude.v, .nexclude = o->exclude.n,
		.all = o->all,
	};
	/* The domain: from what is followed, as the command says it. */
	for (i = 0; i < (size_t)argc; i++)
		domain_of[nd++] = argv[i];
	for (i = 0; i < o->iface.n; i++)
		domain_of[nd++] = o->iface.v[i];
	for (i = 0; i < o->exclude.n; i++)
		domain_of[nd++] = o->exclude.v[i];
	if (o->all)
		domain_of[nd++] = "--all";
	if (!o->ipfix_domain)
		cfg.ipfix_domain = fa_ipfix_default_domain(domain_of, nd);
	memcpy(cfg.ipfix, o->ipfix.spec, sizeof(cfg.ipfix));
	/*
	 * For a test only: a small buffer for link events, so that a burst
	 * overflows it and the daemon must start over from a full dump.
	 */
	if (getenv("FLOWACCT_TEST_LINK_EVENTS_BUFFER"))
		cfg.link_events_buffer = atoi(getenv("FLOWACCT_TEST_LINK_EVENTS_BUFFER"));
	/* Checked as attach checks them, before anything is attached. */
	if (cli_attach_args(&o->a, &cfg.attach, &cfg.attach_flags))
		return -EINVAL;
	cfg.attach.by_run = true;
	/*
	 * An interface holds about 16 descriptors (its maps, programs, links,
	 * files): the soft limit services get (1024) would stop a daemon
	 * following a container host at about 60. The hard limit is the
	 * administrator's word.
	 */
	raise_nofile();
	sfd = signals();
	if (sfd < 0) {
		pr_err("can't make a signalfd: %s", strerror(errno));
		return -errno;
	}
	cfg.wake_fd = sfd;
	cfg.ctx = &sfd;
	r = fa_engine_open(&e, &cfg, &err);
	if (!r)
		r = fa_engine_follow(&e, &err);
	if (!r)
		fa_engine_run(&e);
	fa_engine_close(&e);
	close(sfd);
	return r ? cli_err(&err) : 0;
}

const struct command cmd_run = {
	.name = "run",
	.args = "[IFACE...]",
	.summary = "the daemon: account IFACEs, expire flows, write records",
	.details = "Attaches each interface that is not attached (adopts one that is), and\n"
		   "every --interval drains its tables into a flow cache whose records\n"
		   "(idle, active, end, lack_of_resources, forced) go out as JSON lines.\n"
		   "Follows the namespace's interfaces: one that appears and matches is\n"
		   "taken; one that goes, or is renamed out, leaves with its flows out.\n"
		   "Every IFACE named must exist: a start is all or nothing.\n"
		   "SIGTERM or SIGINT: every flow out, a counters line per interface, exit.",
	.opts = run_options,
	.opts_size = sizeof(struct run_opts),
	.defaults = &defaults_run,
	.config = FLOWACCT_CONFIG,
	.need = NEED_ROOT | NEED_BPFFS,
	.min_args = 0,
	.max_args = 64,
	.run = do_run,
};
