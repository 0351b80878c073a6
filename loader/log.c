// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Messages: one line on stderr for errors ({"error": ...} on stdout in JSON
 * mode), and libbpf kept quiet unless -v (warnings) or -vv (debug). What it
 * would have said is kept, so a failed load can still show the tail of the
 * verifier's log.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "flowacct.h"
#include "json.h"

int verbose;
bool json_output;

void pr_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		json_str(&j, "error", buf);
		json_obj_close(&j);
		json_end(&j);
	}
	fprintf(stderr, "flowacct: %s\n", buf);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* The last libbpf messages, as a ring of lines. */
#define LOG_LINES 64
static char *log_ring[LOG_LINES];
static unsigned int log_next;

/* Keeps a message, line by line, in the ring. */
void log_keep(const char *fmt, va_list ap)
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

/* The newest kept line containing @needle, or NULL. */
const char *log_find(const char *needle)
{
	unsigned int i;

	for (i = log_next; i-- > 0 && i + LOG_LINES >= log_next;)
		if (log_ring[i % LOG_LINES] && strstr(log_ring[i % LOG_LINES], needle))
			return log_ring[i % LOG_LINES];
	return NULL;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if ((level == LIBBPF_WARN && verbose >= 1) ||
	    (level == LIBBPF_INFO && verbose >= 2) ||
	    (level == LIBBPF_DEBUG && verbose >= 3))
		return vfprintf(stderr, fmt, ap);
	if (level != LIBBPF_DEBUG)
		log_keep(fmt, ap);
	return 0;
}

void libbpf_log_setup(void)
{
	libbpf_set_print(libbpf_print);
}

/* Prints the last @lines lines libbpf kept quiet, e.g. the verifier's. */
void libbpf_log_tail(int lines)
{
	unsigned int i, start;

	if (verbose >= 1 || !log_next)
		return;
	if ((unsigned int)lines > LOG_LINES)
		lines = LOG_LINES;
	start = log_next > (unsigned int)lines ? log_next - lines : 0;
	for (i = start; i < log_next; i++)
		if (log_ring[i % LOG_LINES])
			fprintf(stderr, "  %s\n", log_ring[i % LOG_LINES]);
}
