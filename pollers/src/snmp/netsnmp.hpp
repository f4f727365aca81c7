#pragma once
// net-snmp's headers, in the one order they compile in; only pollers/src/snmp/
// includes them (their macros would leak into the rest of the code base).
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

// netsnmp_pdu spells GETBULK's fields as macros over errstat / errindex; as
// macros they would rename edgepoll's own `max_repetitions` too.
#undef max_repetitions
#undef non_repeaters
