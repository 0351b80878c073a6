// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Errors and log lines the library hands to its caller: see diag.h. */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "diag.h"

int fa_err_set(struct fa_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->msg[0])
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void fa_err_clear(struct fa_err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}

void fa_log(const struct fa_log *l, enum fa_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!l || !l->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	l->fn(l->ctx, level, line);
}

_Static_assert(FA_LIB_WARN == (int)LIBBPF_WARN && FA_LIB_INFO == (int)LIBBPF_INFO &&
	       FA_LIB_DEBUG == (int)LIBBPF_DEBUG, "libbpf's levels");
_Static_assert(FA_LIB_WARN == (int)LIBXDP_WARN && FA_LIB_INFO == (int)LIBXDP_INFO &&
	       FA_LIB_DEBUG == (int)LIBXDP_DEBUG, "libxdp's levels");

void fa_lib_print_set(fa_lib_print_fn bpf, fa_lib_print_fn xdp)
{
	/* The same signature but for the enum, whose values are asserted above. */
	libbpf_set_print((libbpf_print_fn_t)(void *)bpf);
	libxdp_set_print((libxdp_print_fn_t)(void *)xdp);
}
