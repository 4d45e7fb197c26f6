/* SPDX-License-Identifier: MIT */
/*
 * `pochtar dns check DOMAIN`: the deliverability doctor. Each check asks
 * the system resolver (libresolv) what receivers will see, compares it
 * with the local configuration and keys, and prints one line marked ok,
 * warn, FAIL or info; every FAIL is followed by the record (or setting)
 * that fixes it. Exit 1 if anything failed. The checks are in
 * dns-check-host.c and dns-check-dkim.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "cli/cli-util.h"
#include "cli/dns-check.h"
#include "cli/pochtar.h"
#include "shared/address.h"
#include "shared/log.h"

/* ---- the command ---------------------------------------------------------- */

static bool ip_is_public(struct in_addr a) {
        uint32_t h = ntohl(a.s_addr);

        return !((h >> 24) == 10 || (h >> 24) == 127 || (h >> 24) == 0 ||
                 (h >> 20) == (172 << 4 | 1) || (h >> 16) == (192 << 8 | 168) ||
                 (h >> 22) == (100 << 2 | 1) || (h >> 16) == (169 << 8 | 254));
}

/* Without --ip: [deliver] bind_address, else the source address the kernel
 * would choose for the outside world (a UDP connect() sends nothing). */
static int sending_ip(const Config *config, struct in_addr *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(25) };
        socklen_t len = sizeof(sa);
        _cleanup_close_ int fd = -EBADF;

        if (config->deliver.bind_address && inet_pton(AF_INET, config->deliver.bind_address, ret) == 1)
                return 0;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) inet_pton(AF_INET, "198.51.100.1", &sa.sin_addr);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        *ret = sa.sin_addr;
        return 0;
}

static void help(void) {
        printf("Usage: pochtar dns check DOMAIN [--ip IPv4] [--selector S]... [--config PATH]\n\n"
               "Checks what receivers will see in DNS for mail from DOMAIN: MX, SPF for the\n"
               "sending address, each DKIM selector's key against the local private key, DMARC\n"
               "and DKIM alignment, PTR with forward confirmation and the HELO name, MTA-STS\n"
               "and TLS-RPT. Prints the record to add for every failure; exits 1 if any check\n"
               "failed.\n\n"
               "  --ip IPv4          the server's public sending address (default: [deliver]\n"
               "                     bind_address, else the outgoing interface's address)\n"
               "  --selector S       also check S._domainkey.DOMAIN (repeatable)\n"
               "  --config PATH      pochtar.conf to read (default %s)\n"
               "  -h, --help         show this help\n", cli_default_config());
}

typedef struct DnsArgs {
        const char *ip;
        char **selectors;
} DnsArgs;

static int parse_option(int opt, const char *arg, void *userdata) {
        DnsArgs *a = userdata;

        switch (opt) {
        case 'i':
                a->ip = arg;
                return 0;
        case 's':
                if (strlen(arg) > SMTP_LOCAL_PART_MAX || domain_valid(arg, strlen(arg), 0) < 0)
                        return cli_usage_error("dns", "invalid selector '%s'", arg);
                if (strv_extend(&a->selectors, arg) < 0)
                        return log_oom(), EX_OSERR;
                return 0;
        default:
                return EX_USAGE;
        }
}

int run_dns(int argc, char **argv) {
        static const struct option options[] = {
                { "ip", required_argument, NULL, 'i' },
                { "selector", required_argument, NULL, 's' },
                {}
        };
        _cleanup_(config_done) Config config = {};
        _cleanup_(strv_freep) char **selectors = NULL;
        const char *config_path, *ip;
        DnsArgs a = {};
        DnsCheck c = {};
        int r;

        r = cli_parse_options(argc, argv, options, parse_option, &a, help, &config_path);
        selectors = a.selectors;
        ip = a.ip;
        if (r >= 0)
                return r;
        if (optind >= argc || !streq(argv[optind], "check"))
                return cli_usage_error("dns", "expected 'check DOMAIN'; see 'pochtar dns --help'");
        if (optind + 2 != argc)
                return cli_usage_error("dns", "expected exactly one DOMAIN");
        const char *domain = argv[optind + 1];
        if (strlen(domain) > DNS_NAME_MAX || domain_valid(domain, strlen(domain), 0) < 0 || !strchr(domain, '.'))
                return cli_usage_error("dns", "'%s' is not a domain name", domain);
        if (cli_config_load(config_path, &config) < 0)
                return EX_CONFIG;

        c.config = &config;
        strcpy(c.domain, domain);
        if (c.domain[strlen(c.domain) - 1] == '.')
                c.domain[strlen(c.domain) - 1] = 0;
        if (ip) {
                if (inet_pton(AF_INET, ip, &c.ip) != 1)
                        return cli_usage_error("dns", "'%s' is not an IPv4 address", ip);
                c.have_ip = true;
        } else {
                r = sending_ip(&config, &c.ip);
                if (r < 0)
                        check_report(&c, VERDICT_WARN, "ip", "cannot tell the sending address (%s); pass --ip", strerror(-r));
                else if (!ip_is_public(c.ip))
                        check_report(&c, VERDICT_WARN, "ip", "%s is a private address (behind NAT?); pass the public "
                               "one with --ip", inet_ntoa(c.ip));
                else
                        c.have_ip = true;
        }

        r = dns_check_signers(&c, selectors);
        if (r < 0) {
                dns_check_signers_free(&c);
                return EX_OSERR;
        }
        dns_check_mx(&c);
        dns_check_spf(&c);
        dns_check_dkim(&c);
        dns_check_dmarc(&c);
        dns_check_ptr(&c);
        dns_check_optional(&c, "mta-sts", "_mta-sts", "v=STSv1", "id");
        dns_check_optional(&c, "tls-rpt", "_smtp._tls", "v=TLSRPTv1", "rua");
        dns_check_signers_free(&c);

        printf("\n%u failed, %u warning%s\n", c.failures, c.warnings, c.warnings == 1 ? "" : "s");
        return c.failures ? 1 : EX_OK;
}

