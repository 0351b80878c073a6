/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command layer: each `flowacct CMD` is a struct of options with its
 * defaults, a declarative table of those options, and a function that calls
 * the library and formats what it returns. Parsing, help, privileges, bpffs
 * and error reporting are done once, here, for all of them.
 */
#ifndef FLOWACCT_CLI_H
#define FLOWACCT_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "libflowacct.h"
#include "out.h"

/* The global options. The command layer is the one place with globals. */
struct cli {
	bool json;
	int verbose;
};
extern struct cli cli;

/* One error line on stderr; with -j also {"error": "..."} on stdout. */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A note or warning on stderr, never on stdout. */
void pr_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf and libxdp stay quiet unless -v; what they would have said is kept. */
void cli_log_setup(void);
void cli_log_tail(int lines);
const char *cli_log_find(const char *needle);

/* A struct fa_err's line, said once as pr_err() says it; returns its code. */
int cli_err(const struct fa_err *e);
/* The engine's lines (struct fa_log), as pr_note() says them: one write
 * each; its debug lines only with -v. */
void cli_log_line(void *ctx, enum fa_log_level level, const char *line);

/* The output of a command: text or JSON on stdout. */
void cli_out(struct fa_out *o);

/* ---- option tables ---------------------------------------------------------- */

enum opt_type {
	OPT_FLAG,	/* bool, no argument */
	OPT_UINT,	/* unsigned integer in [min, max], into a __u64 or __u32 */
	OPT_SECONDS,	/* a number of seconds, fractions allowed, >= min ms */
	OPT_ENUM,	/* one of values[], into an int */
	OPT_STRING,	/* const char * */
	OPT_FUNC,	/* parse() does it */
};

struct opt_value {
	const char *name;
	int value;
};

struct opt {
	const char *name;		/* --name */
	char short_name;		/* -x, or 0 */
	enum opt_type type;
	size_t offset;			/* of the field in the command's struct */
	size_t size;			/* of the field (OPT_UINT: 4 or 8) */
	const char *metavar;
	const char *help;
	__u64 min, max;			/* OPT_UINT; OPT_SECONDS: ms */
	const struct opt_value *values;	/* OPT_ENUM, ended by a NULL name */
	/* OPT_FUNC: 0, or -EINVAL with a reason in @why. */
	int (*parse)(const char *arg, void *field, char *why, size_t len);
	/* OPT_FUNC that adds to a list each time: the command line's uses
	 * replace the configuration file's, rather than add to them. */
	bool list;
};

#define OPT_END { .name = NULL }

/* One row of a command's option table; min, max, values or parse follow
 * as designated initializers where the type needs them. */
#define OPTION(lname, sname, otype, st, field, mv, hlp, ...)		\
	{ .name = lname, .short_name = sname, .type = otype,		\
	  .offset = offsetof(st, field), .size = sizeof(((st *)0)->field), \
	  .metavar = mv, .help = hlp, __VA_ARGS__ }

/*
 * The attach options, defined once: a command embeds a struct
 * fa_attach_args @field in its struct @st and puts these rows in its table;
 * fa_attach_args_resolve() checks them and applies the defaults. @pfx
 * starts each help line ("" or "attach: "). The hook, the tables and
 * sampling, and the extra per-flow data, apart: replay takes only the second.
 */
#define ATTACH_HOOK_OPTIONS(st, field, pfx)					\
	OPTION("ingress", 0, OPT_ENUM, st, field.ingress, NULL,			\
	       pfx "the ingress hook (auto: TC on virtual devices, XDP on NICs that run it)", \
	       .values = ingress_hooks),					\
	OPTION("mode", 0, OPT_ENUM, st, field.xdp_mode, NULL,			\
	       pfx "XDP at ingress, native or generic (skb)",			\
	       .values = xdp_modes),						\
	OPTION("tc-api", 0, OPT_ENUM, st, field.tc_api, NULL,			\
	       pfx "how the TC hooks attach (auto: TCX links where the kernel has them, else clsact)", \
	       .values = tc_apis)

#define ATTACH_TABLE_OPTIONS(st, field, pfx)					\
	OPTION("map", 0, OPT_ENUM, st, field.shared, NULL,			\
	       pfx "a row of a flow for each CPU that sees it, or one row of per-CPU values", \
	       .values = map_modes),						\
	OPTION("max-flows", 0, OPT_UINT, st, field.max_flows, "N",		\
	       pfx "rows each epoch table holds (shared: a flow on one CPU)",	\
	       .min = 1, .max = 1u << 27),					\
	OPTION("sample", 0, OPT_FUNC, st, field.sample_rate, "N",		\
	       pfx "send 1 in N frames to the sample buffer (0: off)",		\
	       .parse = parse_sample_rate),					\
	OPTION("sample-mode", 0, OPT_ENUM, st, field.sample_mode, NULL,		\
	       pfx "which frames are samples",					\
	       .values = sample_modes),						\
	OPTION("snaplen", 0, OPT_FUNC, st, field.snaplen, "BYTES",		\
	       pfx "bytes of each sampled frame",				\
	       .parse = parse_snaplen)

