/* SPDX-License-Identifier: MIT */
/*
 * Every key of pochtar.conf, its parser and its default. pochtar.conf(5)
 * documents the same list; keep them together.
 */
#include <stddef.h>

#include "config-build.h"
#include "shared/config.h"
#include "shared/limits.h"
#include "shared/macro.h"
#include "shared/users-file.h"

#define OPT(sec, field, key, fn, a) \
        { #sec, key, fn, offsetof(Config, sec) + offsetof(__typeof__(((Config *) 0)->sec), field), a }

static const unsigned range_rcpts[2] = { 100, 100000 };        /* RFC 5321 §4.5.3.1.8 floor */
/* every stage holds a whole message in memory: no "0 for no limit" */
static const uint64_t range_message_size[2] = { MESSAGE_SIZE_MIN, MESSAGE_SIZE_MAX };
static const unsigned range_sessions[2] = { 1, 100000 };
/* 0 would refuse all mail that passed through any other MTA; 1000 of our
 * own Received: fields (~150 bytes each) overfill HEADER_SECTION_MAX */
static const unsigned range_hops[2] = { 1, 1000 };
static const unsigned range_conns[2] = { 1, 10000 };
/* a session ends sometime: a slot held forever is a slot lost */
static const usec_t range_session[2] = { 1 * USEC_PER_SEC, 7 * 86400 * USEC_PER_SEC };
/* longer only holds a remote server's slot; many close idle sessions sooner */
static const usec_t range_connection_cache[2] = { 0, 300 * USEC_PER_SEC };

const ConfigOption config_options[] = {
        OPT(spool, dir, "dir", config_parse_path, NULL),
        OPT(spool, spare_keep, "spare_keep", config_parse_usec, NULL),

        OPT(receive, listen, "listen", config_parse_strv, NULL),
        OPT(receive, hostname, "hostname", config_parse_string, NULL),
        OPT(receive, origin_domain, "origin_domain", config_parse_string, NULL),
        OPT(receive, allow, "allow", config_parse_strv, NULL),
        OPT(receive, sender_map, "sender_map", config_parse_path, NULL),
        OPT(receive, max_message_size, "max_message_size", config_parse_size, range_message_size),
        OPT(receive, max_recipients, "max_recipients", config_parse_unsigned, range_rcpts),
        OPT(receive, max_sessions, "max_sessions", config_parse_unsigned, range_sessions),
        OPT(receive, max_hops, "max_hops", config_parse_unsigned, range_hops),
        OPT(receive, command_timeout, "command_timeout", config_parse_usec, NULL),
        OPT(receive, data_timeout, "data_timeout", config_parse_usec, NULL),
        OPT(receive, session_timeout, "session_timeout", config_parse_usec, range_session),
        OPT(receive, bare_newline, "bare_newline", config_parse_bare_newline, NULL),
        OPT(receive, idle_exit, "idle_exit", config_parse_usec, NULL),

        OPT(submission, listen, "listen", config_parse_strv, NULL),
        OPT(submission, listen_tls, "listen_tls", config_parse_strv, NULL),
        OPT(submission, certificate, "certificate", config_parse_path, NULL),
        OPT(submission, key, "key", config_parse_path, NULL),
        OPT(submission, users, "users", config_parse_path, NULL),
        OPT(submission, allow, "allow", config_parse_strv, NULL),

        OPT(sign, domain, "domain", config_parse_string, NULL),
        OPT(sign, selector, "selector", config_parse_strv, NULL),
        OPT(sign, key, "key", config_parse_strv, NULL),
        OPT(sign, key_table, "key_table", config_parse_string, NULL),
        OPT(sign, signing_table, "signing_table", config_parse_string, NULL),
        OPT(sign, canonicalization, "canonicalization", config_parse_string, NULL),
        OPT(sign, oversign_headers, "oversign_headers", config_parse_header_names, NULL),
        OPT(sign, expire, "expire", config_parse_usec, NULL),
        OPT(sign, on_no_key, "on_no_key", config_parse_sign_policy, NULL),
        OPT(sign, on_bad_from, "on_bad_from", config_parse_sign_policy, NULL),

        OPT(deliver, mode, "mode", config_parse_deliver_mode, NULL),
        OPT(deliver, capture_dir, "capture_dir", config_parse_path, NULL),
        OPT(deliver, relayhost, "relayhost", config_parse_string, NULL),
        OPT(deliver, relay_user, "relay_user", config_parse_string, NULL),
        OPT(deliver, relay_password_file, "relay_password_file", config_parse_path, NULL),
        OPT(deliver, relay_ca_file, "relay_ca_file", config_parse_path, NULL),
        OPT(deliver, relay_password_to_unverified_host, "relay_password_to_unverified_host", config_parse_bool, NULL),
        OPT(deliver, helo_name, "helo_name", config_parse_string, NULL),
        OPT(deliver, bind_address, "bind_address", config_parse_string, NULL),
        OPT(deliver, tls_policy, "tls_policy", config_parse_string, NULL),
        OPT(deliver, tls_policy_map, "tls_policy_map", config_parse_path, NULL),
        OPT(deliver, tls_priority, "tls_priority", config_parse_string, NULL),
        OPT(deliver, max_connections, "max_connections", config_parse_unsigned, range_conns),
        OPT(deliver, max_per_destination, "max_per_destination", config_parse_unsigned, range_conns),
        OPT(deliver, connect_timeout, "connect_timeout", config_parse_usec, NULL),
        OPT(deliver, command_timeout, "command_timeout", config_parse_usec, NULL),
        OPT(deliver, data_timeout, "data_timeout", config_parse_usec, NULL),
        OPT(deliver, retry_min, "retry_min", config_parse_usec, NULL),
        OPT(deliver, retry_max, "retry_max", config_parse_usec, NULL),
        OPT(deliver, max_queue_lifetime, "max_queue_lifetime", config_parse_usec, NULL),
        OPT(deliver, delay_warning, "delay_warning", config_parse_usec, NULL),
        OPT(deliver, connection_cache_time, "connection_cache_time", config_parse_usec, range_connection_cache),
};

const size_t config_options_count = ELEMENTSOF(config_options);

int config_init(Config *c) {
        *c = (Config) {
                /* spares save work only while mail flows */
                .spool = { .spare_keep = 60 * USEC_PER_SEC },
                .receive = {
                        .max_message_size = MESSAGE_SIZE_DEFAULT,
                        .max_recipients = SMTP_RCPTS_DEFAULT,
                        .max_sessions = 1000,
                        /* Postfix's hopcount_limit */
                        .max_hops = 50,
                        /* RFC 5321 §4.5.3.2.7: server timeout 5 minutes; §4.5.3.2.6:
                         * 10 minutes after the data terminator, applied to DATA reads */
                        .command_timeout = 300 * USEC_PER_SEC,
                        .data_timeout = 600 * USEC_PER_SEC,
                        /* long enough for an app that sends a large batch on one
                         * connection; a client that trickles bytes ends here */
                        .session_timeout = 3600 * USEC_PER_SEC,
                },
                .sign = {
                        .on_no_key = SIGN_POLICY_PASS,
                        .on_bad_from = SIGN_POLICY_PASS,
                },
                .deliver = {
                        .mode = DELIVER_MODE_MX,
                        .max_connections = 100,
                        .max_per_destination = 20,
                        /* RFC 5321 §4.5.3.2: 5 min greeting/MAIL/RCPT, 2 min DATA
                         * initiation, 3 min per data block, 10 min final dot */
                        .connect_timeout = 30 * USEC_PER_SEC,
                        .command_timeout = 300 * USEC_PER_SEC,
                        .data_timeout = 600 * USEC_PER_SEC,
                        .retry_min = 300 * USEC_PER_SEC,
                        .retry_max = 3600 * USEC_PER_SEC,
                        .max_queue_lifetime = 5 * 86400 * USEC_PER_SEC,
                        .delay_warning = 4 * 3600 * USEC_PER_SEC,
                        /* Postfix's smtp_connection_cache_time_limit */
                        .connection_cache_time = 2 * USEC_PER_SEC,
                },
        };
        if (config_parse_string(POCHTAR_SPOOL_DIR, &c->spool.dir, NULL) < 0 ||
            config_parse_strv("127.0.0.1:25", &c->receive.listen, NULL) < 0 ||
            config_parse_strv("127.0.0.0/8", &c->receive.allow, NULL) < 0 ||
            /* submission is for other hosts; AUTH, not the address, admits them */
            config_parse_strv("0.0.0.0/0 ::/0", &c->submission.allow, NULL) < 0 ||
            config_parse_path(USERS_FILE_DEFAULT, &c->submission.users, NULL) < 0 ||
            config_parse_string("relaxed/relaxed", &c->sign.canonicalization, NULL) < 0 ||
            /* the fields a replayed message would want to change or add */
            config_parse_strv("From To Cc Subject Date Reply-To Message-ID MIME-Version Content-Type "
                              "Content-Transfer-Encoding", &c->sign.oversign_headers, NULL) < 0 ||
            config_parse_string("may", &c->deliver.tls_policy, NULL) < 0) {
                config_done(c);
                return -ENOMEM;
        }
        return 0;
}

void config_done(Config *c) {
        for (size_t i = 0; i < config_options_count; i++) {
                const ConfigOption *o = &config_options[i];
                void *p = (uint8_t *) c + o->offset;

                if (o->parse == config_parse_string || o->parse == config_parse_path) {
                        free(*(char **) p);
                        *(char **) p = NULL;
                } else if (o->parse == config_parse_strv || o->parse == config_parse_header_names) {
                        strv_free(*(char ***) p);
                        *(char ***) p = NULL;
                }
        }
        free(c->path);
        c->path = NULL;
}
