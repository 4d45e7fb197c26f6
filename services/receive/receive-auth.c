/* SPDX-License-Identifier: MIT */
/*
 * The verifier (receive-auth.h). Two parts, as in receive-commit.c: the
 * requests, whose callbacks live in the event loop, and the worker, one
 * thread that owns the users table and runs crypt_rn() for one request at
 * a time. It touches nothing else and never logs: what the loop should
 * log (a table loaded, a file refused) it leaves under the lock. Hand-over
 * is a mutex and a condition variable one way, an eventfd the other way.
 */
#include <crypt.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "services/receive/receive-auth.h"
#include "services/receive/receive-tls.h"
#include "shared/clock.h"
#include "shared/config.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/users-file.h"

typedef enum RequestState {
        REQUEST_QUEUED,         /* in the worker's queue */
        REQUEST_CHECKING,       /* the worker has it */
        REQUEST_CHECKED,        /* in the done list, or being answered */
} RequestState;

struct AuthRequest {
        AuthVerifier *verifier;
        AuthRequest *prev, *next;       /* in the queue or the done list; under lock */
        RequestState state;             /* under lock */
        char *user;
        char *password;                 /* wiped once checked */
        size_t password_len;
        int result;                     /* the worker's, read by the loop once checked */
        char **senders;
        AuthDoneFn done;                /* the loop's alone; NULL once cancelled */
        void *userdata;
};

typedef struct RequestList {
        AuthRequest *head, *tail;
} RequestList;

/* What the worker last tried to load: a file it read (stat_errno 0), or
 * a stat() that failed; nothing is reloaded or logged again until this
 * changes. */
typedef struct FileSeen {
        bool known;
        int stat_errno;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
} FileSeen;

/*
 * A password that passed crypt, remembered for AUTH_CACHE_TTL_USEC: an
 * app server that opens a connection per message (Django's send_mail()
 * does) would otherwise cost a whole yescrypt run, ~60 ms of CPU, per
 * message. Kept: the user, the hash it was checked against (a changed,
 * removed or locked entry no longer matches) and HMAC-SHA256 of the
 * password under a key drawn at start that never leaves this process;
 * never the password. The trade, as Dovecot's auth_cache makes it: whoever
 * can read this process's memory can test guesses at HMAC speed rather
 * than yescrypt's, for the users who logged in within the TTL.
 */
typedef struct CacheEntry {
        char *user;
        char *hash;
        uint8_t mac[TLS_HMAC_SHA256_SIZE];
        uint64_t until;                 /* CLOCK_MONOTONIC, µs */
} CacheEntry;

typedef struct Worker {
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;                      /* under lock */
        RequestList queue;              /* under lock */
        RequestList checked;            /* under lock */
        char *load_error;               /* under lock: for the loop to log */
        bool load_error_kept;           /* under lock: the table loaded before is kept */
        bool loaded;                    /* under lock: a table was loaded, for the loop to log */
        size_t loaded_users;
        int event_fd;                   /* readable when there is something for the loop */

        /* the worker's alone once started */
        char *users_path;
        uid_t service_uid;
        UsersFile table;
        bool have_table;
        FileSeen seen;
        /* crypt's setting for a user without a usable hash of their own:
         * one of the table's hashes, so the time is that of a real check */
        char timing_setting[CRYPT_OUTPUT_SIZE];
        struct crypt_data *crypt;
        uint8_t cache_key[32];
        CacheEntry *cache;
        size_t n_cache;
        uint64_t crypt_runs;            /* under lock: counted for auth_verifier_stats() */
        uint64_t cache_hits;            /* under lock */
} Worker;

struct AuthVerifier {
        sd_event *event;
        sd_event_source *event_source;  /* the worker's eventfd */
        Worker worker;
};

static void list_append(RequestList *l, AuthRequest *r) {
        r->prev = l->tail;
        r->next = NULL;
        if (l->tail)
                l->tail->next = r;
        else
                l->head = r;
        l->tail = r;
}

