// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowbench verifier LABEL=OBJECT[+OPTION...]...: what the verifier makes of each
 * program of each object (a build of flowacct's programs), as a markdown
 * table: instructions processed and verification time (the kernel's own
 * statistics, log level BPF_LOG_STATS), instructions after the verifier's
 * rewrites, and JITed bytes. One load per object, so that growth from one
 * change to the next shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
#include "flowbench.h"
#include "flow_kern_user.h"

#define LOG_SIZE (64 * 1024)
#define BPF_LOG_STATS 4

struct prog_log {
	struct bpf_program *prog;
	char *buf;
};

/* A number after @key in the verifier's statistics, or -1. */
static long long log_stat(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/*
 * The load-time options of "OBJECT+owners+retrans+passive_rtt", set in the
 * object's flow_cfg (found by name in .rodata's BTF) as the loader would.
 */
static int set_options(struct bpf_object *obj, const char *opts)
{
	const struct btf_var_secinfo *vs;
	struct flow_config *cfg = NULL;
	const struct btf_type *sec;
	struct bpf_map *rodata;
	struct btf *btf = bpf_object__btf(obj);
	size_t size;
	char *data;
	int id, i;

	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (!rodata || id < 0)
		return -ENOENT;
	if (!bpf_map__initial_value(rodata, &size))
		return -ENOENT;
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	memcpy(data, bpf_map__initial_value(rodata, &size), size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++)
		if (!strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off),
			    "flow_cfg") && vs->offset + sizeof(*cfg) <= size)
			cfg = (struct flow_config *)(data + vs->offset);
	if (!cfg) {
		free(data);
		return -ENOENT;
	}
	cfg->owners = !!strstr(opts, "+owners");
	cfg->retrans = !!strstr(opts, "+retrans");
	cfg->passive_rtt = !!strstr(opts, "+passive_rtt");
	cfg->decap = strstr(opts, "+decap") ? FLOW_DECAP_INNER : FLOW_DECAP_OFF;
	cfg->replay = !!strstr(opts, "+replay");
	i = bpf_map__set_initial_value(rodata, data, size);
	free(data);
	return i;
}

static int verify_object(const char *label, char *path)
{
	struct prog_log logs[16];
	struct bpf_program *prog;
	struct bpf_object *obj;
	char *opts = strchr(path, '+');
	size_t n = 0, i;
	int err;

	if (opts)
		*opts = '\0';
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "flowbench: can't open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (opts) {
		*opts = '+';
		err = set_options(obj, opts);
		if (err) {
			fprintf(stderr, "flowbench: no flow_cfg in %s\n", path);
			bpf_object__close(obj);
			return err;
		}
		/* Replay's tables hold its wider rows, as flowacct replay loads them. */
		if (strstr(opts, "+replay")) {
			struct bpf_map *m = bpf_object__find_map_by_name(obj, "flow_overflow");

			err = fa_obj_configure(obj, &(struct fa_load_opts){
				.replay = true, .shared = true, .max_flows = FLOW_DEFAULT_MAX_FLOWS });
			if (!err && m)
				err = bpf_map__set_value_size(m, sizeof(struct flow_replay_value));
			if (err) {
				bpf_object__close(obj);
				return err;
			}
		}
	}
	bpf_object__for_each_program(prog, obj) {
		if (n == ARRAY_SIZE(logs))
			break;
		logs[n].prog = prog;
		logs[n].buf = calloc(1, LOG_SIZE);
		if (!logs[n].buf)
			return -ENOMEM;
		bpf_program__set_log_buf(prog, logs[n].buf, LOG_SIZE);
		bpf_program__set_log_level(prog, BPF_LOG_STATS);
		n++;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "flowbench: can't load %s: %s\n", path, strerror(-err));
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(logs[i].prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			err = -errno;
			goto out;
		}
		printf("| %s | `%s` | %lld | %lld | %u | %u |\n", label,
		       bpf_program__name(logs[i].prog),
		       log_stat(logs[i].buf, "processed "),
		       log_stat(logs[i].buf, "verification time "),
		       info.xlated_prog_len / 8, info.jited_prog_len);
	}
out:
	for (i = 0; i < n; i++)
		free(logs[i].buf);
	bpf_object__close(obj);
	return err;
}

int cmd_verifier(int argc, char **argv)
{
	int i, err;

	if (argc < 2) {
		fprintf(stderr, "Usage: flowbench verifier LABEL=OBJECT...\n");
		return 1;
	}
	printf("| build | program | insns processed | verification us | xlated insns | JITed bytes |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			fprintf(stderr, "flowbench: want LABEL=OBJECT, not '%s'\n", argv[i]);
			return 1;
		}
		*eq = 0;
		err = verify_object(argv[i], eq + 1);
		if (err)
			return 1;
	}
	return 0;
}
