// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The single definition of the shared maps; see flow_maps.h. */
#include "flow_maps.h"

FLOW_MAPS();

char LICENSE[] SEC("license") = "Dual BSD/GPL";