static void list_remove(RequestList *l, AuthRequest *r) {
        if (r->prev)
                r->prev->next = r->next;
        else
                l->head = r->next;
        if (r->next)
                r->next->prev = r->prev;
        else
                l->tail = r->prev;
        r->prev = r->next = NULL;
}

static AuthRequest *request_free(AuthRequest *r) {
        if (!r)
                return NULL;
        if (r->password) {
                explicit_bzero(r->password, r->password_len);
                free(r->password);
        }
        free(r->user);
        strv_free(r->senders);
        free(r);
        return NULL;
}

static void list_free(RequestList *l) {
        while (l->head) {
                AuthRequest *r = l->head;

                list_remove(l, r);
                request_free(r);
        }
}

/* Leaves something for the loop to log; takes @error. */
static void worker_report(Worker *w, char *error, bool loaded, size_t n_users) {
        uint64_t one = 1;

        pthread_mutex_lock(&w->lock);
        if (error) {
                free(w->load_error);
                w->load_error = error;
                w->load_error_kept = w->have_table;
        }
        if (loaded) {
                w->loaded = true;
                w->loaded_users = n_users;
        }
        (void) write(w->event_fd, &one, sizeof(one));
        pthread_mutex_unlock(&w->lock);
}

/* A hash crypt_rn() can compute: of a current method, or of an old one
 * (md5crypt, ...) that libxcrypt still computes; which hashes a users
 * file may hold is the users file's business. */
static bool hash_usable(const char *h) {
        int c = crypt_checksalt(h);

        return c == CRYPT_SALT_OK || c == CRYPT_SALT_METHOD_LEGACY;
}

static void worker_set_timing_setting(Worker *w) {
        for (size_t i = 0; i < w->table.n_users; i++) {
                const char *h = w->table.users[i].hash;

                if (h && crypt_checksalt(h) == CRYPT_SALT_OK && strlen(h) < sizeof(w->timing_setting)) {
                        strcpy(w->timing_setting, h);
                        return;
                }
        }
        /* no usable hash: one of the default method and cost, which is what
         * new passwords get */
        if (!crypt_gensalt_rn(NULL, 0, NULL, 0, w->timing_setting, sizeof(w->timing_setting)))
                w->timing_setting[0] = 0;
}

/* Loads the users file again if it is not the one loaded (or last tried). */
static void worker_reload(Worker *w) {
        _cleanup_free_ char *error = NULL;
        UsersFile table = {};
        struct stat st;
        FileSeen now;
        int r;

        if (stat(w->users_path, &st) < 0)
                now = (FileSeen) { .known = true, .stat_errno = errno };
        else
                now = (FileSeen) {
                        .known = true,
                        .dev = st.st_dev,
                        .ino = st.st_ino,
                        .size = st.st_size,
                        .mtime = st.st_mtim,
                };
        if (w->seen.known && w->seen.stat_errno == now.stat_errno && w->seen.dev == now.dev &&
            w->seen.ino == now.ino && w->seen.size == now.size && w->seen.mtime.tv_sec == now.mtime.tv_sec &&
            w->seen.mtime.tv_nsec == now.mtime.tv_nsec)
                return;
        w->seen = now;

        if (now.stat_errno != 0) {
                /* A file that is gone names no users any more; other errors
                 * (a permission set wrong while editing) keep the table. */
                if (now.stat_errno == ENOENT) {
                        users_file_done(&w->table);
                        w->have_table = false;
                }
                /* %m, not strerror(): this is not the only thread */
                errno = now.stat_errno;
                if (asprintf(&error, "%s: %m", w->users_path) < 0)
                        error = NULL;
                worker_report(w, TAKE_PTR(error), false, 0);
                return;
        }

        r = users_file_load(AT_FDCWD, w->users_path, w->service_uid, &table, &error);
        if (r < 0) {
                errno = -r;
                if (!error && asprintf(&error, "%s: %m", w->users_path) < 0)
                        error = NULL;
                worker_report(w, TAKE_PTR(error), false, 0);
                return;
        }
        users_file_done(&w->table);
        w->table = table;
        w->have_table = true;
        worker_set_timing_setting(w);
        worker_report(w, NULL, true, table.n_users);
}

