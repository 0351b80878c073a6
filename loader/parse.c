// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The one option parser every command's table goes through, and the help
 * made from the same table: each option's name, value, help and default.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct opt common_opts[] = {
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG, .help = "print JSON" },
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG, .help = "this text" },
};

static void opt_usage(const struct opt *o, char *buf, size_t len)
{
	size_t i, off;

	if (o->short_name)
		off = snprintf(buf, len, "-%c, --%s", o->short_name, o->name);
	else
		off = snprintf(buf, len, "    --%s", o->name);
	if (o->type == OPT_ENUM) {
		off += snprintf(buf + off, len - off, " ");
		for (i = 0; o->values[i].name && off < len; i++)
			off += snprintf(buf + off, len - off, "%s%s", i ? "|" : "",
					o->values[i].name);
	} else if (o->type != OPT_FLAG) {
		snprintf(buf + off, len - off, " %s", o->metavar ? o->metavar : "ARG");
	}
}

/*
 * " (default: 1 s)": an option's value in the command's defaults, where
 * it has one. An enum whose default is none of its names (-1: "as
 * attached, or the default") has its first name as the default.
 */
static void opt_default(const struct opt *o, const void *defaults, char *buf,
			size_t len)
{
	const void *field = (const char *)defaults + o->offset;
	__u64 v;
	size_t i;

	buf[0] = '\0';
	if (!defaults)
		return;
	switch (o->type) {
	case OPT_UINT:
	case OPT_SECONDS:
		v = o->size == sizeof(__u32) ? *(const __u32 *)field : *(const __u64 *)field;
		if (v && o->type == OPT_UINT)
			snprintf(buf, len, " (default: %llu)", (unsigned long long)v);
		else if (v)
			snprintf(buf, len, " (default: %g s)", v / 1000.0);
		break;
	case OPT_ENUM:
		for (i = 0; o->values[i].name; i++)
			if (o->values[i].value == *(const int *)field)
				break;
		snprintf(buf, len, " (default: %s)",
			 o->values[i].name ? o->values[i].name : o->values[0].name);
		break;
	case OPT_STRING:
		if (*(const char *const *)field)
			snprintf(buf, len, " (default: %s)", *(const char *const *)field);
		break;
	default:
		break;
	}
}

void cli_usage(const struct command *c)
{
	const struct opt *o;
	char buf[160], def[96];

	if (cli.json) {
		/* Help is for people: in JSON mode it is null. */
		puts("null");
		return;
	}
	printf("Usage: flowacct %s%s%s [OPTIONS]\n%s\n", c->name,
	       c->args ? " " : "", c->args ? c->args : "", c->summary);
	if (c->details)
		printf("%s\n", c->details);
	printf("\nOptions:\n");
	for (o = c->opts; o && o->name; o++) {
		opt_usage(o, buf, sizeof(buf));
		opt_default(o, c->defaults, def, sizeof(def));
		printf("  %-34s %s%s\n", buf, o->help, def);
	}
	for (o = common_opts; o < common_opts + ARRAY_SIZE(common_opts); o++) {
		opt_usage(o, buf, sizeof(buf));
		printf("  %-34s %s\n", buf, o->help);
	}
}

