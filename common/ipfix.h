/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPFIX (RFC 7011) on the wire: the headers flowacct writes and the
 * Information Elements it uses (IANA's registry, RFC 7012 and later). All
 * fields are big-endian on the wire.
 */
#ifndef FLOWACCT_IPFIX_H
#define FLOWACCT_IPFIX_H

#include <linux/types.h>

#define IPFIX_VERSION		10
#define IPFIX_PORT		4739
#define IPFIX_SET_TEMPLATE	2
#define IPFIX_SET_OPTIONS_TEMPLATE 3
#define IPFIX_FIRST_DATA_SET	256
#define IPFIX_VARLEN		0xffff	/* a field length: variable */

struct ipfix_msg_header {
	__be16 version;
	__be16 length;		/* of the message, this header included */
	__be32 export_time;	/* seconds since the UNIX epoch */
	__be32 sequence;	/* Data Records sent before, in this domain */
	__be32 domain;		/* Observation Domain ID */
};

struct ipfix_set_header {
	__be16 id;		/* 2, 3, or a template ID for data */
	__be16 length;		/* of the set, this header included */
};

struct ipfix_template_header {
	__be16 id;
	__be16 field_count;
};

struct ipfix_options_template_header {
	__be16 id;
	__be16 field_count;	/* scope fields included */
	__be16 scope_field_count;
};

struct ipfix_field_spec {
	__be16 ie;
	__be16 length;
};

enum ipfix_ie {
	IPFIX_IE_OCTET_DELTA_COUNT = 1,
	IPFIX_IE_PACKET_DELTA_COUNT = 2,
	IPFIX_IE_PROTOCOL_IDENTIFIER = 4,
	IPFIX_IE_TCP_CONTROL_BITS = 6,
	IPFIX_IE_SOURCE_TRANSPORT_PORT = 7,
	IPFIX_IE_SOURCE_IPV4_ADDRESS = 8,
	IPFIX_IE_INGRESS_INTERFACE = 10,
	IPFIX_IE_DESTINATION_TRANSPORT_PORT = 11,
	IPFIX_IE_DESTINATION_IPV4_ADDRESS = 12,
	IPFIX_IE_EGRESS_INTERFACE = 14,
	IPFIX_IE_SOURCE_IPV6_ADDRESS = 27,
	IPFIX_IE_DESTINATION_IPV6_ADDRESS = 28,
	IPFIX_IE_ICMP_TYPE_CODE_IPV4 = 32,
	IPFIX_IE_FLOW_ACTIVE_TIMEOUT = 36,
	IPFIX_IE_FLOW_IDLE_TIMEOUT = 37,
	IPFIX_IE_EXPORTED_OCTET_TOTAL_COUNT = 40,
	IPFIX_IE_EXPORTED_MESSAGE_TOTAL_COUNT = 41,
	IPFIX_IE_EXPORTED_FLOW_RECORD_TOTAL_COUNT = 42,
	IPFIX_IE_IP_VERSION = 60,
	IPFIX_IE_FLOW_DIRECTION = 61,
	IPFIX_IE_IF_NAME = 82,
	IPFIX_IE_FORWARDING_STATUS = 89,		/* RFC 7270 */
	IPFIX_IE_DROPPED_OCTET_DELTA_COUNT = 132,
	IPFIX_IE_DROPPED_PACKET_DELTA_COUNT = 133,
	IPFIX_IE_FLOW_END_REASON = 136,
	IPFIX_IE_ICMP_TYPE_CODE_IPV6 = 139,
	IPFIX_IE_OBSERVATION_DOMAIN_ID = 149,
	IPFIX_IE_FLOW_START_MILLISECONDS = 152,
	IPFIX_IE_FLOW_END_MILLISECONDS = 153,
	IPFIX_IE_IGNORED_PACKET_TOTAL_COUNT = 164,
	IPFIX_IE_NOT_SENT_FLOW_TOTAL_COUNT = 166,
	IPFIX_IE_SAMPLING_PACKET_INTERVAL = 305,
	IPFIX_IE_SAMPLING_PACKET_SPACE = 306,
	IPFIX_IE_LAYER2_SEGMENT_ID = 351,
};

/* layer2SegmentId's top octet: the overlay's type (IANA: 0x01 VXLAN). */
#define IPFIX_L2SEG_VXLAN	(1ULL << 56)

/* A field specifier's top bit: an enterprise number follows (RFC 7011 3.2). */
#define IPFIX_ENTERPRISE_BIT	0x8000

/*
 * flowacct's own elements, under the enterprise number --ipfix-pen gives
 * (IANA registers none for a tunnel's type, id or outer addresses).
 */
enum fa_ipfix_enterprise_ie {
	FA_IPFIX_IE_TUNNEL_TYPE = 1,		/* unsigned8: enum flow_tunnel_type */
	FA_IPFIX_IE_TUNNEL_ID = 2,		/* unsigned64: VNI, key, session, label; all ones: none */
	FA_IPFIX_IE_TUNNEL_SOURCE = 3,		/* ipv6Address (IPv4-mapped for IPv4): the outer source */
	FA_IPFIX_IE_TUNNEL_DESTINATION = 4,	/* ipv6Address: the outer destination */
};

/* tunnelId of a tunnel without one (GRE without a key, ERSPAN type I, IP in IP). */
#define FA_IPFIX_TUNNEL_NO_ID	(~0ULL)

#endif /* FLOWACCT_IPFIX_H */
