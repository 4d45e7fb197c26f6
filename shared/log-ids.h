/* SPDX-License-Identifier: MIT */
/*
 * journald MESSAGE_ID= values, one per per-message event kind, so that
 * `journalctl MESSAGE_ID=…` finds every event of one kind. Generated once
 * with a random 128-bit generator; never change a published one.
 */
#pragma once

#define LOG_ID_RECEIVED    "8d92ca30e3124f30ac033b8098113054"
#define LOG_ID_SIGNED      "1b64f106e813404498bb0ffeffde5c28"
#define LOG_ID_QUARANTINED "7a95f3e6ae414ee68a0cb3981b6024d2"
#define LOG_ID_DELIVERY    "4d44057da6d045298d571680738da668"
#define LOG_ID_BOUNCE      "ad00733bace5486c9f9f14a296ef6389"
#define LOG_ID_REMOVED     "ab13d2ba37044ac78303b5669c460df5"
#define LOG_ID_UNSIGNED    "12d6a2e8b91a4667aed3fbeb68d2ab04"
#define LOG_ID_AUTH_FAILED "d005a71fc64303b6663426869afd3504"