static bool strings_equal_ct(const char *a, const char *b) {
        size_t n = strlen(a);
        unsigned char d = 0;

        /* the lengths are the method's, not a secret */
        if (n != strlen(b))
                return false;
        for (size_t i = 0; i < n; i++)
                d |= (unsigned char) a[i] ^ (unsigned char) b[i];
        return d == 0;
}

static char **senders_copy(const UserEntry *u) {
        char **l = calloc(u->n_senders + 1, sizeof(char *));

        if (!l)
                return NULL;
        for (size_t i = 0; i < u->n_senders; i++) {
                l[i] = strdup(u->senders[i]);
                if (!l[i]) {
                        strv_free(l);
                        return NULL;
                }
        }
        return l;
}

static void cache_entry_done(CacheEntry *e) {
        free(e->user);
        free(e->hash);
        explicit_bzero(e, sizeof(*e));
}

/* HMAC over the hash, the user and the password, each NUL-terminated. */
static int cache_mac(Worker *w, const AuthRequest *r, const char *hash, uint8_t ret[static TLS_HMAC_SHA256_SIZE]) {
        size_t nh = strlen(hash) + 1, nu = strlen(r->user) + 1, n = nh + nu + r->password_len;
        uint8_t *b = malloc(n);
        int k;

        if (!b)
                return -ENOMEM;
        memcpy(b, hash, nh);
        memcpy(b + nh, r->user, nu);
        memcpy(b + nh + nu, r->password, r->password_len);
        k = tls_hmac_sha256(w->cache_key, sizeof(w->cache_key), b, n, ret);
        explicit_bzero(b, n);
        free(b);
        return k;
}

static CacheEntry *cache_find(Worker *w, const char *user) {
        for (size_t i = 0; i < w->n_cache; i++)
                if (streq(w->cache[i].user, user))
                        return &w->cache[i];
        return NULL;
}

/* Whether @r's password is the one that passed crypt for @u's current
 * hash within the TTL. */
static bool cache_hit(Worker *w, const AuthRequest *r, const UserEntry *u, uint64_t now) {
        uint8_t mac[TLS_HMAC_SHA256_SIZE];
        CacheEntry *e = cache_find(w, r->user);
        unsigned char d = 0;

        if (!e || now >= e->until || !streq(e->hash, u->hash) || cache_mac(w, r, u->hash, mac) < 0)
                return false;
        for (size_t i = 0; i < sizeof(mac); i++)
                d |= mac[i] ^ e->mac[i];
        explicit_bzero(mac, sizeof(mac));
        return d == 0;
}

/* Remembers a password that passed; expired entries go first. A failure
 * to remember only costs the next check a crypt run. */
static void cache_store(Worker *w, const AuthRequest *r, const UserEntry *u, uint64_t now) {
        CacheEntry *e;
        uint8_t mac[TLS_HMAC_SHA256_SIZE];

        for (size_t i = 0; i < w->n_cache;)
                if (now >= w->cache[i].until) {
                        cache_entry_done(&w->cache[i]);
                        w->cache[i] = w->cache[--w->n_cache];
                } else
                        i++;
        if (cache_mac(w, r, u->hash, mac) < 0)
                return;
        e = cache_find(w, r->user);
        if (!e) {
                CacheEntry *c = reallocarray(w->cache, w->n_cache + 1, sizeof(CacheEntry));

                if (!c)
                        return;
                w->cache = c;
                e = &w->cache[w->n_cache];
                *e = (CacheEntry) { .user = strdup(r->user) };
                if (!e->user)
                        return;
                w->n_cache++;
        }
        free(e->hash);
        e->hash = strdup(u->hash);
        if (!e->hash) {
                cache_entry_done(e);
                *e = w->cache[--w->n_cache];
                return;
        }
        memcpy(e->mac, mac, sizeof(mac));
        e->until = now + AUTH_CACHE_TTL_USEC;
}

