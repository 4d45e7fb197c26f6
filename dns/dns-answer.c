/* SPDX-License-Identifier: MIT */
/*
 * The one reader of DNS answers, for deliver's MX lookup and for the
 * checks of `pochtar dns check` and `pochtar status`. Pure code over
 * (pointer, length) that includes nothing of libresolv: the message, its
 * names and their compression pointers are read here, every offset
 * checked against the length before the byte is touched. What it takes
 * and how it writes a name are libresolv's (ns_initparse(), ns_parserr(),
 * ns_name_uncompress()), as deliver and the CLI read answers before;
 * fuzz-dns-answer holds the two side by side.
 */
#include <errno.h>
#include <string.h>

#include "dns/dns-answer.h"

/* RFC 1035 §4.1.1: ID, flags, and the four section counts */
#define HEADER_SIZE 12
/* RFC 1035 §4.1.3: TYPE, CLASS, TTL, RDLENGTH after a record's owner */
#define RR_FIXED_SIZE 10
/* RFC 1035 §4.1.2: QTYPE, QCLASS after a question's name */
#define QUESTION_FIXED_SIZE 4
/* RFC 1035 §4.1.4: the two high bits of a pointer; 01 and 10 are no label */
#define LABEL_POINTER 0xc0
#define CLASS_IN 1
#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3

/* Every octet written as up to four characters, the dots and the NUL fit. */
_Static_assert(DNS_RR_NAME_SIZE > 4 * DNS_NAME_MAX, "a name's presentation form fits its buffer");

static unsigned get16(const uint8_t *p) {
        return (unsigned) p[0] << 8 | p[1];
}

/* The end, in place, of the name at @off: after its root label or its
 * first pointer; nothing is followed. */
static int name_skip(const uint8_t *msg, size_t len, size_t off, size_t *ret_end) {
        while (off < len) {
                unsigned n = msg[off++];

                if (n == 0) {
                        *ret_end = off;
                        return 0;
                }
                if ((n & LABEL_POINTER) == LABEL_POINTER) {
                        if (off >= len)
                                return -EBADMSG;
                        *ret_end = off + 1;
                        return 0;
                }
                if (n & LABEL_POINTER || n > len - off)
                        return -EBADMSG;
                off += n;
        }
        return -EBADMSG;
}

/* One octet of a label in presentation form (RFC 1035 §5.1): the
 * characters a zone file gives a meaning to behind a backslash, what is
 * not visible ASCII as \DDD. */
static char *put_octet(char *o, uint8_t c) {
        if (c != 0 && strchr("\".;\\()@$", c)) {
                *o++ = '\\';
                *o++ = (char) c;
        } else if (c > 0x20 && c < 0x7f)
                *o++ = (char) c;
        else {
                *o++ = '\\';
                *o++ = (char) ('0' + c / 100);
                *o++ = (char) ('0' + c / 10 % 10);
                *o++ = (char) ('0' + c % 10);
        }
        return o;
}

/*
 * The name at @off into @name (NULL: only checked), in presentation form,
 * "" for the root; *ret_end is where it ends in place. Compression
 * pointers (RFC 1035 §4.1.4) may lead anywhere in the message; a name
 * that has read as many bytes as the message holds must have looped.
 * Labels of 63 octets at most, the whole name 255 with its root
 * (RFC 1035 §2.3.4).
 */
static int name_read(const uint8_t *msg, size_t len, size_t off, char *name, size_t *ret_end) {
        size_t end = 0, wire = 0, read = 0;
        char *o = name;

        for (;;) {
                unsigned n;

                if (off >= len)
                        return -EBADMSG;
                n = msg[off++];
                if (n == 0)
                        break;
                if ((n & LABEL_POINTER) == LABEL_POINTER) {
                        if (off >= len)
                                return -EBADMSG;
                        if (end == 0)
                                end = off + 1;
                        off = (n & ~LABEL_POINTER) << 8 | msg[off];
                        read += 2;
                        if (off >= len || read >= len)
                                return -EBADMSG;
                        continue;
                }
                if (n & LABEL_POINTER || n >= len - off)
                        return -EBADMSG;
                wire += n + 1;
                read += n + 1;
                if (wire >= DNS_NAME_MAX)
                        return -EBADMSG;
                if (o) {
                        if (o != name)
                                *o++ = '.';
                        for (size_t i = 0; i < n; i++)
                                o = put_octet(o, msg[off + i]);
                }
                off += n;
        }
        if (o)
                *o = 0;
        *ret_end = end ? end : off;
        return 0;
}

/*
 * @n records from @off (questions, with @question): every name skipped,
 * every fixed part and RDATA within the message. *ret_end is where they
 * end.
 */
static int sections_skip(const uint8_t *msg, size_t len, size_t off, unsigned n, bool question, size_t *ret_end) {
        for (unsigned i = 0; i < n; i++) {
                size_t fixed = question ? QUESTION_FIXED_SIZE : RR_FIXED_SIZE;

                if (name_skip(msg, len, off, &off) < 0 || fixed > len - off)
                        return -EBADMSG;
                off += fixed;
                if (!question) {
                        size_t rdlen = get16(msg + off - 2);

                        if (rdlen > len - off)
                                return -EBADMSG;
                        off += rdlen;
                }
        }
        *ret_end = off;
        return 0;
}

