/* SPDX-License-Identifier: MIT */
/*
 * pochtar dkim keygen|record: make a DKIM key and print the DNS TXT
 * record to publish, in the zone-file form opendkim-genkey writes to its
 * .txt file (strings of at most 255 octets, RFC 1035 §3.3.14), so the
 * instructions of the article apply unchanged.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "cli/pochtar.h"
#include "dkim/dkim-crypto.h"
#include "shared/log.h"
#include "shared/macro.h"

/* Room below the 255-octet limit of one <character-string>. */
#define TXT_CHUNK 250

typedef struct DkimArgs {
        const char *domain;
        const char *selector;
        const char *key;
        const char *directory;
        DkimAlg alg;
        unsigned bits;
} DkimArgs;

static void print_record(const DkimArgs *a, DkimKey *k, const char *pub) {
        size_t n = strlen(pub);

        printf("%s._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=%s; \"\n", a->selector,
               dkim_alg_key_type(dkim_key_alg(k)));
        for (size_t i = 0; i < n; i += TXT_CHUNK)
                printf("\t  \"%s%.*s\"%s", i == 0 ? "p=" : "", (int) (i + TXT_CHUNK > n ? n - i : TXT_CHUNK),
                       pub + i, i + TXT_CHUNK >= n ? " )" : "\n");
        printf("  ; ----- DKIM key %s for %s\n", a->selector, a->domain);
}

static int emit_record(const DkimArgs *a, DkimKey *k) {
        Buf pub = BUF_INIT(0);
        int r;

        r = dkim_key_public_b64(k, &pub);
        if (r < 0) {
                log_error_errno(r, "Cannot derive the public key: %m");
                return EX_SOFTWARE;
        }
        print_record(a, k, (const char *) pub.data);
        buf_done(&pub);
        return EX_OK;
}

