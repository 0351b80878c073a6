// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HOST:PORT as the options that name a listener or a collector take it
 * (--metrics, --ipfix): IPv6 in brackets, a bare IPv6 address without a port.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int fa_hostport_parse(const char *spec, char *host, size_t hostlen, __u16 *port,
		      __u16 default_port)
{
	const char *h = spec, *p = NULL, *end;
	size_t hlen;
	char *e;
	long v;

	if (*spec == '[') {
		end = strchr(spec, ']');
		if (!end)
			return -EINVAL;
		h = spec + 1;
		hlen = end - h;
		if (end[1] == ':')
			p = end + 2;
		else if (end[1])
			return -EINVAL;
		if (!memchr(h, ':', hlen))
			return -EINVAL;		/* brackets are for IPv6 */
	} else {
		end = strrchr(spec, ':');
		/* An IPv6 address without brackets has no port. */
		if (end && strchr(spec, ':') == end) {
			hlen = end - spec;
			p = end + 1;
		} else {
			hlen = strlen(spec);
		}
	}
	if (hlen >= hostlen)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	if (!p) {
		*port = default_port;
		return default_port && hlen ? 0 : -EDESTADDRREQ;
	}
	if (!*p || *p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(p, &e, 10);
	if (*e)
		return -EINVAL;
	if (errno || v < 1 || v > 65535)
		return -ERANGE;
	*port = v;
	return 0;
}
