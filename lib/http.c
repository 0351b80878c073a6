// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A small HTTP server for /metrics, on libmicrohttpd, run from the daemon's
 * own loop: MHD in epoll mode with no thread of its own, its epoll fd polled
 * beside the daemon's timer and sockets, so the page is built from the
 * daemon's state in the same thread that changes it (no locks, no torn
 * reads). We open the listening socket ourselves, so that a port in use
 * is an errno (EADDRINUSE) and not an anonymous failure to start.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "internal.h"

struct fa_http {
	struct MHD_Daemon *mhd;
	int lfd;
	fa_http_page page;
	void *ctx;
	__u64 requests;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_len, void **req)
{
	static const char not_found[] = "not found: try /metrics\n";
	static const char not_allowed[] = "GET or HEAD only\n";
	struct MHD_Response *resp;
	struct fa_http *h = cls;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;
	const char *type = "text/plain; charset=utf-8";
	char *body = NULL;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req;
	h->requests++;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		resp = MHD_create_response_from_buffer(sizeof(not_allowed) - 1,
						       (void *)not_allowed,
						       MHD_RESPMEM_PERSISTENT);
	} else if (!h->page(h->ctx, url, &body, &len, &type)) {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	} else {
		free(body);
		status = MHD_HTTP_NOT_FOUND;
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1,
						       (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int listen_on(const char *host, __u16 port, int *family)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char ps[8];
	int fd, one = 1, rc, err;

	snprintf(ps, sizeof(ps), "%u", port);
	/* No host: every address, IPv6 and IPv4 alike. */
	if (!*host)
		hints.ai_family = AF_INET6;
	rc = getaddrinfo(*host ? host : NULL, ps, &hints, &res);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : rc == EAI_AGAIN ? -EAGAIN : -ENOENT;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	*family = res->ai_family;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		goto out;
	}
	err = fd;
out:
	freeaddrinfo(res);
	return err;
}

int fa_http_open(const char *host, __u16 port, fa_http_page page, void *ctx,
		 struct fa_http **out)
{
	unsigned int flags = MHD_USE_EPOLL;
	struct fa_http *h;
	int family = AF_INET;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->page = page;
	h->ctx = ctx;
	h->lfd = listen_on(host, port, &family);
	if (h->lfd < 0) {
		int err = h->lfd;

		free(h);
		return err;
	}
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, answer, h,
				  MHD_OPTION_LISTEN_SOCKET, h->lfd,
				  MHD_OPTION_CONNECTION_LIMIT, 32u,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(h->lfd);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

int fa_http_fd(const struct fa_http *h)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

void fa_http_run(struct fa_http *h)
{
	MHD_run(h->mhd);
}

__u64 fa_http_requests(const struct fa_http *h)
{
	return h->requests;
}

void fa_http_close(struct fa_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);	/* closes the listening socket too */
	free(h);
}
