/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where an attached interface's maps and attach state live:
 * /sys/fs/bpf/flowacct/IFACE/{flows,flow_stats,state}. User space only.
 */
#ifndef FLOWACCT_PINS_H
#define FLOWACCT_PINS_H

#include <limits.h>
#include <net/if.h>

#include <linux/types.h>

#define BPFFS_ROOT	"/sys/fs/bpf"
#define PIN_ROOT	BPFFS_ROOT "/flowacct"

/*
 * What detach needs to remove exactly what attach added, kept in a one-entry
 * array map pinned beside the data maps (bpffs holds no regular files).
 */
struct attach_state {
	__u32 version;
	__u32 ifindex;
	__u64 netns_ino;	/* the network namespace ifindex belongs to */
	__u64 attached_at;	/* CLOCK_REALTIME, s */
	__u32 xdp_prog_id;
	__u32 tc_prog_id;
	__u32 tc_handle;
	__u32 tc_priority;
	__u32 max_flows;
	__u8 xdp_mode;		/* enum xdp_attach_mode */
	__u8 xdp_legacy;	/* attached directly, not through libxdp's dispatcher */
	__u8 created_qdisc;	/* clsact was not there before attach */
	__u8 shared_map;
	char ifname[IF_NAMESIZE];
};

#define ATTACH_STATE_VERSION 1

/* The fds of one attached interface's pinned maps. */
struct pinned_iface {
	char ifname[IF_NAMESIZE];
	struct attach_state state;
	int flows_fd;
	int stats_fd;
};

int check_privileges(void);
int bpffs_prepare(bool mount_if_missing);
__u64 current_netns_ino(void);
void pin_path(char *buf, size_t len, const char *ifname, const char *name);
int pinned_iface_open(const char *ifname, struct pinned_iface *p);
void pinned_iface_close(struct pinned_iface *p);
int pinned_ifaces_list(char (**names)[IF_NAMESIZE], size_t *n);
int state_map_create(const struct attach_state *st);
int state_map_read(int fd, struct attach_state *st);

#endif
