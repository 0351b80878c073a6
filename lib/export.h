/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's exporters: IPFIX to collectors over UDP (RFC 7011). The
 * metrics page's server and format are lib's own (internal.h).
 */
#ifndef FLOWACCT_EXPORT_H
#define FLOWACCT_EXPORT_H

#include <sys/socket.h>

#include "iface.h"

/* ---- IPFIX export (ipfix.c) ---------------------------------------------------- */

/* The options records' domain: the flow domain with this bit set. */
#define FA_IPFIX_OPTIONS_DOMAIN		0x80000000u
#define FA_IPFIX_MAX_COLLECTORS		8
#define FA_IPFIX_MIN_MESSAGE		256	/* holds any one template or record */
#define FA_IPFIX_DEFAULT_MESSAGE	1400
#define FA_IPFIX_DEFAULT_REFRESH_MS	60000
#define FA_IPFIX_REFRESH_MESSAGES	100	/* templates again after this many */
#define FA_IPFIX_INITIAL_TEMPLATES	3	/* copies before the first data */

struct fa_ipfix_target {
	char name[300];		/* as given */
	char host[256];
	__u16 port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* HOST, HOST:PORT, [IPV6]:PORT or a bare IPv6 address; the port defaults to
 * 4739. -EINVAL: malformed; -ERANGE: the port. */
int fa_ipfix_target_parse(const char *spec, struct fa_ipfix_target *t);
/* -ENOENT: no such host; -EAGAIN: the resolver could not answer now. */
int fa_ipfix_target_resolve(struct fa_ipfix_target *t);
/* Stable per host and set of interfaces; never 0, top bit clear. */
__u32 fa_ipfix_default_domain(const char *const *ifnames, size_t n);

struct fa_ipfix_cfg {
	__u32 domain;			/* of the flow records */
	__u32 max_message;		/* bytes, header included */
	__u64 refresh_ns;		/* templates and options again after */
	__u32 refresh_messages;		/* templates again after this many */
	__u16 active_timeout_s, idle_timeout_s;	/* told in the options */
	__u32 pen;			/* --ipfix-pen: flowacct's own elements under it; 0: none */
};

struct fa_ipfix_stats {
	__u64 messages;		/* sent, of every kind */
	__u64 octets;
	__u64 records;		/* flow records sent */
	__u64 options_records;
	__u64 template_sends;
	__u64 send_errors;	/* messages the socket refused */
	__u64 records_not_sent;	/* the flow records in those */
	__u64 skipped;		/* records a killed daemon had sent already */
	int last_error;
};

struct ipfix_state;

struct fa_ipfix_collector {
	struct fa_ipfix_target target;
	int fd;
	struct ipfix_state *st;		/* persisted: see ipfix.c */
	int state_fd;			/* its file, flock(LOCK_SH) held: in use */
	__u64 templates_ns, options_ns;	/* last sent */
	__u32 since_templates;		/* data messages since */
	__u32 templates_due;		/* copies to send before data */
	bool resend_templates;		/* after a send error */
	struct fa_ipfix_stats stats;
};

struct fa_ipfix {
	struct fa_ipfix_cfg cfg;
	struct fa_ipfix_collector c[FA_IPFIX_MAX_COLLECTORS];
	size_t n;
	__u8 *buf;
	size_t *order, order_cap;
};

struct fa_ipfix_iface {
	__u32 ifindex;
	const char *name;
};

int fa_ipfix_init(struct fa_ipfix *x, const struct fa_ipfix_cfg *cfg);
/* A resolved target: its socket and its persisted numbering. */
int fa_ipfix_add(struct fa_ipfix *x, const struct fa_ipfix_target *t);
void fa_ipfix_free(struct fa_ipfix *x);
/*
 * Forgets the collectors' persisted numbering: a daemon that stopped
 * cleanly (every record sent) leaves none. A file another process still
 * uses (the same domain and collector) is kept.
 */
void fa_ipfix_remove_state(struct fa_ipfix *x);
/* One interface's records (sorted by seq) to every collector, with each
 * tunnelled one's tunnel in @tuns (NULL: none noted; a zero type: not
 * noted). Never fails and never blocks: what cannot be sent is counted in
 * the stats. */
void fa_ipfix_export(struct fa_ipfix *x, __u64 instance, const struct fa_record *recs,
		     const struct flow_tunnel *tuns, size_t n, __u64 wall_off);
/* Templates and options records when due, or now with @force. */
void fa_ipfix_refresh(struct fa_ipfix *x, const struct fa_ipfix_iface *ifs, size_t nifs,
		      __u64 ignored_packets, bool force);

#endif /* FLOWACCT_EXPORT_H */
