// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control socket of `flowacct run`: a Unix stream socket under
 * /run/flowacct, mode 0600 (root only), named after the daemon's pid, which
 * the interface's lock file gives. One request per connection, then the
 * answer until the daemon closes it.
 *
 * The control protocol, version 3 (2 had no member=, and no members in its
 * answers). A request is text lines: first "flowacct-ctl 3", then
 * "key=value" lines, then an empty line:
 *
 *   kind=K      rows | info | dump | stats | status (required)
 *   iface=NAME  the interface (rows, info: its pin directory's name); absent
 *               or empty: every interface the daemon owns, its program
 *               set's members included
 *   member=N    with iface the directory of the daemon's program set:
 *               its member of ifindex N (absent: every member); a
 *               member is asked for so, not by its name
 *   json=0|1    the document in JSON (dump, stats, status)
 *   sort=N      dump: enum fa_sort (0 bytes, 1 packets, 2 last, 3 first,
 *               4 duration)
 *   top=N       dump: only the first N rows (0: all)
 *   group=N     dump: the FA_GROUP_* bits of --group-by (0: none)
 *   columns=C,...  dump: the text columns, as enum fa_col numbers (empty:
 *               the default ones)
 *   human=0|1, biflow=0|1  dump: -H, --biflow
 *   src=NET, dst=NET  dump: the prefix filters, as fa_prefix_parse() reads
 *               them (absent: any)
 *   port=N, proto=N  dump: the port and protocol filters (-1: any)
 *
 * Every key at most once; a key that is not listed, or a value that does
 * not parse, fails the request. The answer's first line is
 * "flowacct-ctl 3 OK" or "flowacct-ctl 3 ERR", then the document (rows:
 * the binary snapshot below; info: the "daemon" object of status, a JSON
 * line) or the error, one line. A request of another version is answered
 * "flowacct-ctl 3 ERR" (a request that is not "flowacct-ctl N", as the
 * first daemons took, "ERR" and a line saying so), and a client reads the
 * version in the answer's first line before anything else: the first
 * daemons answered "OK" or "ERR" alone, which is version 1. So a client
 * and a daemon of different versions say so and never misread each other.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stddef.h>
#include <unistd.h>

#include "internal.h"
#include "query.h"

#define CTL_TIMEOUT_MS 10000
#define SNAP_MAGIC 0x46415231	/* "FAR1" */
#define CTL_MAGIC "flowacct-ctl "
#define CTL_REQUEST_MAX 4096

void fa_ctl_path(int pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run-%d.sock", FA_RUN_DIR, pid);
}

bool fa_ctl_serves(int pid)
{
	char path[PATH_MAX];

	fa_ctl_path(pid, path, sizeof(path));
	return !access(path, F_OK);
}

static int ctl_addr(int pid, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	fa_ctl_path(pid, sa->sun_path, sizeof(sa->sun_path));
	return 0;
}

/* Whether @pid is a running flowacct (not a process that got a dead one's pid). */
static bool flowacct_alive(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "flowacct", 8);
}

/* The sockets of daemons that were killed: a socket file outlives them. */
static void remove_stale_sockets(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int pid;

	d = opendir(FA_RUN_DIR);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "run-%d.sock", &pid) == 1 && !flowacct_alive(pid)) {
			fa_ctl_path(pid, path, sizeof(path));
			unlink(path);
		}
	closedir(d);
}

