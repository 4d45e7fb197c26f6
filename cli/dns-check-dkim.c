/* SPDX-License-Identifier: MIT */
/*
 * The DKIM and DMARC checks: each selector's key record against the local
 * private key (read by dkim/dkim-crypto.c, as sign reads it), the record's
 * syntax and splitting, and whether a d= we sign with aligns with the
 * From: domain under the domain's DMARC record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dns-check.h"
#include "cli/dns-lookup.h"
#include "cli/dns-tags.h"
#include "dkim/dkim-crypto.h"
#include "dkim/signing-keys.h"
#include "shared/log.h"

/* ---- DKIM -------------------------------------------------------------- */

static int signer_add(DnsCheck *c, const char *domain, const char *selector, const char *key) {
        Signer *t;

        for (size_t i = 0; i < c->n_signers; i++)
                if (check_name_eq(c->signers[i].domain, domain) && streq(c->signers[i].selector, selector)) {
                        if (!c->signers[i].key && key && !(c->signers[i].key = strdup(key)))
                                return log_oom();
                        return 0;
                }
        t = reallocarray(c->signers, c->n_signers + 1, sizeof(Signer));
        if (!t)
                return log_oom();
        c->signers = t;
        t[c->n_signers] = (Signer) {
                .domain = strdup(domain),
                .selector = strdup(selector),
                .key = key ? strdup(key) : NULL,
        };
        c->n_signers++;
        if (!t[c->n_signers - 1].domain || !t[c->n_signers - 1].selector || (key && !t[c->n_signers - 1].key))
                return log_oom();
        return 0;
}

void dns_check_signers_free(DnsCheck *c) {
        for (size_t i = 0; i < c->n_signers; i++) {
                free(c->signers[i].domain);
                free(c->signers[i].selector);
                free(c->signers[i].key);
        }
        free(c->signers);
}

/* Who signs mail from DOMAIN: [sign]'s simple form, the key table's rows
 * for DOMAIN, and any --selector (for DOMAIN). */
