/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shared/clock.h"

/*
 * pochtar.conf: one INI file, sections [spool] [receive] [submission] [sign] [deliver],
 * parsed with libinih. Every daemon loads the whole file, so a typo in any
 * section fails at start, with the file, line and reason; pochtar.conf(5)
 * documents every key. Options are declared in config-options.c.
 */


typedef struct SpoolConfig {
        char *dir;
        usec_t spare_keep;              /* unused spare files are unlinked after this; 0: kept */
} SpoolConfig;

typedef enum BareNewline {
        BARE_NEWLINE_NORMALIZE,         /* a bare LF in DATA ends a line, written as CRLF */
        BARE_NEWLINE_REJECT,            /* 550 5.5.2, as RFC 5321 §2.3.8 allows */
} BareNewline;

typedef struct ReceiveConfig {
        char **listen;                  /* "127.0.0.1:25", ... */
        char *hostname;                 /* banner, Received:, Message-ID */
        char *origin_domain;            /* qualifies bare local parts */
        char **allow;                   /* client networks, CIDR */
        char *sender_map;               /* rewrite map file, or NULL */
        uint64_t max_message_size;
        unsigned max_recipients;
        unsigned max_sessions;
        unsigned max_hops;              /* Received: fields a message may arrive with */
        usec_t command_timeout;         /* a whole command line, from the last reply on */
        usec_t data_timeout;
        usec_t session_timeout;         /* a whole session, however it trickles */
        BareNewline bare_newline;
        usec_t idle_exit;               /* 0: never exit when idle */
} ReceiveConfig;

/* Other hosts submitting mail (pochtar-receive(8), SUBMISSION): TLS
 * before AUTH, AUTH before MAIL, senders limited per user. */
typedef struct SubmissionConfig {
        char **listen;                  /* STARTTLS listeners when not socket-activated ("0.0.0.0:587") */
        char **listen_tls;              /* implicit TLS listeners ("0.0.0.0:465") */
        char *certificate;              /* PEM chain; NULL: $CREDENTIALS_DIRECTORY/submission.crt */
        char *key;                      /* PEM key; NULL: $CREDENTIALS_DIRECTORY/submission.key */
        char *users;                    /* pochtar-users(5) */
        char **allow;                   /* client networks, CIDR */
} SubmissionConfig;

typedef enum SignPolicy {
        SIGN_POLICY_PASS,               /* pass the message on unsigned, logged */
        SIGN_POLICY_QUARANTINE,
} SignPolicy;

typedef struct SignConfig {
        char *domain;
        char **selector;                /* one per key, paired by position */
        char **key;                     /* one RSA and/or one Ed25519 key */
        char *key_table;
        char *signing_table;
        char *canonicalization;         /* "relaxed/relaxed" */
        char **oversign_headers;
        usec_t expire;                  /* x= = t= + expire; 0: no x= */
        SignPolicy on_no_key;
        SignPolicy on_bad_from;
} SignConfig;

typedef enum DeliverMode {
        DELIVER_MODE_MX,
        DELIVER_MODE_RELAY,
        DELIVER_MODE_CAPTURE,
} DeliverMode;

typedef struct DeliverConfig {
        DeliverMode mode;
        char *capture_dir;
        char *relayhost;
        char *relay_user;
        char *relay_password_file;
        char *relay_ca_file;            /* PEM trust anchors for the relay instead of the system's */
        bool relay_password_to_unverified_host; /* the override: AUTH over TLS that did not verify */
        char *helo_name;
        char *bind_address;
        char *tls_policy;               /* none | may | encrypt | verify */
        char *tls_policy_map;
        char *tls_priority;
        unsigned max_connections;
        unsigned max_per_destination;
        usec_t connect_timeout;
        usec_t command_timeout;
        usec_t data_timeout;
        usec_t retry_min;
        usec_t retry_max;
        usec_t max_queue_lifetime;
        usec_t delay_warning;
        usec_t connection_cache_time;   /* keep an idle session for the next message; 0: no reuse */
} DeliverConfig;

typedef struct Config {
        char *path;
        SpoolConfig spool;
        ReceiveConfig receive;
        SubmissionConfig submission;
        SignConfig sign;
        DeliverConfig deliver;
} Config;

typedef int (*ConfigParseFn)(const char *value, void *dst, const void *arg);

typedef struct ConfigOption {
        const char *section;
        const char *key;
        ConfigParseFn parse;
        size_t offset;
        const void *arg;
} ConfigOption;

extern const ConfigOption config_options[];
extern const size_t config_options_count;

/* Defaults for every option; then config_load() applies the file. */
int config_init(Config *c);
void config_done(Config *c);
/*
 * Reads @path over the defaults in @c. On a bad file returns -EINVAL (or
 * -errno for I/O) and sets *ret_error to "PATH:LINE: reason".
 */
int config_load(Config *c, const char *path, char **ret_error);
/* The same over an open stream; @path only names it in errors. */
int config_load_stream(Config *c, FILE *f, const char *path, char **ret_error);

/* Parsers, returning -EINVAL on a bad value; arg as documented. */
int config_parse_string(const char *v, void *dst, const void *arg);
int config_parse_path(const char *v, void *dst, const void *arg);       /* absolute */
int config_parse_bool(const char *v, void *dst, const void *arg);
int config_parse_unsigned(const char *v, void *dst, const void *arg);   /* arg: const unsigned[2] {min,max} or NULL */
int config_parse_size(const char *v, void *dst, const void *arg);       /* bytes; k, M, G suffixes (1024);
                                                                         * arg: const uint64_t[2] {min,max} or NULL */
int config_parse_usec(const char *v, void *dst, const void *arg);       /* "90", "30s", "5m", "1h", "5d", "250ms";
                                                                         * arg: const usec_t[2] {min,max} or NULL */
int config_parse_strv(const char *v, void *dst, const void *arg);       /* comma/space separated list */
int config_parse_header_names(const char *v, void *dst, const void *arg); /* strv of header field names */
int config_parse_sign_policy(const char *v, void *dst, const void *arg);
int config_parse_bare_newline(const char *v, void *dst, const void *arg);
int config_parse_deliver_mode(const char *v, void *dst, const void *arg);

void strv_free(char **l);
size_t strv_length(char * const *l);
int strv_extend(char ***l, const char *s);