static void worker_check(Worker *w, AuthRequest *r) {
        const UserEntry *u = NULL;
        const char *setting, *out;
        uint64_t now = now_monotonic_usec();
        bool usable;

        worker_reload(w);
        if (!w->have_table) {
                r->result = -EIO;
                goto wipe;
        }

        u = users_file_find(&w->table, r->user);
        usable = u && !u->locked && u->hash && hash_usable(u->hash);
        if (usable && cache_hit(w, r, u, now)) {
                pthread_mutex_lock(&w->lock);
                w->cache_hits++;
                pthread_mutex_unlock(&w->lock);
                r->senders = senders_copy(u);
                r->result = r->senders ? 0 : -EIO;
                goto wipe;
        }
        /* an unknown or locked user costs a crypt run like a known one */
        setting = usable ? u->hash : w->timing_setting;
        out = crypt_rn(r->password, setting, w->crypt, sizeof(*w->crypt));
        pthread_mutex_lock(&w->lock);
        w->crypt_runs++;
        pthread_mutex_unlock(&w->lock);
        if (!out)
                r->result = errno == ENOMEM ? -EIO : -EACCES;
        else if (!usable || out[0] == '*' || !strings_equal_ct(out, u->hash))
                r->result = -EACCES;
        else {
                cache_store(w, r, u, now);
                r->senders = senders_copy(u);
                r->result = r->senders ? 0 : -EIO;
        }

wipe:
        explicit_bzero(r->password, r->password_len);
        explicit_bzero(w->crypt, sizeof(*w->crypt));
}

