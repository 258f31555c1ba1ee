/*
 * Status codes used inside the core.
 *
 * The core never includes the public header (DESIGN.md: core/ never includes
 * abi/), so the codes are mirrored here; abi/dd_status.c asserts at compile time
 * that every ST_* equals its public DD_* twin.
 */
#ifndef DD_UTIL_STATUS_H
#define DD_UTIL_STATUS_H

enum {
    ST_OK = 0,
    ST_EINVAL = -1,
    ST_ENOMEM = -2,
    ST_EMISUSE = -3,
    ST_ENOTFOUND = -4,
    ST_ECONFLICT = -5,
    ST_ECORRUPT = -6,
    ST_ECRYPTO = -7,
    ST_ELIMIT = -8,
    ST_EIO = -9,
    ST_ETIMEOUT = -10,
    ST_EDELETED = -11,
    ST_ETYPE = -12,
    ST_EBUSY = -13,
    ST_EDONE = -14,
    ST_EUNSUPPORTED = -15,
    ST_ECALLBACK = -16,
    /* Internal only: why the transport closed a connection (a reason in
     * its events and statistics). No ABI call returns it, so it has no
     * public DD_* twin; it sits far below the public codes so that they
     * stay contiguous as they grow. */
    ST_ECLOSED = -64,
};

#endif