/* A whole unsigned number in [min, max], decimal or 0x-prefixed. */
static int parse_uint(const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Plain decimal seconds into ms, in [min, max] ms: digits with an optional
 * fraction ("1", "0.25", ".5"), nothing else (strtod would take "1e3",
 * "0x10", "inf" and leading blanks).
 */
static int parse_seconds(const char *s, __u64 min, __u64 max, __u64 *ms)
{
	size_t whole = strspn(s, "0123456789"), frac = 0;
	double v;

	if (s[whole] == '.')
		frac = strspn(s + whole + 1, "0123456789");
	if ((!whole && !frac) || s[whole + (s[whole] == '.') + frac] ||
	    (s[whole] == '.' && !frac) || whole > 9)
		return -EINVAL;
	v = strtod(s, NULL);
	if (v * 1000 < min || v * 1000 > max)
		return -EINVAL;
	*ms = (__u64)(v * 1000 + 0.5);
	return 0;
}

/* @arg into @o's field of @opts; an error names @where ("FILE:LINE: ", or
 * "" on the command line). */
static int set_option(const struct opt *o, const char *arg, void *opts, const char *where)
{
	char why[512] = "";
	void *field = (char *)opts + o->offset;
	__u64 v;
	size_t i;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_UINT:
		if (parse_uint(arg, o->min, o->max, &v)) {
			pr_err("%s--%s takes a number from %llu to %llu, not '%s'",
			       where, o->name, (unsigned long long)o->min,
			       (unsigned long long)o->max, arg);
			return -EINVAL;
		}
		if (o->size == sizeof(__u32))
			*(__u32 *)field = v;
		else
			*(__u64 *)field = v;
		return 0;
	case OPT_SECONDS:
		if (parse_seconds(arg, o->min, o->max, (__u64 *)field)) {
			pr_err("%s--%s takes seconds from %g to %g, as digits with an optional fraction (1, 0.25, .5), not '%s'",
			       where, o->name, o->min / 1000.0, o->max / 1000.0, arg);
			return -EINVAL;
		}
		return 0;
	case OPT_ENUM:
		for (i = 0; o->values[i].name; i++) {
			if (!strcmp(arg, o->values[i].name)) {
				*(int *)field = o->values[i].value;
				return 0;
			}
		}
		for (i = 0, v = 0; o->values[i].name && v < sizeof(why); i++)
			v += snprintf(why + v, sizeof(why) - v, "%s%s",
				      i ? (o->values[i + 1].name ? ", " : " or ") : "",
				      o->values[i].name);
		pr_err("%s--%s can't be '%s': use %s", where, o->name, arg, why);
		return -EINVAL;
	case OPT_STRING:
		*(const char **)field = arg;
		return 0;
	case OPT_FUNC:
		if (o->parse(arg, field, why, sizeof(why))) {
			pr_err("%s--%s can't be '%s': %s", where, o->name, arg, why);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* ---- the configuration file ---------------------------------------------------- */

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* A flag's value in the file: 1 on, 0 off, -1 neither. */
static int flag_value(const char *v)
{
	static const char *const on[] = { "true", "yes", "on", "1" },
				 *const off[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(on); i++) {
		if (!strcmp(v, on[i]))
			return 1;
		if (!strcmp(v, off[i]))
			return 0;
	}
	return -1;
}

/* One "name = value" line of @path (number @line) into @opts. */
static int config_line(const struct command *c, const char *path, unsigned int line,
		       char *text, void *opts, bool *from_file)
{
	char where[PATH_MAX + 32], *name, *value, *eq = strchr(text, '=');
	const struct opt *o;
	int on;

	snprintf(where, sizeof(where), "%s:%u: ", path, line);
	if (!eq) {
		pr_err("%snot 'name = value': '%s'", where, text);
		return -EINVAL;
	}
	*eq = '\0';
	name = trim(text);
	value = trim(eq + 1);
	for (o = c->opts; o && o->name && strcmp(o->name, name); o++)
		;
	if (!o || !o->name || !strcmp(name, "config")) {
		pr_err("%sno option '%s' for 'flowacct %s' (its long options, without the dashes)",
		       where, name, c->name);
		return -EINVAL;
	}
	if (o->type == OPT_FLAG) {
		on = flag_value(value);
		if (on < 0) {
			pr_err("%s%s is true or false, not '%s'", where, name, value);
			return -EINVAL;
		}
		*(bool *)((char *)opts + o->offset) = on;
		return 0;
	}
	if (!*value) {
		pr_err("%s%s needs a value", where, name);
		return -EINVAL;
	}
	/* Options keep pointers into their value: kept for the process's life. */
	value = strdup(value);
	if (!value) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	from_file[o - c->opts] = true;
	return set_option(o, value, opts, where);
}

/*
 * The file --config names (the last one; "none": none), else @c's own if
 * it exists: its lines into @opts, before the command line's.
 */
static int read_config(const struct command *c, int argc, char **argv, void *opts,
		       bool *from_file)
{
	const char *path = NULL;
	unsigned int line = 0;
	char *text = NULL;
	size_t cap = 0;
	FILE *f;
	int i, err = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : strlen(a);

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 0;	/* the help needs no file */
		/* --config, or what getopt takes for it: "--con" on. */
		if (strncmp(a, "--", 2) || n < 5 || strncmp(a + 2, "config", n - 2))
			continue;
		if (eq)
			path = eq + 1;
		else if (i + 1 < argc)
			path = argv[++i];
	}
	if (path && !strcmp(path, "none"))
		return 0;
	f = fopen(path ? path : c->config, "re");
	if (!f) {
		if (!path && errno == ENOENT)
			return 0;
		err = -errno;
		pr_err("can't read the configuration file %s: %s", path ? path : c->config,
		       strerror(errno));
		return err;
	}
	if (!path)
		path = c->config;
	while (!err && getline(&text, &cap, f) >= 0) {
		char *t = trim(text);

		line++;
		if (*t && *t != '#')
			err = config_line(c, path, line, t, opts, from_file);
	}
	if (!err && ferror(f)) {
		pr_err("can't read the configuration file %s", path);
		err = -EIO;
	}
	free(text);
	fclose(f);
	return err;
}

/*
 * Parses a command's argv through its table: options anywhere (-j and
 * --help too), positional arguments in order. Every error is one line.
 */
int cli_parse(const struct command *c, int argc, char **argv, void *opts,
	      int *npos, char ***pos, bool *help)
{
	struct option longopts[64];
	char shortopts[64] = "+:jh";
	const struct opt *o, *table[64];
	bool from_file[64] = {};
	size_t n = 0, s = strlen(shortopts);
	int ch, idx, err;

	for (o = c->opts; o && o->name && n < ARRAY_SIZE(longopts) - 3; o++) {
		table[n] = o;
		longopts[n] = (struct option){ o->name, o->type == OPT_FLAG ?
				no_argument : required_argument, NULL, 1000 + (int)n };
		if (o->short_name && s < sizeof(shortopts) - 3) {
			shortopts[s++] = o->short_name;
			if (o->type != OPT_FLAG)
				shortopts[s++] = ':';
			shortopts[s] = '\0';
		}
		n++;
	}
	longopts[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ 0 };

	*help = false;
	if (c->config) {
		err = read_config(c, argc, argv, opts, from_file);
		if (err)
			return err;
	}
	/* "+" keeps our own order; argument permutation is done by hand below. */
	optind = 1;
	opterr = 0;
	*npos = 0;
	*pos = calloc(argc + 1, sizeof(char *));
	if (!*pos)
		return -ENOMEM;
	while (optind < argc) {
		if (argv[optind][0] != '-' || !argv[optind][1]) {
			(*pos)[(*npos)++] = argv[optind++];
			continue;
		}
		if (!strcmp(argv[optind], "--")) {
			for (optind++; optind < argc; optind++)
				(*pos)[(*npos)++] = argv[optind];
			break;
		}
		idx = -1;
		ch = getopt_long(argc, argv, shortopts, longopts, &idx);
		if (ch == -1)
			break;
		switch (ch) {
		case 'j':
			cli.json = true;
			break;
		case 'h':
			*help = true;
			break;
		case '?':
			if (optopt)
				pr_err("%s: unknown option '-%c'; see 'flowacct %s --help'",
				       c->name, optopt, c->name);
			else
				pr_err("%s: unknown option '%s'; see 'flowacct %s --help'",
				       c->name, argv[optind - 1], c->name);
			return -EINVAL;
		case ':':
			pr_err("%s: option '%s' needs a value", c->name,
			       argv[optind - 1]);
			return -EINVAL;
		default:
			if (ch >= 1000) {
				o = table[ch - 1000];
			} else {
				for (o = c->opts; o && o->name && o->short_name != ch; o++)
					;
			}
			/* A list the file gave: the command line's replaces it. */
			if (o->list && from_file[o - c->opts]) {
				memset((char *)opts + o->offset, 0, o->size);
				from_file[o - c->opts] = false;
			}
			if (set_option(o, optarg, opts, ""))
				return -EINVAL;
		}
	}
	return 0;
}
