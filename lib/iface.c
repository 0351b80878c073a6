// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which interface: its index in a network namespace, which a rename does not
 * change (a name does), with the namespace's inode and cookie, since the
 * same index means another device in another namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "internal.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14; not in Debian 12's glibc headers */
#endif

int fa_netns_self(__u64 *ino, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	struct stat st;
	int fd;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*ino = st.st_ino;
	*cookie = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		*cookie = 0;	/* an older kernel: the inode alone */
	close(fd);
	return 0;
}

static bool ifname_valid(const char *ifname)
{
	size_t len = strlen(ifname);

	return len && len < FA_IFNAMSIZ && !strchr(ifname, '/') &&
	       !strchr(ifname, ':') && strcmp(ifname, ".") && strcmp(ifname, "..");
}

int fa_ifid_by_name(const char *ifname, struct fa_ifid *id)
{
	int err;

	memset(id, 0, sizeof(*id));
	if (!ifname_valid(ifname))
		return -EINVAL;
	err = fa_netns_self(&id->netns_ino, &id->netns_cookie);
	if (err)
		return err;
	id->ifindex = if_nametoindex(ifname);
	return id->ifindex ? 0 : -ENODEV;
}

int fa_ifid_name(const struct fa_ifid *id, char name[FA_IFNAMSIZ])
{
	__u64 ino, cookie;
	char buf[IF_NAMESIZE];

	name[0] = '\0';
	if (fa_netns_self(&ino, &cookie) || ino != id->netns_ino ||
	    (cookie && id->netns_cookie && cookie != id->netns_cookie))
		return -EXDEV;
	if (!if_indextoname(id->ifindex, buf))
		return -ENODEV;
	snprintf(name, FA_IFNAMSIZ, "%s", buf);
	return 0;
}

void fa_ifid_dirname(const struct fa_ifid *id, char *buf, size_t len)
{
	snprintf(buf, len, "net%llu-if%u", (unsigned long long)id->netns_ino,
		 id->ifindex);
}

int fa_iface_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	int fd, err = 0;

	buf[0] = '\0';
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = errno == EOPNOTSUPP ? 0 : -errno;	/* lo, some tunnels */
	else
		snprintf(buf, len, "%s", info.driver);
	close(fd);
	return err;
}
