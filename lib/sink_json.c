// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON lines sink: each record a line, written to the kernel (a write
 * per JSON_CHUNK records) before the stream may clear what it came from,
 * and at shutdown a counters line per interface that the records add up
 * to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"
#include "out.h"

struct sink_json {
	struct fa_engine *e;
	const char *path;		/* "-": standard output */
	int fd;
};

/*
 * The records file, appended to. A daemon killed in the middle of a write
 * may have left a line without its end: end it, so that it stands alone
 * (readers skip a line that is not JSON; its record comes again whole, from
 * the journal, with the same instance and sequence number).
 */
static int open_file(struct sink_json *j)
{
	char last;
	int fd;

	if (!strcmp(j->path, "-")) {
		j->fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (pread(fd, &last, 1, lseek(fd, 0, SEEK_END) - 1) == 1 && last != '\n' &&
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return -errno;
	}
	if (j->fd > STDOUT_FILENO)
		close(j->fd);
	j->fd = fd;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Records formatted per write. A tick that ends thousands of flows made
 * a buffer of megabytes, which the heap then kept until the daemon's next
 * trim; a chunk's buffer is reused.
 */
#define JSON_CHUNK 256

/*
 * A batch whole or not at all: the records of a failed write are written
 * again whole, so what part of them got in goes again (a file's end cut
 * back to where the batch began; a pipe or terminal can't be, and keeps
 * it, as a kill between two chunks leaves their lines: a reader drops a
 * record whose instance and sequence number it has).
 */
static int json_records(void *priv, const struct fa_stream *s,
			const struct fa_record *recs, size_t n, __u64 wall_off)
{
	struct sink_json *j = priv;
	struct fa_records_join join;
	struct fa_ext x;
	struct fa_out o;
	struct stat sb;
	bool file = !fstat(j->fd, &sb) && S_ISREG(sb.st_mode);
	char *buf;
	size_t len, i, from;
	FILE *f;
	int err = 0;

	fa_records_join_open(&join, s);
	for (from = 0; from < n && !err; from += JSON_CHUNK) {
		buf = NULL;
		len = 0;
		f = open_memstream(&buf, &len);
		if (!f) {
			err = -ENOMEM;
			break;
		}
		out_init(&o, f, true);
		for (i = from; i < n && i < from + JSON_CHUNK; i++) {
			json_init(&o.j, f);
			fa_records_join_key(&join, &recs[i].key, &x);
			/* No socket's cgroup says whose: the interface's peer may. */
			if (!x.container)
				x.container = fa_engine_flow_container(j->e, &recs[i].key);
			fa_print_record(&o, &recs[i], fa_stream_ifname(s, recs[i].key.ifindex),
					s->rs.instance, wall_off,
					join.joined || x.container || x.flags ? &x : NULL);
			json_end_line(&o.j);
		}
		fclose(f);
		err = write_all(j->fd, buf, len);
		free(buf);
	}
	fa_records_join_close(&join);
	/*
	 * The write's error is the one said, the cut done or not. Without
	 * O_APPEND (a shell's redirection) the offset is moved back too, or
	 * the next write would leave a hole of NULs where the cut was.
	 */
	if (err && file && !ftruncate(j->fd, sb.st_size))
		lseek(j->fd, sb.st_size, SEEK_SET);
	if (!err)
		j->e->stats.json_records += n;
	return err;
}

static void json_counters(void *priv, const struct fa_stream *s, __u32 ifindex)
{
	struct sink_json *j = priv;
	char *buf;
	size_t len;
	int err;

	err = fa_counters_line(s, ifindex, &buf, &len);
	if (!err)
		err = write_all(j->fd, buf, len);
	if (err)
		fa_log(&j->e->cfg.log, FA_LOG_NOTE, "can't write the counters of '%s': %s",
		       fa_stream_ifname(s, ifindex), strerror(-err));
	free(buf);
}

static const char *json_where(void *priv)
{
	struct sink_json *j = priv;

	return strcmp(j->path, "-") ? j->path : "standard output";
}

/* Log rotation: the file was moved away; write a new one. */
static void json_reopen(void *priv)
{
	struct sink_json *j = priv;
	int err = open_file(j);

	if (err)
		fa_log(&j->e->cfg.log, FA_LOG_NOTE, "can't reopen %s: %s", j->path,
		       strerror(-err));
}

static void json_describe(void *priv, char *buf, size_t len)
{
	snprintf(buf, len, "; records to %s", json_where(priv));
}

static void json_close(void *priv)
{
	struct sink_json *j = priv;

	if (j->fd > STDOUT_FILENO)
		close(j->fd);
	free(j);
}

static const struct fa_sink_ops json_ops = {
	.name = "json",
	.records = json_records,
	.counters = json_counters,
	.reopen = json_reopen,
	.describe = json_describe,
	.where = json_where,
	.close = json_close,
};

int fa_sink_json_open(struct fa_engine *e, struct fa_engine_sink *sink, struct fa_err *err)
{
	struct sink_json *j;
	int r;

	sink->ops = NULL;
	if (!e->cfg.json)
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return fa_err_set(err, -ENOMEM, "out of memory");
	j->e = e;
	j->path = e->cfg.json;
	j->fd = -1;
	r = open_file(j);
	if (r) {
		free(j);
		return fa_err_set(err, r, "can't open '%s' for the records: %s", e->cfg.json,
				  strerror(-r));
	}
	sink->ops = &json_ops;
	sink->priv = j;
	return 0;
}