#define ATTACH_FEATURE_OPTIONS(st, field, pfx)					\
	OPTION("attribution", 0, OPT_FLAG, st, field.attribution, NULL,		\
	       pfx "note the socket (cookie, cgroup) of each locally sent flow"), \
	OPTION("retrans", 0, OPT_FLAG, st, field.retrans, NULL,			\
	       pfx "count TCP retransmissions from sequence numbers"),		\
	OPTION("passive-rtt", 0, OPT_FLAG, st, field.passive_rtt, NULL,		\
	       pfx "RTT from here to the far end, from TCP timestamps echoed back")

#define ATTACH_DECAP_OPTIONS(st, field, pfx)					\
	OPTION("decap", 0, OPT_ENUM, st, field.decap, NULL,			\
	       pfx "tunnels (VXLAN, Geneve, GRE, ERSPAN, IP in IP, MPLS): the outer packet is the flow, or the inner one", \
	       .values = decap_modes),						\
	OPTION("vxlan-port", 0, OPT_FUNC, st, field.vxlan, "PORT[,PORT...]", \
	       pfx "VXLAN's UDP ports besides 4789 and 8472 (at most 4)",	\
	       .parse = parse_vxlan_ports)

#define ATTACH_OPTIONS(st, field, pfx)						\
	ATTACH_HOOK_OPTIONS(st, field, pfx),					\
	ATTACH_TABLE_OPTIONS(st, field, pfx),					\
	ATTACH_FEATURE_OPTIONS(st, field, pfx),					\
	ATTACH_DECAP_OPTIONS(st, field, pfx),					\
	OPTION("force-memory", 0, OPT_FLAG, st, field.force_memory, NULL,	\
	       pfx "attach even where the maps and files, full, would take more memory than is available")

/* run's configuration file, read if it exists. */
#ifndef FLOWACCT_CONFIG
#define FLOWACCT_CONFIG "/etc/flowacct/flowacct.conf"
#endif

/* What a command needs before it runs. */
enum cmd_need {
	NEED_ROOT = 1 << 0,	/* uid 0 and the BPF capabilities: the pins */
	NEED_BPF = 1 << 1,	/* the BPF capabilities only (replay) */
	NEED_BPFFS = 1 << 2,	/* bpffs at /sys/fs/bpf, mounted if missing */
	NEED_BPFFS_SEEN = 1 << 3, /* bpffs, not mounted by us (reading) */
};

struct command {
	const char *name;
	const char *args;		/* positional arguments, for usage */
	const char *summary;
	const char *details;		/* more lines of help, or NULL */
	const struct opt *opts;
	size_t opts_size;		/* sizeof the command's struct */
	const void *defaults;
	unsigned int need;
	int min_args, max_args;		/* positional; max -1: any */
	int (*run)(void *opts, int argc, char **argv);
	/*
	 * Its configuration file, read first if it exists (NULL: none): its
	 * long options, "name = value" a line; the table's "config" option
	 * names another ("none": no file). The command line wins.
	 */
	const char *config;
};

extern const struct command cmd_attach, cmd_detach, cmd_status, cmd_dump,
	cmd_stats, cmd_set, cmd_capture, cmd_replay, cmd_run, cmd_top, cmd_sockets;

/*
 * Parses @argv (the command's name first) through @c's table into @opts (its
 * defaults already in): options anywhere, -j and --help too, positional
 * arguments in order into *pos (freed by the caller); first, the options of
 * @c's configuration file. Errors are one line.
 */
int cli_parse(const struct command *c, int argc, char **argv, void *opts,
	      int *npos, char ***pos, bool *help);
/* @c's help from its table, defaults included (-j: null). */
void cli_usage(const struct command *c);

/* ---- helpers the commands share ---------------------------------------------- */

/* Option parsers for OPT_FUNC. */
int parse_group(const char *arg, void *field, char *why, size_t len);
int parse_prefix(const char *arg, void *field, char *why, size_t len);
int parse_proto(const char *arg, void *field, char *why, size_t len);
int parse_columns(const char *arg, void *field, char *why, size_t len);
int parse_sample_rate(const char *arg, void *field, char *why, size_t len);
int parse_snaplen(const char *arg, void *field, char *why, size_t len);
int parse_vxlan_ports(const char *arg, void *field, char *why, size_t len);

extern const struct opt_value map_modes[], sample_modes[], sort_keys[],
	ingress_hooks[], xdp_modes[], tc_apis[], formats[], decap_modes[];

/*
 * The attachment of @ifname, for a command that reads it: an error printed
 * (not attached, attached elsewhere, renamed, incomplete) and -errno, or 0.
 */
int cli_open_iface(const char *ifname, struct fa_pinned *p);
/* Every complete attachment in this network namespace. */
int cli_open_all(struct fa_pinned **ps, size_t *n);
void cli_close_all(struct fa_pinned *ps, size_t n);
/*
 * Checks the attach options and applies their defaults (@flags: the
 * FA_IFACE_ANY_* of what was left unset); says why it refuses them.
 */
int cli_attach_args(const struct fa_attach_args *a, struct fa_attach_opts *o,
		    unsigned int *flags);
/* cli_err(), adding that libbpf's log tells more (-v) when @libbpf_said. */
int cli_err_bpf(const struct fa_err *e, bool libbpf_said);
/* Takes @dirname's lock of @kind or says who holds it. */
int cli_lock(const char *dirname, const char *ifname, enum fa_lock_kind kind,
	     struct fa_lock *l);

#endif /* FLOWACCT_CLI_H */