int fa_ctl_listen(int pid)
{
	struct sockaddr_un sa;
	int fd, err;

	if (mkdir(FA_RUN_DIR, 0700) && errno != EEXIST)
		return -errno;
	remove_stale_sockets();
	ctl_addr(pid, &sa);
	unlink(sa.sun_path);	/* a dead daemon's, with our pid */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(sa.sun_path, 0600) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void fa_ctl_unlink(int pid)
{
	char path[PATH_MAX];

	fa_ctl_path(pid, path, sizeof(path));
	unlink(path);
}

static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, CTL_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;
	int err;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			err = wait_fd(fd, POLLOUT);
			if (err)
				return err;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* A whole request: to its empty line, or one line of the first daemons'. */
static bool request_complete(const char *buf, size_t got)
{
	if (strncmp(buf, CTL_MAGIC, got < strlen(CTL_MAGIC) ? got : strlen(CTL_MAGIC)))
		return memchr(buf, '\n', got) != NULL;
	return strstr(buf, "\n\n") != NULL;
}

int fa_ctl_read_request(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int err;

	while (got < len - 1) {
		n = recv(fd, buf + got, len - 1 - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			err = wait_fd(fd, POLLIN);
			if (err)
				return err;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		got += n;
		buf[got] = '\0';
		if (request_complete(buf, got))
			return 0;
	}
	return -EMSGSIZE;
}

int fa_ctl_reply(int fd, bool ok, const void *body, size_t len)
{
	char head[32];
	int err;

	snprintf(head, sizeof(head), CTL_MAGIC "%d %s\n", FA_CTL_VERSION, ok ? "OK" : "ERR");
	err = write_all(fd, head, strlen(head));
	if (!err && len)
		err = write_all(fd, body, len);
	return err;
}

int fa_ctl_refuse(int fd, int version, const char *msg)
{
	int err;

	if (version)
		return fa_ctl_reply(fd, false, msg, strlen(msg));
	err = write_all(fd, "ERR\n", 4);
	return err ? err : write_all(fd, msg, strlen(msg));
}

/*
 * An answer written straight to the client as it is made: "OK" goes out
 * before the first bytes of the body, so a dump of a million flows is
 * never held whole in the daemon (building it in memory cost more than
 * formatting it). Until then the answer can still turn into an error.
 */
static ssize_t reply_write(void *cookie, const char *buf, size_t len)
{
	struct fa_ctl_reply *r = cookie;

	if (r->discard)
		return len;
	if (!r->err && !r->started) {
		r->err = fa_ctl_reply(r->fd, true, NULL, 0);
		r->started = true;
	}
	if (!r->err)
		r->err = write_all(r->fd, buf, len);
	return r->err ? -1 : (ssize_t)len;
}

int fa_ctl_reply_begin(struct fa_ctl_reply *r, int fd)
{
	cookie_io_functions_t io = { .write = reply_write };

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->f = fopencookie(r, "w", io);
	return r->f ? 0 : -ENOMEM;
}

int fa_ctl_reply_end(struct fa_ctl_reply *r, bool ok, const char *err)
{
	if (!ok && !r->started)
		r->discard = true;	/* what was buffered was not the answer */
	fclose(r->f);
	if (r->err)
		return r->err;
	if (!ok)
		return r->started ? -EPROTO : fa_ctl_reply(r->fd, false, err, strlen(err));
	return r->started ? 0 : fa_ctl_reply(r->fd, true, NULL, 0);
}

/* ---- requests ------------------------------------------------------------------ */

static const char *const kind_names[FA_QUERY_NR_KINDS] = {
	[FA_QUERY_ROWS] = "rows", [FA_QUERY_INFO] = "info", [FA_QUERY_DUMP] = "dump",
	[FA_QUERY_STATS] = "stats", [FA_QUERY_STATUS] = "status",
};

static void encode_prefix(FILE *f, const char *key, const struct fa_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];

	if (p->set && inet_ntop(AF_INET6, p->addr, buf, sizeof(buf)))
		fprintf(f, "%s=%s/%u\n", key, buf, p->len);
}

int fa_query_encode(const struct fa_query *q, FILE *f)
{
	const struct fa_dump_opts *d = &q->dump;
	size_t i;

	fprintf(f, CTL_MAGIC "%d\nkind=%s\niface=%s\njson=%d\n", FA_CTL_VERSION,
		kind_names[q->kind], q->iface, q->json);
	if (q->member)
		fprintf(f, "member=%u\n", q->member);
	if (q->kind == FA_QUERY_DUMP) {
		fprintf(f, "sort=%d\ntop=%llu\ngroup=%u\nhuman=%d\nbiflow=%d\nport=%d\nproto=%d\ncolumns=",
			d->sort, (unsigned long long)d->top, d->group, d->human,
			d->biflow, d->port, d->proto);
		for (i = 0; i < d->view.ncols; i++)
			fprintf(f, "%s%u", i ? "," : "", d->view.cols[i]);
		fputc('\n', f);
		encode_prefix(f, "src", &d->src);
		encode_prefix(f, "dst", &d->dst);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

/* A number in [min, max] from the whole of @s. */
static int parse_num(const char *s, long long min, long long max, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return !*s || *end || errno || *v < min || *v > max ? -EINVAL : 0;
}

static int parse_columns(char *s, struct fa_view *v)
{
	char *tok, *save = NULL;
	long long c;

	v->ncols = 0;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (v->ncols == FA_MAX_COLS || parse_num(tok, 0, FA_NR_COLS - 1, &c))
			return -EINVAL;
		v->cols[v->ncols++] = c;
	}
	return 0;
}

/* The request's fields: where each goes in a struct fa_query, and how. */
enum field_type { F_KIND, F_STR, F_BOOL, F_INT, F_U32, F_U64, F_COLS, F_PREFIX };

#define FIELD(n, t, f, lo, hi) \
	{ .name = n, .type = t, .offset = offsetof(struct fa_query, f), .min = lo, .max = hi }

static const struct field {
	const char *name;
	enum field_type type;
	size_t offset;
	long long min, max;
} fields[] = {
	FIELD("kind", F_KIND, kind, 0, 0),
	FIELD("iface", F_STR, iface, 0, 0),
	FIELD("member", F_U32, member, 1, UINT_MAX),
	FIELD("json", F_BOOL, json, 0, 1),
	FIELD("sort", F_INT, dump.sort, 0, FA_SORT_DURATION),
	FIELD("top", F_U64, dump.top, 0, LLONG_MAX),
	FIELD("group", F_U32, dump.group, 0, UINT_MAX),
	FIELD("human", F_BOOL, dump.human, 0, 1),
	FIELD("biflow", F_BOOL, dump.biflow, 0, 1),
	FIELD("port", F_INT, dump.port, -1, 65535),
	FIELD("proto", F_INT, dump.proto, -1, 255),
	FIELD("columns", F_COLS, dump.view, 0, 0),
	FIELD("src", F_PREFIX, dump.src, 0, 0),
	FIELD("dst", F_PREFIX, dump.dst, 0, 0),
};

/* One "key=value" line into @q; @seen keeps the keys met (each once). */
static int decode_field(struct fa_query *q, const char *key, char *val,
			unsigned int *seen)
{
	const struct field *f;
	long long v = 0;
	size_t k;
	void *at;

	for (k = 0; k < ARRAY_SIZE(fields) && strcmp(key, fields[k].name); k++)
		;
	if (k == ARRAY_SIZE(fields) || (*seen & (1u << k)))
		return -EINVAL;
	*seen |= 1u << k;
	f = &fields[k];
	at = (char *)q + f->offset;
	switch (f->type) {
	case F_KIND:
		for (v = 0; v < FA_QUERY_NR_KINDS && strcmp(val, kind_names[v]); v++)
			;
		q->kind = v;
		return v < FA_QUERY_NR_KINDS ? 0 : -EINVAL;
	case F_STR:
		if (strlen(val) >= sizeof(q->iface))
			return -EINVAL;
		strcpy(at, val);
		return 0;
	case F_COLS:
		return parse_columns(val, at);
	case F_PREFIX:
		return fa_prefix_parse(val, at);
	default:
		break;
	}
	if (parse_num(val, f->min, f->max, &v))
		return -EINVAL;
	if (f->type == F_BOOL)
		*(bool *)at = v;
	else if (f->type == F_INT)
		*(int *)at = v;
	else if (f->type == F_U32)
		*(unsigned int *)at = v;
	else
		*(__u64 *)at = v;
	return 0;
}

int fa_query_decode(const char *req, struct fa_query *q, int *version,
		    struct fa_err *e)
{
	char *copy, *line, *eq, *save = NULL;
	unsigned int seen = 0;
	int err = 0;

	memset(q, 0, sizeof(*q));
	q->dump = fa_dump_defaults;
	*version = 0;
	if (strncmp(req, CTL_MAGIC, strlen(CTL_MAGIC)) ||
	    sscanf(req + strlen(CTL_MAGIC), "%d", version) != 1 ||
	    *version != FA_CTL_VERSION)
		return fa_err_set(e, -EPROTO, "this daemon speaks control protocol version %d: ask it with the flowacct it was started with",
				  FA_CTL_VERSION);
	copy = strdup(req);
	if (!copy)
		return fa_err_set(e, -ENOMEM, "out of memory");
	line = strtok_r(copy, "\n", &save);	/* the version line */
	while (!err && (line = strtok_r(NULL, "\n", &save))) {
		eq = strchr(line, '=');
		if (!eq) {
			err = fa_err_set(e, -EINVAL, "a request line without '=': '%s'", line);
			break;
		}
		*eq = '\0';
		if (decode_field(q, line, eq + 1, &seen))
			err = fa_err_set(e, -EINVAL, "bad request field '%s=%s'", line, eq + 1);
	}
	if (!err && !(seen & 1))
		err = fa_err_set(e, -EINVAL, "a request without its kind");
	free(copy);
	return err;
}

/* ---- asking a daemon --------------------------------------------------------- */

/* The status line of an answer: 0 (OK), 1 (ERR), or -EPROTO with the
 * protocol version it shows in *@version. */
static int answer_head(const char *head, int *version)
{
	char word[8];

	if (!strcmp(head, "OK") || !strcmp(head, "ERR")) {
		*version = 1;
		return -EPROTO;
	}
	if (strncmp(head, CTL_MAGIC, strlen(CTL_MAGIC)) ||
	    sscanf(head + strlen(CTL_MAGIC), "%d %7s", version, word) != 2) {
		*version = 0;
		return -EPROTO;
	}
	if (*version != FA_CTL_VERSION)
		return -EPROTO;
	if (!strcmp(word, "OK"))
		return 0;
	return !strcmp(word, "ERR") ? 1 : -EPROTO;
}

static int connect_daemon(int pid)
{
	struct sockaddr_un sa;
	int fd, err;

	ctl_addr(pid, &sa);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Sends @req; the status line goes to @head, the body to @body (or, after
 * an ERR, to @errbody). A daemon that closes while part of the request is
 * unread (one of the first, which read one line) resets the connection:
 * that ends the answer like a close.
 */
static int exchange(int fd, const char *req, size_t rlen, char *head, size_t hsize,
		    FILE *body, FILE *errbody)
{
	/* An answer can be hundreds of MB: read it in large pieces. */
	enum { BUF_SIZE = 1 << 20 };
	size_t hlen = 0, i;
	bool in_body = false;
	FILE *to = body;
	char *buf;
	ssize_t n;
	int err, version;

	buf = malloc(BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	err = write_all(fd, req, rlen);
	while (!err) {
		err = wait_fd(fd, POLLIN);
		if (err)
			break;
		n = recv(fd, buf, BUF_SIZE, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET && in_body)
			break;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		i = 0;
		while (!in_body && i < (size_t)n) {
			if (buf[i] == '\n') {
				head[hlen] = '\0';
				in_body = true;
				if (answer_head(head, &version) == 1)
					to = errbody;
			} else if (hlen < hsize - 1) {
				head[hlen++] = buf[i];
			}
			i++;
		}
		/* Nothing of another protocol's answer is taken as ours. */
		if (in_body && answer_head(head, &version) < 0)
			break;
		if (in_body && i < (size_t)n &&
		    fwrite(buf + i, 1, n - i, to) != (size_t)(n - i)) {
			err = -EIO;
			break;
		}
	}
	if (!err && !in_body)
		err = -EPROTO;
	free(buf);
	return err;
}

int fa_ctl_ask(int pid, const struct fa_query *q, FILE *body, struct fa_err *e)
{
	char *req = NULL, *msg = NULL, head[64] = "";
	size_t rlen = 0, mlen = 0;
	FILE *rf, *mf;
	int fd, err, version, res;

	rf = open_memstream(&req, &rlen);
	if (!rf)
		return fa_err_set(e, -ENOMEM, "out of memory");
	err = fa_query_encode(q, rf);
	fclose(rf);
	mf = open_memstream(&msg, &mlen);
	if (!err && !mf)
		err = -ENOMEM;
	fd = err ? err : connect_daemon(pid);
	if (fd >= 0) {
		err = exchange(fd, req, rlen, head, sizeof(head), body, mf);
		close(fd);
	} else {
		err = fd;
	}
	if (mf)
		fclose(mf);
	free(req);
	if (err) {
		free(msg);
		return fa_err_set(e, err, "can't ask flowacct run (pid %d), which owns the interface: %s",
				  pid, strerror(-err));
	}
	res = answer_head(head, &version);
	if (res < 0) {
		free(msg);
		if (!version)
			return fa_err_set(e, -EPROTO, "the daemon (pid %d) answered in an unknown control protocol (this flowacct speaks version %d): use the flowacct it was started with",
					  pid, FA_CTL_VERSION);
		return fa_err_set(e, -EPROTO, "the daemon (pid %d) speaks another control protocol (version %d, this flowacct speaks %d): use the flowacct it was started with",
				  pid, version, FA_CTL_VERSION);
	}
	if (res == 1) {
		while (mlen && msg[mlen - 1] == '\n')
			msg[--mlen] = '\0';
		fa_err_set(e, -EINVAL, "%s", mlen ? msg : "the daemon's request failed");
	}
	free(msg);
	return res;
}

/* ---- the binary snapshot ------------------------------------------------------ */

struct snap_head {
	__u32 magic;
	__u32 row_size;
	__u32 iface_size;
	__u32 nifs;
	__u64 nrows;
	__s32 hook[FLOW_NR_DIRS];
	__u32 has_drops_elsewhere;
	__u32 pad;
	struct flow_drop_stats drops_elsewhere;
};

int fa_snapshot_encode(const struct fa_snapshot *s, FILE *f)
{
	struct snap_head h = {
		.magic = SNAP_MAGIC,
		.row_size = sizeof(struct fa_row),
		.iface_size = sizeof(struct fa_iface_snap),
		.nifs = s->nifs,
		.nrows = s->t.n,
		.has_drops_elsewhere = s->has_drops_elsewhere,
		.drops_elsewhere = s->drops_elsewhere,
	};

	memcpy(h.hook, s->hook, sizeof(h.hook));
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
	    fwrite(s->ifs, sizeof(*s->ifs), s->nifs, f) != s->nifs ||
	    fwrite(s->t.rows, sizeof(*s->t.rows), s->t.n, f) != s->t.n)
		return -EIO;
	return 0;
}

int fa_snapshot_decode(const void *buf, size_t len, struct fa_snapshot *s)
{
	const char *p = buf;
	struct snap_head h;
	struct fa_iface_snap *is;
	const struct fa_row *rows;
	size_t i;
	int err, dir;

	if (len < sizeof(h))
		return -EPROTO;
	memcpy(&h, p, sizeof(h));
	if (h.magic != SNAP_MAGIC || h.row_size != sizeof(struct fa_row) ||
	    h.iface_size != sizeof(struct fa_iface_snap) ||
	    len != sizeof(h) + h.nifs * sizeof(*is) + h.nrows * sizeof(*rows))
		return -EPROTO;
	p += sizeof(h);
	is = realloc(s->ifs, (s->nifs + h.nifs) * sizeof(*is));
	if (!is && h.nifs)
		return -ENOMEM;
	if (is)
		s->ifs = is;
	for (i = 0; i < h.nifs; i++, p += sizeof(*is)) {
		memcpy(&s->ifs[s->nifs], p, sizeof(*is));
		fa_stats_add(s->total, s->ifs[s->nifs].st);
		err = fa_names_add(&s->names, s->ifs[s->nifs].state.ifindex,
				   s->ifs[s->nifs].ifname);
		if (err)
			return err;
		s->nifs++;
	}
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		if (!s->hook[dir])
			s->hook[dir] = h.hook[dir];
		else if (h.hook[dir] && s->hook[dir] != h.hook[dir])
			s->hook[dir] = FA_HOOK_MIXED;
	}
	if (h.has_drops_elsewhere) {
		for (i = 0; i < FLOW_NR_DROP_COUNTERS; i++)
			s->drops_elsewhere.c[i] += h.drops_elsewhere.c[i];
		s->has_drops_elsewhere = true;
	}
	rows = (const struct fa_row *)p;
	for (i = 0; i < h.nrows; i++) {
		err = fa_table_append(&s->t, &rows[i].key, &rows[i].val, rows[i].kind);
		if (err)
			return err;
		s->t.rows[s->t.n - 1].drops = rows[i].drops;
	}
	return 0;
}