/*
 * RFC 1035 §3.3.14: one or more <character-string>s, each a length octet
 * and that many bytes. Measures them into @ret and, with @out, writes
 * their concatenation there, NUL-terminated within @size. The CLI has
 * always taken an empty RDATA as no strings at all; that stays.
 */
static int txt_walk(const uint8_t *p, size_t n, DnsText *ret, char *out, size_t size) {
        DnsText t = {};

        for (size_t i = 0; i < n;) {
                size_t k = p[i++];

                if (k > n - i)
                        return -EBADMSG;
                if (memchr(p + i, 0, k))
                        return -EBADMSG;        /* not text a check can read */
                if (out) {
                        if (k >= size - t.length)
                                return -ENOBUFS;
                        memcpy(out + t.length, p + i, k);
                }
                t.length += k;
                t.n_strings++;
                if (k > t.longest)
                        t.longest = k;
                i += k;
        }
        if (out) {
                if (size == 0)
                        return -ENOBUFS;
                out[t.length] = 0;
        }
        *ret = t;
        return 0;
}

/*
 * A name in RDATA, from @off to the RDATA's end @end. Pointers may lead
 * anywhere in the message, but the bytes read in place must be exactly
 * the RDATA's: a name that runs on into the next record, or leaves
 * bytes behind, is malformed.
 */
static int rdata_name(const uint8_t *msg, size_t len, size_t off, size_t end, char name[static DNS_RR_NAME_SIZE]) {
        size_t name_end;

        if (name_read(msg, len, off, name, &name_end) < 0 || name_end != end)
                return -EBADMSG;
        return 0;
}

/* The fields of @rr from its RDATA at @off, or -EBADMSG for the wrong shape. */
static int rr_fields(const uint8_t *msg, size_t len, size_t off, DnsRR *rr) {
        size_t end = off + rr->rdlen;

        switch (rr->type) {
        case DNS_TYPE_A:
                if (rr->rdlen != 4)
                        return -EBADMSG;
                memcpy(&rr->addr, rr->rdata, 4);
                return 0;
        case DNS_TYPE_MX:
                /* a preference and at least the root */
                if (rr->rdlen < 3)
                        return -EBADMSG;
                rr->pref = (uint16_t) get16(rr->rdata);
                return rdata_name(msg, len, off + 2, end, rr->name);
        case DNS_TYPE_PTR:
        case DNS_TYPE_CNAME:
                return rdata_name(msg, len, off, end, rr->name);
        case DNS_TYPE_TXT:
                return txt_walk(rr->rdata, rr->rdlen, &rr->text, NULL, 0);
        }
        return -EBADMSG;
}

int dns_answer_parse(const uint8_t *msg, size_t len, DnsType type, DnsVisitFn visit, void *userdata) {
        unsigned qd, an, nsar;
        size_t off, answers, end;
        int n = 0;

        if (len > DNS_MESSAGE_MAX || len < HEADER_SIZE)
                return -EBADMSG;
        qd = get16(msg + 4);
        an = get16(msg + 6);
        nsar = get16(msg + 8) + get16(msg + 10);
        /* the whole message first: every section parses and the last ends
         * where the message ends */
        if (sections_skip(msg, len, HEADER_SIZE, qd, true, &answers) < 0 ||
            sections_skip(msg, len, answers, an + nsar, false, &end) < 0 || end != len)
                return -EBADMSG;
        switch (get16(msg + 2) & 0xf) {
        case RCODE_NOERROR:
                break;
        case RCODE_NXDOMAIN:
                return -ENXIO;
        default:
                return -EAGAIN;
        }
        off = answers;
        for (unsigned i = 0; i < an; i++) {
                DnsRR rr;
                unsigned rtype, rclass;
                size_t rdlen;
                int r;

                /* the owner is of no use here, but a record whose owner
                 * does not read is no record; it ends where
                 * sections_skip() found it to, so the fixed part and the
                 * RDATA are inside the message */
                if (name_read(msg, len, off, NULL, &off) < 0)
                        return -EBADMSG;
                rtype = get16(msg + off);
                rclass = get16(msg + off + 2);
                rdlen = get16(msg + off + 8);
                off += RR_FIXED_SIZE;
                if (rclass != CLASS_IN || rtype != (unsigned) type) {
                        off += rdlen;
                        continue;
                }
                rr = (DnsRR) {
                        .type = type,
                        .rdata = msg + off,
                        .rdlen = rdlen,
                };
                if (rr_fields(msg, len, off, &rr) < 0)
                        /* nothing half-read reaches the visitor */
                        rr = (DnsRR) {
                                .type = type,
                                .malformed = true,
                                .rdata = msg + off,
                                .rdlen = rdlen,
                        };
                off += rdlen;
                n++;
                r = visit(&rr, userdata);
                if (r < 0)
                        return r;
                if (r == DNS_VISIT_STOP)
                        break;
        }
        return n > 0 ? n : -ENODATA;
}

int dns_answer_txt_join(const DnsRR *rr, char *buf, size_t size) {
        DnsText t;
        int r;

        if (rr->type != DNS_TYPE_TXT || rr->malformed)
                return -EINVAL;
        r = txt_walk(rr->rdata, rr->rdlen, &t, buf, size);
        if (r < 0)
                return r == -ENOBUFS ? r : -EINVAL;
        return (int) t.length;
}