static int parse_args(int argc, char **argv, bool keygen, DkimArgs *a) {
        static const struct option options[] = {
                { "domain", required_argument, NULL, 'd' },
                { "selector", required_argument, NULL, 's' },
                { "type", required_argument, NULL, 't' },
                { "bits", required_argument, NULL, 'b' },
                { "directory", required_argument, NULL, 'D' },
                { "key", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *a = (DkimArgs) { .directory = ".", .alg = DKIM_ALG_RSA_SHA256, .bits = 2048 };
        optind = 0;
        while ((c = getopt_long(argc, argv, "d:s:t:b:D:k:h", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        a->domain = optarg;
                        break;
                case 's':
                        a->selector = optarg;
                        break;
                case 't':
                        if (!keygen)
                                return -EINVAL;
                        if (streq(optarg, "rsa"))
                                a->alg = DKIM_ALG_RSA_SHA256;
                        else if (streq(optarg, "ed25519"))
                                a->alg = DKIM_ALG_ED25519_SHA256;
                        else {
                                fprintf(stderr, "pochtar dkim: --type must be rsa or ed25519\n");
                                return -EINVAL;
                        }
                        break;
                case 'b': {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);

                        if (!keygen || *end || v < DKIM_RSA_BITS_MIN || v > DKIM_RSA_BITS_MAX) {
                                fprintf(stderr, "pochtar dkim: --bits must be %d to %d (RFC 8301)\n",
                                        DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
                                return -EINVAL;
                        }
                        a->bits = (unsigned) v;
                        break;
                }
                case 'D':
                        if (!keygen)
                                return -EINVAL;
                        a->directory = optarg;
                        break;
                case 'k':
                        if (keygen)
                                return -EINVAL;
                        a->key = optarg;
                        break;
                case 'h':
                        return 1;
                default:
                        return -EINVAL;
                }
        if (optind < argc || !a->domain || !a->selector || (!keygen && !a->key)) {
                fprintf(stderr, "pochtar dkim: %s\n", optind < argc ? "unexpected argument" :
                        keygen ? "--domain and --selector are required" : "--domain, --selector and --key are required");
                return -EINVAL;
        }
        /* The selector becomes a file name and a DNS label. */
        if (strchr(a->selector, '/') || a->selector[0] == '.' || strlen(a->selector) > 63) {
                fprintf(stderr, "pochtar dkim: '%s' is not a valid selector\n", a->selector);
                return -EINVAL;
        }
        return 0;
}

static int keygen(int argc, char **argv) {
        _cleanup_(dkim_key_freep) DkimKey *k = NULL;
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        char name[80];
        DkimArgs a;
        int r;

        r = parse_args(argc, argv, true, &a);
        if (r > 0) {
                printf("Usage: pochtar dkim keygen --domain DOMAIN --selector SELECTOR\n"
                       "                           [--type rsa|ed25519] [--bits N] [--directory DIR]\n\n"
                       "Writes DIR/SELECTOR.private (mode 0600; RSA as PKCS#1 PEM like opendkim-genkey,\n"
                       "Ed25519 as PKCS#8 PEM) and prints the DNS TXT record to publish.\n"
                       "Defaults: --type rsa --bits 2048 --directory .\n");
                return EX_OK;
        }
        if (r < 0)
                return EX_USAGE;

        dir = open(a.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) {
                log_error_errno(-errno, "Cannot open directory %s: %m", a.directory);
                return EX_CANTCREAT;
        }
        (void) snprintf(name, sizeof(name), "%s.private", a.selector);
        /* O_EXCL: never overwrite a key that may already be in DNS. */
        fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                log_error_errno(-errno, "Cannot create %s/%s: %m", a.directory, name);
                return EX_CANTCREAT;
        }
        r = dkim_key_generate(a.alg, a.bits, fd, &k);
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        if (r < 0) {
                (void) unlinkat(dir, name, 0);
                log_error_errno(r, "Cannot generate the key: %m");
                return EX_SOFTWARE;
        }
        fprintf(stderr, "Wrote %s/%s. Publish this record in the DNS zone of %s:\n", a.directory, name, a.domain);
        return emit_record(&a, k);
}

static int record(int argc, char **argv) {
        _cleanup_(dkim_key_freep) DkimKey *k = NULL;
        DkimArgs a;
        int r;

        r = parse_args(argc, argv, false, &a);
        if (r > 0) {
                printf("Usage: pochtar dkim record --domain DOMAIN --selector SELECTOR --key PATH\n\n"
                       "Prints the DNS TXT record for an existing private key (PEM: PKCS#1 or PKCS#8,\n"
                       "RSA or Ed25519), as 'pochtar dkim keygen' did when it made it.\n");
                return EX_OK;
        }
        if (r < 0)
                return EX_USAGE;
        r = dkim_key_load(a.key, &k);
        if (r < 0) {
                log_error_errno(r, "%s: %s", a.key,
                                r == -EKEYREJECTED ? "key refused (RSA below 1024 or above 4096 bits, or not RSA/Ed25519)" :
                                r == -EBADMSG ? "not a PEM private key" : "cannot read: %m");
                return r == -ENOENT || r == -EACCES ? EX_NOINPUT : EX_DATAERR;
        }
        return emit_record(&a, k);
}

int run_dkim(int argc, char **argv) {
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("Usage: pochtar dkim keygen|record [OPTIONS]\n\n"
                       "  keygen   make a DKIM key and print its DNS record\n"
                       "  record   print the DNS record of an existing key\n\n"
                       "Run 'pochtar dkim keygen --help' for options. See pochtar(8).\n");
                return argc < 2 ? EX_USAGE : EX_OK;
        }
        if (streq(argv[1], "keygen"))
                return keygen(argc - 1, argv + 1);
        if (streq(argv[1], "record"))
                return record(argc - 1, argv + 1);
        fprintf(stderr, "pochtar dkim: unknown subcommand '%s'\n", argv[1]);
        return EX_USAGE;
}