int dns_check_signers(DnsCheck *c, char **selectors) {
        const SignConfig *s = &c->config->sign;
        int r;

        /* selector and key are lists paired by position (an RSA and an
         * Ed25519 key for one domain) */
        for (size_t i = 0; s->domain && i < strv_length(s->selector); i++) {
                r = signer_add(c, s->domain, s->selector[i], i < strv_length(s->key) ? s->key[i] : NULL);
                if (r < 0)
                        return r;
        }
        if (s->key_table) {
                _cleanup_(key_table_done) KeyTable t = {};
                _cleanup_free_ char *error = NULL;

                /* sign's own reader: what it refuses at start is reported here too */
                r = key_table_load(s->key_table, &t, &error);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        check_report(c, VERDICT_WARN, "dkim", "cannot use key table: %s", error ?: strerror(-r));
                /* OpenDKIM: a domain of "%" signs as the From: domain */
                for (size_t i = 0; i < t.n; i++)
                        if (check_name_eq(t.entries[i].domain, c->domain) || streq(t.entries[i].domain, "%")) {
                                r = signer_add(c, c->domain, t.entries[i].selector, t.entries[i].path);
                                if (r < 0)
                                        return r;
                        }
        }
        for (char **sel = selectors; sel && *sel; sel++) {
                r = signer_add(c, c->domain, *sel, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void check_dkim_selector(DnsCheck *c, const Signer *s) {
        _cleanup_(dkim_key_freep) DkimKey *key = NULL;
        _cleanup_free_ char *name = NULL, *shown = NULL;
        _cleanup_(buf_done) Buf key_p = BUF_INIT(0);
        const char *record = NULL, *error = NULL;
        DnsTag tags[DNS_TAGS_MAX];
        const DnsTag *v, *k, *p;
        size_t n_tags, n_records = 0, n_strings = 0, longest = 0;
        const char *key_type = NULL;
        bool have_key = false;
        DnsAnswer txt = {};
        int r;

        if (asprintf(&name, "%s._domainkey.%s", s->selector, s->domain) < 0)
                return (void) log_oom();
        if (s->key) {
                r = dkim_key_load(s->key, &key);
                if (r >= 0)
                        r = dkim_key_public_b64(key, &key_p);
                if (r < 0)
                        check_report(c, VERDICT_WARN, "dkim", "%s: cannot read the private key %s: %s", name, s->key,
                               r == -EBADMSG ? "not a PEM private key" :
                               r == -EKEYREJECTED ? "a key sign refuses (RSA of 1024 to 4096 bits, or Ed25519)" :
                               strerror(-r));
                else {
                        key_type = dkim_alg_key_type(dkim_key_alg(key));
                        have_key = true;
                }
        }

        r = dns_lookup(name, DNS_TYPE_TXT, &txt);
        for (size_t i = 0; r >= 0 && i < txt.n; i++)
                /* other TXT at the same name are not ours to judge, unless
                 * nothing looks like a key record at all */
                if (strstr(txt.records[i].text, "p=") || strncmp(txt.records[i].text, "v=DKIM1", 7) == 0) {
                        n_records++;
                        record = txt.records[i].text;
                        n_strings = txt.records[i].n_strings;
                        longest = txt.records[i].longest_string;
                }
        if (r < 0 || !record) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: %s", name, r < 0 ? dns_strerror(r) : "no DKIM key record");
                goto fix;
        }
        shown = check_show(record);
        if (n_records > 1) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: %zu key records; verifiers fail on more than one "
                       "(RFC 6376 §3.6.2.2)", name, n_records);
                goto fix;
        }
        if (strpbrk(record, "\"\\")) {
                /* The classic mistake: the zone file's quoting pasted into a
                 * web panel, so the quotes became part of the key. */
                check_report(c, VERDICT_FAIL, "dkim", "%s: the record contains quote or backslash characters: it was "
                       "split wrong (\"%s\")", name, shown);
                goto fix;
        }
        r = dns_tags_parse(record, strlen(record), tags, ELEMENTSOF(tags), &n_tags, &error);
        if (r < 0) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: syntax error: %s (\"%s\")", name, error, shown);
                goto fix;
        }
        v = dns_tags_find(tags, n_tags, "v");
        k = dns_tags_find(tags, n_tags, "k");
        p = dns_tags_find(tags, n_tags, "p");
        if (v && (v != &tags[0] || !dns_tag_is(v, "DKIM1"))) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: v= must be the first tag and be DKIM1 (RFC 6376 §3.6.1)", name);
                goto fix;
        }
        if (!p || p->value_len == 0) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: %s", name,
                       p ? "p= is empty: the key is revoked" : "no p= tag");
                goto fix;
        }
        if (k && !dns_tag_is(k, "rsa") && !dns_tag_is(k, "ed25519")) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: unknown key type k=%.*s", name, (int) (k->value_len < 32 ? k->value_len : 32),
                       k->value);
                goto fix;
        }
        if (have_key && !dns_tag_is(k, key_type) && !(k == NULL && streq(key_type, "rsa"))) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: k= says %s but the local key is %s", name,
                       k ? "another type" : "rsa (the default)", key_type);
                goto fix;
        }
        if (!have_key) {
                r = dkim_record_key_check(dns_tag_is(k, "ed25519") ? DKIM_ALG_ED25519_SHA256 : DKIM_ALG_RSA_SHA256,
                                          p->value, p->value_len);
                if (r < 0) {
                        check_report(c, VERDICT_FAIL, "dkim", "%s: p= is not a valid base64 public key", name);
                        goto fix;
                }
                check_report(c, s->key ? VERDICT_WARN : VERDICT_OK, "dkim",
                       "%s: record well-formed (%zu string%s); no local key to compare", name, n_strings,
                       n_strings == 1 ? "" : "s");
                goto done;
        }
        r = dkim_key_matches_record(key, p->value, p->value_len);
        if (r < 0) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: p= is not a valid %s public key in base64%s", name, key_type,
                       n_strings > 1 ? " (were the strings joined without losing or adding characters?)" : "");
                goto fix;
        }
        if (r == 0) {
                check_report(c, VERDICT_FAIL, "dkim", "%s: p= is a different key from %s", name, s->key);
                goto fix;
        }
        check_report(c, VERDICT_OK, "dkim", "%s: p= matches %s (%s, %d bits, %zu string%s, longest %zu bytes)", name,
               s->key, key_type, dkim_key_bits(key), n_strings, n_strings == 1 ? "" : "s", longest);
        goto done;
fix:
        if (have_key) {
                _cleanup_free_ char *first = NULL, *pv = NULL;

                if (asprintf(&first, "v=DKIM1; k=%s; ", key_type) < 0 ||
                    asprintf(&pv, "p=%s", (const char *) key_p.data) < 0)
                        log_oom();
                else
                        check_fix_txt(name, first, pv);
        } else
                check_fix("%s. IN TXT: publish the record 'pochtar dkim record' prints for this selector's key", name);
done:
        dns_answer_done(&txt);
}

void dns_check_dkim(DnsCheck *c) {
        if (c->n_signers == 0) {
                check_report(c, VERDICT_FAIL, "dkim", "no selector configured for %s", c->domain);
                check_fix("set [sign] domain, selector and key (or key_table) in %s, or name one with --selector",
                    c->config->path ?: "pochtar.conf");
                return;
        }
        for (size_t i = 0; i < c->n_signers; i++)
                check_dkim_selector(c, &c->signers[i]);
}

/* ---- DMARC ------------------------------------------------------------- */

/* The organizational domain, approximated as the last two labels (no
 * Public Suffix List here; RFC 7489 §3.2). */
