/* SPDX-License-Identifier: BSD-3-Clause */
/* Everything an application needs: #include "kite/kite.h". */
#ifndef KITE_KITE_H
#define KITE_KITE_H

#include "kite/acd.h"
#include "kite/addr.h"
#include "kite/arp.h"
#include "kite/autoip.h"
#include "kite/err.h"
#include "kite/icmp4.h"
#include "kite/igmp.h"
#include "kite/ipv4.h"
#include "kite/netif.h"
#include "kite/pbuf.h"
#include "kite/stack.h"
#include "kite/stats.h"
#include "kite/time.h"
#include "kite/udp.h"

#endif
