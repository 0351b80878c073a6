// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What every command shares: messages, libbpf's and libxdp's logs, and the
 * helpers that open an attachment or take its lock with one clear line when
 * they can't.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "cli.h"

struct cli cli;

void pr_err(const char *fmt, ...)
{
	char buf[1024], *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One line, whatever a cause quoted (a kernel's or a file's text). */
	for (nl = buf; (nl = strpbrk(nl, "\r\n"));)
		*nl = ' ';
	if (cli.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		json_str(&j, "error", buf);
		json_obj_close(&j);
		json_end(&j);
	}
	fprintf(stderr, "flowacct: %s\n", buf);	/* one write: see pr_note() */
}

/* One write per line: stderr is unbuffered, and lines of a daemon's log
 * must not interleave with another writer's. */
void pr_note(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "flowacct: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	fputs(buf, stderr);
}

void cli_out(struct fa_out *o)
{
	out_init(o, stdout, cli.json);
}

/* ---- libbpf's and libxdp's messages ----------------------------------------- */

/* The last messages, as a ring of lines. */
#define LOG_LINES 64
static char *log_ring[LOG_LINES];
static unsigned int log_next;

static void log_keep(const char *fmt, va_list ap)
{
	char buf[512];
	char *line, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		free(log_ring[log_next % LOG_LINES]);
		log_ring[log_next % LOG_LINES] = strdup(line);
		log_next++;
	}
}

const char *cli_log_find(const char *needle)
{
	unsigned int i;

	for (i = log_next; i-- > 0 && i + LOG_LINES >= log_next;)
		if (log_ring[i % LOG_LINES] && strstr(log_ring[i % LOG_LINES], needle))
			return log_ring[i % LOG_LINES];
	return NULL;
}

static int libbpf_print(enum fa_lib_level level, const char *fmt, va_list ap)
{
	if (cli.verbose >= (int)level + 1)
		return vfprintf(stderr, fmt, ap);
	if (level != FA_LIB_DEBUG)
		log_keep(fmt, ap);
	return 0;
}

/* Kept quiet like libbpf, but kept: it knows why its dispatcher failed. */
static int libxdp_print(enum fa_lib_level level, const char *fmt, va_list ap)
{
	if (cli.verbose >= (level == FA_LIB_WARN ? 1 : 2))
		return vfprintf(stderr, fmt, ap);
	log_keep(fmt, ap);
	return 0;
}

void cli_log_setup(void)
{
	fa_lib_print_set(libbpf_print, libxdp_print);
}

/* The last @lines lines libbpf kept quiet (e.g. the verifier's), with -v. */
void cli_log_tail(int lines)
{
	unsigned int i, start;

	if (cli.verbose < 1 || !log_next)
		return;
	if ((unsigned int)lines > LOG_LINES)
		lines = LOG_LINES;
	start = log_next > (unsigned int)lines ? log_next - lines : 0;
	for (i = start; i < log_next; i++)
		if (log_ring[i % LOG_LINES])
			fprintf(stderr, "  %s\n", log_ring[i % LOG_LINES]);
}

/* ---- attachments ------------------------------------------------------------- */

void cli_log_line(void *ctx, enum fa_log_level level, const char *line)
{
	(void)ctx;
	if (level != FA_LOG_DEBUG || cli.verbose)
		pr_note("%s", line);
}

int cli_err(const struct fa_err *e)
{
	return cli_err_bpf(e, false);
}

int cli_open_iface(const char *ifname, struct fa_pinned *p)
{
	struct fa_err e = {};

	return fa_open_iface(ifname, p, &e) ? cli_err(&e) : 0;
}

int cli_open_all(struct fa_pinned **out, size_t *n)
{
	struct fa_err e = {};

	return fa_open_all(out, n, &e) ? cli_err(&e) : 0;
}

void cli_close_all(struct fa_pinned *ps, size_t n)
{
	fa_close_all(ps, n);
}

int cli_lock(const char *dirname, const char *ifname, enum fa_lock_kind kind,
	     struct fa_lock *l)
{
	struct fa_err e = {};

	return fa_lock_take_err(dirname, ifname, kind, l, &e) ? cli_err(&e) : 0;
}
