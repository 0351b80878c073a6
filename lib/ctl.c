// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control socket of `flowacct run`: a Unix stream socket under
 * /run/flowacct, mode 0600 (root only), named after the daemon's pid, which
 * the interface's lock file gives. A request is one line: a flowacct
 * command line (dump, stats, status, with their options) or "rows" for the
 * binary snapshot flowacct merges with interfaces no daemon owns. The answer
 * is "OK\n" or "ERR\n", then the document (or the error) until the daemon
 * closes the connection.
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
#include <unistd.h>

#include "libflowacct.h"

#define CTL_TIMEOUT_MS 10000
#define SNAP_MAGIC 0x46415231	/* "FAR1" */

void fa_ctl_path(int pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run-%d.sock", FA_RUN_DIR, pid);
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
		if (memchr(buf, '\n', got)) {
			*strchr(buf, '\n') = '\0';
			return 0;
		}
	}
	return -EMSGSIZE;
}

int fa_ctl_reply(int fd, bool ok, const void *body, size_t len)
{
	int err;

	err = write_all(fd, ok ? "OK\n" : "ERR\n", ok ? 3 : 4);
	if (!err && len)
		err = write_all(fd, body, len);
	return err;
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
		r->err = write_all(r->fd, "OK\n", 3);
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

int fa_ctl_call(int pid, const char *req, FILE *body, bool *ok)
{
	/* An answer can be hundreds of MB: read it in large pieces. */
	enum { BUF_SIZE = 1 << 20 };
	struct sockaddr_un sa;
	char *buf, head[8];
	size_t hlen = 0, i;
	bool in_body = false;
	ssize_t n;
	int fd, err;

	*ok = false;
	buf = malloc(BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	ctl_addr(pid, &sa);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, req, strlen(req));
	if (!err)
		err = write_all(fd, "\n", 1);
	while (!err) {
		err = wait_fd(fd, POLLIN);
		if (err)
			break;
		n = recv(fd, buf, BUF_SIZE, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		i = 0;
		/* The status line first, then the body as it comes. */
		while (!in_body && i < (size_t)n) {
			if (buf[i] == '\n') {
				head[hlen] = '\0';
				*ok = !strcmp(head, "OK");
				in_body = true;
			} else if (hlen < sizeof(head) - 1) {
				head[hlen++] = buf[i];
			}
			i++;
		}
		if (in_body && i < (size_t)n &&
		    fwrite(buf + i, 1, n - i, body) != (size_t)(n - i)) {
			err = -EIO;
			break;
		}
	}
	if (!err && !in_body)
		err = -EPROTO;
out:
	close(fd);
	free(buf);
	return err;
}

/* ---- the binary snapshot ------------------------------------------------------ */

struct snap_head {
	__u32 magic;
	__u32 row_size;
	__u32 iface_size;
	__u32 nifs;
	__u64 nrows;
	__s32 hook[FLOW_NR_DIRS];
};

int fa_snapshot_encode(const struct fa_snapshot *s, FILE *f)
{
	struct snap_head h = {
		.magic = SNAP_MAGIC,
		.row_size = sizeof(struct fa_row),
		.iface_size = sizeof(struct fa_iface_snap),
		.nifs = s->nifs,
		.nrows = s->t.n,
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
	rows = (const struct fa_row *)p;
	for (i = 0; i < h.nrows; i++) {
		err = fa_table_append(&s->t, &rows[i].key, &rows[i].val, rows[i].kind);
		if (err)
			return err;
	}
	return 0;
}