static const char *org_domain(const char *d) {
        const char *last = strrchr(d, '.'), *p;

        if (!last)
                return d;
        for (p = last - 1; p > d && *p != '.'; p--)
                ;
        return p > d ? p + 1 : d;
}

static bool aligned(const char *d, const char *from, bool strict) {
        if (strict)
                return check_name_eq(d, from);
        return check_name_eq(org_domain(d), org_domain(from));
}

void dns_check_dmarc(DnsCheck *c) {
        _cleanup_free_ char *name = NULL, *shown = NULL, *fixed = NULL;
        const char *record = NULL, *error = NULL;
        DnsTag tags[DNS_TAGS_MAX];
        const DnsTag *p, *adkim, *v;
        size_t n_tags, n_records = 0;
        DnsAnswer txt = {};
        bool strict;
        int r;

        if (asprintf(&name, "_dmarc.%s", c->domain) < 0 ||
            asprintf(&fixed, "v=DMARC1; p=none; rua=mailto:postmaster@%s", c->domain) < 0)
                return (void) log_oom();
        r = dns_lookup(name, DNS_TYPE_TXT, &txt);
        if ((r == -ENXIO || r == -ENODATA) && org_domain(c->domain) != c->domain) {
                /* RFC 7489 §6.6.3: fall back to the organizational domain */
                free(name);
                name = NULL;
                if (asprintf(&name, "_dmarc.%s", org_domain(c->domain)) < 0)
                        return (void) log_oom();
                r = dns_lookup(name, DNS_TYPE_TXT, &txt);
        }
        for (size_t i = 0; r >= 0 && i < txt.n; i++)
                if (strncmp(txt.records[i].text, "v=DMARC1", 8) == 0) {
                        n_records++;
                        record = txt.records[i].text;
                }
        if (r < 0 || !record) {
                check_report(c, VERDICT_FAIL, "dmarc", "%s: %s", name, r < 0 ? dns_strerror(r) : "no v=DMARC1 record");
                check_fix_txt(name, NULL, fixed);
                goto done;
        }
        shown = check_show(record);
        if (n_records > 1) {
                check_report(c, VERDICT_FAIL, "dmarc", "%s: %zu v=DMARC1 records: receivers ignore all of them "
                       "(RFC 7489 §6.6.3)", name, n_records);
                check_fix("keep exactly one: %s. IN TXT \"%s\"", name, fixed);
                goto done;
        }
        r = dns_tags_parse(record, strlen(record), tags, ELEMENTSOF(tags), &n_tags, &error);
        v = r >= 0 ? dns_tags_find(tags, n_tags, "v") : NULL;
        p = r >= 0 ? dns_tags_find(tags, n_tags, "p") : NULL;
        adkim = r >= 0 ? dns_tags_find(tags, n_tags, "adkim") : NULL;
        if (r < 0 || v != &tags[0] || !dns_tag_is(v, "DMARC1") || !p ||
            !(dns_tag_is(p, "none") || dns_tag_is(p, "quarantine") || dns_tag_is(p, "reject")) ||
            (adkim && !dns_tag_is(adkim, "r") && !dns_tag_is(adkim, "s"))) {
                check_report(c, VERDICT_FAIL, "dmarc", "%s: %s (\"%s\")", name,
                       r < 0 ? error : !p ? "no p= policy" : "v=DMARC1 must come first, p= must be none, "
                       "quarantine or reject, adkim= r or s", shown);
                check_fix_txt(name, NULL, fixed);
                goto done;
        }
        if (dns_tag_is(p, "none"))
                check_report(c, VERDICT_WARN, "dmarc", "%s: p=none: monitoring only, receivers are not asked to act "
                       "(\"%s\")", name, shown);
        else
                check_report(c, VERDICT_OK, "dmarc", "%s: \"%s\"", name, shown);

        /* Alignment (RFC 7489 §3.1.1): does some d= we sign with match the
         * From domain, DOMAIN, under the record's adkim= mode? */
        strict = dns_tag_is(adkim, "s");
        for (size_t i = 0; i < c->n_signers; i++)
                if (aligned(c->signers[i].domain, c->domain, strict)) {
                        check_report(c, VERDICT_OK, "alignment", "DKIM d=%s aligns with From: domain %s (adkim=%s)",
                               c->signers[i].domain, c->domain, strict ? "s" : "r");
                        goto done;
                }
        if (c->n_signers > 0) {
                check_report(c, VERDICT_FAIL, "alignment", "DKIM d=%s does not align with From: domain %s (adkim=%s): "
                       "DMARC fails unless SPF aligns", c->signers[0].domain, c->domain, strict ? "s" : "r");
                check_fix("sign mail from %s with d=%s: in [sign] set domain = %s (or a key_table row for it), and "
                    "publish its key", c->domain, c->domain, c->domain);
        }
done:
        dns_answer_done(&txt);
}
