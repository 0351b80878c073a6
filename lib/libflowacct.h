/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct: everything flowacct does, for the command-line tool, the
 * daemon, the tests, the fuzzer and the bench alike. It prints nothing and
 * keeps no global state: every function returns 0 (or a count) or -errno,
 * and the caller reports an error once, with its own context.
 *
 * The command's header: every public area header, one per area.
 *   diag.h     errors with context, an engine's log lines
 *   iface.h    names, clocks, privileges and bpffs, an interface's pins,
 *              its lock, the programs, interface names
 *   attach.h   attach and detach an interface; stale attachments; the socket programs
 *   table.h    the rows and counters read from the maps; snapshots
 *   daemon.h   epochs, the flow cache, the drain file, a stream of records
 *   export.h   IPFIX
 *   report.h   the output documents and their columns; top's intervals
 *   out.h      the emitter of text and JSON the documents are written with
 *   capture.h  sampled frames to a file
 *   replay.h   frames run through the programs
 *   query.h    what dump, stats and status ask for, and their answers
 *   engine.h   the daemon as an engine, with its sinks (sink.h)
 * What only the .c files of lib/ use is in internal.h, which this header leaves out.
 */
#ifndef LIBFLOWACCT_H
#define LIBFLOWACCT_H

#include "diag.h"
#include "iface.h"
#include "attach.h"
#include "table.h"
#include "daemon.h"
#include "export.h"
#include "report.h"
#include "out.h"
#include "capture.h"
#include "replay.h"
#include "query.h"
#include "engine.h"

#endif /* LIBFLOWACCT_H */