static void *worker_main(void *userdata) {
        Worker *w = userdata;

        /* the table is there before the first request, and a broken file
         * is logged at start */
        worker_reload(w);

        pthread_mutex_lock(&w->lock);
        for (;;) {
                AuthRequest *r;
                uint64_t one = 1;

                if (w->stop)
                        break;
                r = w->queue.head;
                if (!r) {
                        pthread_cond_wait(&w->cond, &w->lock);
                        continue;
                }
                list_remove(&w->queue, r);
                r->state = REQUEST_CHECKING;
                pthread_mutex_unlock(&w->lock);
                worker_check(w, r);
                pthread_mutex_lock(&w->lock);
                r->state = REQUEST_CHECKED;
                list_append(&w->checked, r);
                (void) write(w->event_fd, &one, sizeof(one));
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* Ends the thread after the check it is running, if any. */
static void worker_stop(Worker *w) {
        if (!w->started)
                return;
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        w->started = false;
}

static int on_event(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        AuthVerifier *v = userdata;
        Worker *w = &v->worker;
        _cleanup_free_ char *error = NULL;
        RequestList batch;
        bool loaded, kept;
        size_t n_users;
        uint64_t x;

        (void) read(w->event_fd, &x, sizeof(x));
        pthread_mutex_lock(&w->lock);
        batch = w->checked;
        w->checked = (RequestList) {};
        error = TAKE_PTR(w->load_error);
        kept = w->load_error_kept;
        loaded = w->loaded;
        n_users = w->loaded_users;
        w->loaded = false;
        pthread_mutex_unlock(&w->lock);

        if (loaded)
                log_info("Users file %s loaded: %zu users.", w->users_path, n_users);
        if (error)
                log_error("Users file not loaded, %s: %s",
                          kept ? "the users loaded before stay" : "AUTH is refused until it is fixed", error);

        /* A @done may cancel any request, this batch's too: it then only
         * loses its callback, and is freed below like the others. */
        for (AuthRequest *r = batch.head; r; r = r->next) {
                AuthDoneFn done = r->done;

                if (!done)
                        continue;
                r->done = NULL;
                done(r->result, TAKE_PTR(r->senders), r->userdata);
        }
        list_free(&batch);
        return 0;
}

int auth_verifier_new(sd_event *e, const char *users_path, uid_t service_uid, AuthVerifier **ret) {
        _cleanup_(auth_verifier_freep) AuthVerifier *v = NULL;
        Worker *w;
        int r;

        v = calloc(1, sizeof(AuthVerifier));
        if (!v)
                return -ENOMEM;
        v->event = sd_event_ref(e);
        w = &v->worker;
        *w = (Worker) {
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .cond = PTHREAD_COND_INITIALIZER,
                .event_fd = -EBADF,
                .service_uid = service_uid,
        };
        w->users_path = strdup(users_path);
        w->crypt = calloc(1, sizeof(*w->crypt));
        if (!w->users_path || !w->crypt)
                return -ENOMEM;
        if (getrandom(w->cache_key, sizeof(w->cache_key), 0) != sizeof(w->cache_key))
                return -EIO;
        w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->event_fd < 0)
                return -errno;
        r = sd_event_add_io(e, &v->event_source, w->event_fd, EPOLLIN, on_event, v);
        if (r < 0)
                return r;
        r = pthread_create(&w->thread, NULL, worker_main, w);
        if (r != 0)
                return -r;
        w->started = true;
        *ret = TAKE_PTR(v);
        return 0;
}

AuthVerifier *auth_verifier_free(AuthVerifier *v) {
        Worker *w;

        if (!v)
                return NULL;
        w = &v->worker;
        worker_stop(w);
        list_free(&w->queue);
        list_free(&w->checked);
        free(w->load_error);
        users_file_done(&w->table);
        if (w->crypt) {
                explicit_bzero(w->crypt, sizeof(*w->crypt));
                free(w->crypt);
        }
        for (size_t i = 0; i < w->n_cache; i++)
                cache_entry_done(&w->cache[i]);
        free(w->cache);
        explicit_bzero(w->cache_key, sizeof(w->cache_key));
        free(w->users_path);
        sd_event_source_disable_unref(v->event_source);
        safe_close(w->event_fd);
        sd_event_unref(v->event);
        free(v);
        return NULL;
}

int auth_verify(AuthVerifier *v, const char *user, const char *password, AuthDoneFn done, void *userdata,
                AuthRequest **ret) {
        Worker *w = &v->worker;
        AuthRequest *r;

        r = calloc(1, sizeof(AuthRequest));
        if (!r)
                return -ENOMEM;
        *r = (AuthRequest) {
                .verifier = v,
                .state = REQUEST_QUEUED,
                .done = done,
                .userdata = userdata,
                .password_len = strlen(password),
        };
        r->user = strdup(user);
        r->password = strdup(password);
        if (!r->user || !r->password) {
                request_free(r);
                return -ENOMEM;
        }

        pthread_mutex_lock(&w->lock);
        list_append(&w->queue, r);
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        if (ret)
                *ret = r;
        return 0;
}

void auth_request_cancel(AuthRequest *r) {
        Worker *w;

        if (!r)
                return;
        w = &r->verifier->worker;
        pthread_mutex_lock(&w->lock);
        if (r->state == REQUEST_QUEUED) {
                list_remove(&w->queue, r);
                pthread_mutex_unlock(&w->lock);
                request_free(r);
                return;
        }
        /* the worker has it, or it waits for the loop: freed there */
        r->done = NULL;
        pthread_mutex_unlock(&w->lock);
}

void auth_verifier_stats(AuthVerifier *v, uint64_t *ret_crypt_runs, uint64_t *ret_cache_hits) {
        Worker *w = &v->worker;

        pthread_mutex_lock(&w->lock);
        *ret_crypt_runs = w->crypt_runs;
        *ret_cache_hits = w->cache_hits;
        pthread_mutex_unlock(&w->lock);
}
