// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The status document: every attachment's pins, whether its programs are
 * live (in this network namespace), whether it is stale (its namespace or
 * interface gone, or an attach killed half-way), its sampling and memory,
 * the daemon that owns it in any namespace (and, asked, what that daemon
 * knows), programs of ours that no record names, and the pinned program
 * sets with their members (lib/setpins.c).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "internal.h"
#include "out.h"
#include "query.h"

static bool is_gone(int why)
{
	return why == FA_STALE_NETNS_GONE || why == FA_STALE_IFACE_GONE;
}

static void status_fill(struct fa_status *s, const struct fa_netns_set *ns,
			__u64 ino, __u64 cookie)
{
	const struct fa_attach_state *st = &s->pin.state;
	struct fa_ifid id = { st->netns_ino, st->netns_cookie, st->ifindex };
	struct fa_pinned p;

	s->here = st->netns_ino == ino &&
		  (!cookie || !st->netns_cookie || cookie == st->netns_cookie);
	s->stale = fa_stale_why_in(ns, &s->pin);
	/* Named even without a record: detach it by that name. */
	if (s->here)
		s->gone = fa_ifid_name(&id, s->ifname) != 0;
	else
		s->gone = is_gone(s->stale ? s->stale :
				  ns ? fa_stale_verdict(ns, &s->pin) : 0);
	if (s->pin.err)
		return;
	if (s->here && !s->gone)
		fa_attach_live(st, &s->live);
	/* The lock file is host-wide: any namespace's daemon is found. */
	s->daemon = fa_lock_owner(s->pin.dirname, FA_LOCK_RUN);
	if (s->daemon)
		s->daemon_rss = fa_pid_rss(s->daemon);
	s->pins_memory = fa_pins_memory(s->pin.dirname);
	s->run_files = fa_run_files_bytes(s->pin.dirname);
	if (fa_pinned_open_dir(s->pin.dirname, &p))
		return;
	bpf_map_lookup_elem(p.fd[FA_PIN_SAMPLE_CFG], &(__u32){ 0 }, &s->sample);
	s->memory = fa_map_memory(p.fd[FA_PIN_FLOWS_0]) +
		    fa_map_memory(p.fd[FA_PIN_FLOWS_1]);
	s->estimate = fa_fd_estimate(p.fd[FA_PIN_FLOWS_0]) +
		      fa_fd_estimate(p.fd[FA_PIN_FLOWS_1]);
	fa_pinned_close(&p);
}

/* Programs of ours on interfaces here that no record names (an
 * attachment's or a set member's). */
static size_t find_orphans(const struct fa_status *st, size_t n,
			   const struct fa_member_entry *m, size_t nm,
			   struct fa_orphan **out)
{
	struct if_nameindex *ifs, *i;
	struct fa_orphan *l = NULL, *grown;
	struct fa_found f;
	size_t cnt = 0, k;

	*out = NULL;
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		for (k = 0; k < n; k++)
			if (st[k].here && st[k].pin.state.ifindex == i->if_index)
				break;
		if (k < n)
			continue;
		for (k = 0; k < nm; k++)
			if (m[k].here && m[k].rec.ifindex == i->if_index)
				break;
		if (k < nm)
			continue;
		fa_find_ours(i->if_index, &f);
		if (!f.xdp_id && !f.tc_id && !f.tci_id)
			continue;
		grown = realloc(l, (cnt + 1) * sizeof(*l));
		if (!grown)
			break;
		l = grown;
		snprintf(l[cnt].ifname, sizeof(l[cnt].ifname), "%s", i->if_name);
		l[cnt].ifindex = i->if_index;
		l[cnt].found = f;
		cnt++;
	}
	if (ifs)
		if_freenameindex(ifs);
	*out = l;
	return cnt;
}

int fa_status_render(struct fa_out *o, fa_daemon_info_fn *daemon_info, void *ctx,
		     struct fa_err *e)
{
	struct fa_pin_entry *l;
	struct fa_status *st;
	struct fa_member_entry *m = NULL;
	struct fa_set_entry *sets = NULL;
	struct fa_orphan *orph;
	struct fa_netns_set *ns;
	__u64 ino, cookie;
	size_t i, n, norph, nsets = 0, nm = 0;
	int err;

	err = fa_pins_list(&l, &n);
	if (!err && (err = fa_netns_self(&ino, &cookie)))
		free(l);
	if (err)
		return fa_err_set(e, err, "can't list %s: %s", FA_PIN_ROOT, strerror(-err));
	st = calloc(n ? n : 1, sizeof(*st));
	if (!st) {
		free(l);
		return fa_err_set(e, -ENOMEM, "out of memory");
	}
	/* NULL (out of memory): no attachment is called stale. */
	ns = fa_netns_set_new();
	for (i = 0; i < n; i++) {
		st[i].pin = l[i];
		status_fill(&st[i], ns, ino, cookie);
	}
	fa_netns_set_free(ns);
	/* Out of memory: the attachments are shown all the same. */
	fa_sets_list(&sets, &nsets, &m, &nm);
	norph = find_orphans(st, n, m, nm, &orph);
	fa_print_status_doc(o, st, n, orph, norph, sets, nsets, m, nm, daemon_info, ctx);
	free(orph);
	free(sets);
	free(m);
	free(st);
	free(l);
	return 0;
}

void fa_status_ask_daemon(struct fa_out *o, const char *dirname, void *ctx)
{
	struct fa_query q = { .kind = FA_QUERY_INFO, .json = o->json };
	int pid = fa_lock_owner(dirname, FA_LOCK_RUN);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)ctx;
	snprintf(q.iface, sizeof(q.iface), "%s", dirname);
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	/* A daemon that can't say (or says in another protocol) adds nothing. */
	if (pid && !fa_ctl_ask(pid, &q, f, NULL)) {
		fclose(f);
		while (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (o->json)
			out_raw(o, "daemon", buf);
		else if (len && buf[0] != '{')	/* an older daemon answers JSON */
			out_text(o, "%s\n", buf);
	} else {
		fclose(f);
	}
	free(buf);
}
