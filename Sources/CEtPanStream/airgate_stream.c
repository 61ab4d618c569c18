#define _GNU_SOURCE
#include "CEtPanStream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

struct airgate_stream {
    int fd;
    int timeout_ms;
    // Two self-pipes: one makes every wait fail for good (cancel), one ends a readiness wait
    // once (wake). Writing a byte is async-signal- and thread-safe.
    int cancel_pipe[2];
    int wake_pipe[2];
    atomic_int cancelled;
    // Set when a read or write ended the stream: end of file, error, timeout or cancel.
    atomic_int failed;
    gnutls_session_t tls;
    gnutls_certificate_credentials_t credentials;
    // Credentials from the shared cache are not freed with the stream.
    int owns_credentials;
};

// Loading the system's trusted roots takes milliseconds; connections with the same trust
// settings share one credentials object (GnuTLS allows sharing between sessions).
#define CREDENTIAL_CACHE_SIZE 32
static struct {
    char * ca_file;
    int verify;
    gnutls_certificate_credentials_t credentials;
} credential_cache[CREDENTIAL_CACHE_SIZE];
static int credential_cache_count = 0;
static pthread_mutex_t credential_cache_lock = PTHREAD_MUTEX_INITIALIZER;

// Builds credentials for (ca_file, verify); 0 or an AIRGATE_STREAM_ERR_* value.
static int load_credentials(const char * ca_file, int verify, gnutls_certificate_credentials_t * out,
                            char * detail, size_t detail_size);

static int shared_credentials(const char * ca_file, int verify, gnutls_certificate_credentials_t * out, int * owned,
                              char * detail, size_t detail_size) {
    const char * key = ca_file != NULL ? ca_file : "";
    pthread_mutex_lock(&credential_cache_lock);
    for (int i = 0; i < credential_cache_count; i++) {
        if (credential_cache[i].verify == verify && strcmp(credential_cache[i].ca_file, key) == 0) {
            *out = credential_cache[i].credentials;
            *owned = 0;
            pthread_mutex_unlock(&credential_cache_lock);
            return AIRGATE_STREAM_OK;
        }
    }
    int r = load_credentials(ca_file, verify, out, detail, detail_size);
    *owned = 1;
    if (r == AIRGATE_STREAM_OK && credential_cache_count < CREDENTIAL_CACHE_SIZE) {
        char * copy = strdup(key);
        if (copy != NULL) {
            credential_cache[credential_cache_count].ca_file = copy;
            credential_cache[credential_cache_count].verify = verify;
            credential_cache[credential_cache_count].credentials = *out;
            credential_cache_count++;
            *owned = 0;
        }
    }
    pthread_mutex_unlock(&credential_cache_lock);
    return r;
}

static void set_detail(char * detail, size_t size, const char * format, const char * what) {
    if (detail != NULL && size > 0) {
        snprintf(detail, size, format, what);
    }
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int make_pipe(int p[2]) {
    return pipe2(p, O_NONBLOCK | O_CLOEXEC);
}

static void drain(int fd) {
    char buffer[64];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

// Waits for `events` on the socket until the deadline. Returns 0 when ready, or an error.
static int wait_socket(struct airgate_stream * s, short events, long long deadline) {
    for (;;) {
        if (atomic_load(&s->cancelled)) {
            return AIRGATE_STREAM_ERR_CANCELLED;
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            return AIRGATE_STREAM_ERR_TIMEOUT;
        }
        struct pollfd fds[2] = {
            { .fd = s->fd, .events = events },
            { .fd = s->cancel_pipe[0], .events = POLLIN },
        };
        int r = poll(fds, 2, left > 0x7fffffff ? 0x7fffffff : (int) left);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return AIRGATE_STREAM_ERR_CONNECT;
        }
        if (r == 0) {
            return AIRGATE_STREAM_ERR_TIMEOUT;
        }
        if (fds[1].revents != 0) {
            return AIRGATE_STREAM_ERR_CANCELLED;
        }
        // POLLHUP and POLLERR count as ready: the following read or write reports them.
        return 0;
    }
}

int airgate_tcp_connect(const char * host, const char * port, int timeout_ms, char * detail, size_t detail_size) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo * addresses = NULL;
    int r = getaddrinfo(host, port, &hints, &addresses);
    if (r != 0) {
        set_detail(detail, detail_size, "cannot resolve: %s", gai_strerror(r));
        return AIRGATE_STREAM_ERR_RESOLVE;
    }
    long long deadline = now_ms() + timeout_ms;
    int result = AIRGATE_STREAM_ERR_CONNECT;
    set_detail(detail, detail_size, "%s", "no address to connect to");
    for (struct addrinfo * a = addresses; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            set_detail(detail, detail_size, "socket: %s", strerror(errno));
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            set_detail(detail, detail_size, "connect: %s", strerror(errno));
            close(fd);
            continue;
        }
        long long left = deadline - now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int p;
        do {
            p = poll(&pfd, 1, left > 0 ? (int) left : 0);
        } while (p < 0 && errno == EINTR);
        if (p <= 0) {
            set_detail(detail, detail_size, "%s", "connect: timed out");
            result = AIRGATE_STREAM_ERR_TIMEOUT;
            close(fd);
            continue;
        }
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            set_detail(detail, detail_size, "connect: %s", strerror(error));
            result = AIRGATE_STREAM_ERR_CONNECT;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        freeaddrinfo(addresses);
        return fd;
    }
    freeaddrinfo(addresses);
    return result;
}

static ssize_t stream_read_inner(mailstream_low * low, void * buffer, size_t count) {
    struct airgate_stream * s = low->data;
    long long deadline = now_ms() + s->timeout_ms;
    for (;;) {
        if (atomic_load(&s->cancelled)) {
            return -1;
        }
        if (s->tls != NULL) {
            ssize_t r = gnutls_record_recv(s->tls, buffer, count);
            if (r >= 0) {
                return r;
            }
            if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
                short events = gnutls_record_get_direction(s->tls) ? POLLOUT : POLLIN;
                if (wait_socket(s, events, deadline) != 0) {
                    return -1;
                }
                continue;
            }
            // A peer closing without close_notify is still the end of the stream.
            if (r == GNUTLS_E_PREMATURE_TERMINATION) {
                return 0;
            }
            return -1;
        }
        ssize_t r = recv(s->fd, buffer, count, 0);
        if (r >= 0) {
            return r;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return -1;
        }
        if (wait_socket(s, POLLIN, deadline) != 0) {
            return -1;
        }
    }
}

static ssize_t stream_write_inner(mailstream_low * low, const void * buffer, size_t count) {
    struct airgate_stream * s = low->data;
    long long deadline = now_ms() + s->timeout_ms;
    size_t written = 0;
    while (written < count) {
        if (atomic_load(&s->cancelled)) {
            return -1;
        }
        ssize_t r;
        if (s->tls != NULL) {
            r = gnutls_record_send(s->tls, (const char *) buffer + written, count - written);
            if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
                short events = gnutls_record_get_direction(s->tls) ? POLLOUT : POLLIN;
                if (wait_socket(s, events, deadline) != 0) {
                    return -1;
                }
                continue;
            }
            if (r < 0) {
                return -1;
            }
        } else {
            r = send(s->fd, (const char *) buffer + written, count - written, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    return -1;
                }
                if (wait_socket(s, POLLOUT, deadline) != 0) {
                    return -1;
                }
                continue;
            }
        }
        written += (size_t) r;
    }
    return (ssize_t) count;
}

static ssize_t stream_read(mailstream_low * low, void * buffer, size_t count) {
    ssize_t r = stream_read_inner(low, buffer, count);
    if (r <= 0 && count > 0) {
        atomic_store(&((struct airgate_stream *) low->data)->failed, 1);
    }
    return r;
}

static ssize_t stream_write(mailstream_low * low, const void * buffer, size_t count) {
    ssize_t r = stream_write_inner(low, buffer, count);
    if (r < 0) {
        atomic_store(&((struct airgate_stream *) low->data)->failed, 1);
    }
    return r;
}

int airgate_stream_failed(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    return atomic_load(&s->failed);
}

static int stream_close(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    return 0;
}

static int stream_get_fd(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    return s->fd;
}

static void stream_free(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    if (s != NULL) {
        if (s->tls != NULL) {
            gnutls_deinit(s->tls);
        }
        if (s->credentials != NULL && s->owns_credentials) {
            gnutls_certificate_free_credentials(s->credentials);
        }
        if (s->fd >= 0) {
            close(s->fd);
        }
        close(s->cancel_pipe[0]);
        close(s->cancel_pipe[1]);
        close(s->wake_pipe[0]);
        close(s->wake_pipe[1]);
        free(s);
    }
    low->data = NULL;
    free(low);
}

static void stream_cancel(mailstream_low * low) {
    airgate_stream_cancel(low);
}

static struct mailstream_cancel * stream_get_cancel(mailstream_low * low) {
    (void) low;
    return NULL;
}

static mailstream_low_driver airgate_driver = {
    .mailstream_read = stream_read,
    .mailstream_write = stream_write,
    .mailstream_close = stream_close,
    .mailstream_get_fd = stream_get_fd,
    .mailstream_free = stream_free,
    .mailstream_cancel = stream_cancel,
    .mailstream_get_cancel = stream_get_cancel,
    .mailstream_get_certificate_chain = NULL,
    .mailstream_setup_idle = NULL,
    .mailstream_unsetup_idle = NULL,
    .mailstream_interrupt_idle = NULL,
};

mailstream_low * airgate_stream_new(int fd, int timeout_ms) {
    struct airgate_stream * s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->fd = fd;
    s->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    if (make_pipe(s->cancel_pipe) != 0) {
        free(s);
        return NULL;
    }
    if (make_pipe(s->wake_pipe) != 0) {
        close(s->cancel_pipe[0]);
        close(s->cancel_pipe[1]);
        free(s);
        return NULL;
    }
    mailstream_low * low = mailstream_low_new(s, &airgate_driver);
    if (low == NULL) {
        close(s->cancel_pipe[0]);
        close(s->cancel_pipe[1]);
        close(s->wake_pipe[0]);
        close(s->wake_pipe[1]);
        free(s);
        return NULL;
    }
    return low;
}

static int load_credentials(const char * ca_file, int verify, gnutls_certificate_credentials_t * out,
                            char * detail, size_t detail_size) {
    gnutls_certificate_credentials_t credentials;
    if (gnutls_certificate_allocate_credentials(&credentials) != GNUTLS_E_SUCCESS) {
        return AIRGATE_STREAM_ERR_MEMORY;
    }
    if (verify) {
        // The system store may be empty (minimal containers); a configured CA file suffices.
        int system = gnutls_certificate_set_x509_system_trust(credentials);
        int added = 0;
        if (ca_file != NULL && ca_file[0] != '\0') {
            added = gnutls_certificate_set_x509_trust_file(credentials, ca_file, GNUTLS_X509_FMT_PEM);
            if (added < 0) {
                set_detail(detail, detail_size, "cannot read CA file: %s", gnutls_strerror(added));
                gnutls_certificate_free_credentials(credentials);
            return AIRGATE_STREAM_ERR_TLS_SETUP;
            }
        }
        if (system <= 0 && added <= 0) {
            set_detail(detail, detail_size, "%s", "no trusted certificate authority (system store empty, no CA file)");
            gnutls_certificate_free_credentials(credentials);
            return AIRGATE_STREAM_ERR_TLS_SETUP;
        }
    }
    *out = credentials;
    return AIRGATE_STREAM_OK;
}

int airgate_stream_start_tls(mailstream_low * low, const char * server_name, const char * ca_file, int verify,
                             char * detail, size_t detail_size) {
    struct airgate_stream * s = low->data;
    if (s->tls != NULL) {
        set_detail(detail, detail_size, "%s", "TLS is already on");
        return AIRGATE_STREAM_ERR_TLS_SETUP;
    }
    int loaded = shared_credentials(ca_file, verify, &s->credentials, &s->owns_credentials, detail, detail_size);
    if (loaded != AIRGATE_STREAM_OK) {
        s->credentials = NULL;
        return loaded;
    }
    if (gnutls_init(&s->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) != GNUTLS_E_SUCCESS) {
        s->tls = NULL;
        return AIRGATE_STREAM_ERR_MEMORY;
    }
    const char * error_position = NULL;
    // TLS 1.2 and 1.3 only.
    int r = gnutls_priority_set_direct(s->tls, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", &error_position);
    if (r == GNUTLS_E_SUCCESS) {
        r = gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, s->credentials);
    }
    if (r == GNUTLS_E_SUCCESS && server_name != NULL && server_name[0] != '\0') {
        // SNI is for names only; a literal address is still verified below.
        struct in6_addr probe;
        if (inet_pton(AF_INET, server_name, &probe) != 1 && inet_pton(AF_INET6, server_name, &probe) != 1) {
            r = gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS, server_name, strlen(server_name));
        }
    }
    if (r != GNUTLS_E_SUCCESS) {
        set_detail(detail, detail_size, "TLS setup: %s", gnutls_strerror(r));
        gnutls_deinit(s->tls);
        s->tls = NULL;
        return AIRGATE_STREAM_ERR_TLS_SETUP;
    }
    if (verify) {
        gnutls_session_set_verify_cert(s->tls, server_name, 0);
    }
    gnutls_transport_set_int(s->tls, s->fd);
    long long deadline = now_ms() + s->timeout_ms;
    for (;;) {
        r = gnutls_handshake(s->tls);
        if (r == GNUTLS_E_SUCCESS) {
            return AIRGATE_STREAM_OK;
        }
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            short events = gnutls_record_get_direction(s->tls) ? POLLOUT : POLLIN;
            int w = wait_socket(s, events, deadline);
            if (w != 0) {
                set_detail(detail, detail_size, "%s", "TLS handshake: timed out or cancelled");
                gnutls_deinit(s->tls);
                s->tls = NULL;
                return w;
            }
            continue;
        }
        if (gnutls_error_is_fatal(r) == 0) {
            continue;
        }
        int result = AIRGATE_STREAM_ERR_TLS_HANDSHAKE;
        if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            gnutls_datum_t text = { NULL, 0 };
            unsigned status = gnutls_session_get_verify_cert_status(s->tls);
            gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
            set_detail(detail, detail_size, "certificate not trusted: %s", text.data != NULL ? (char *) text.data : "?");
            gnutls_free(text.data);
            result = AIRGATE_STREAM_ERR_TLS_VERIFY;
        } else {
            set_detail(detail, detail_size, "TLS handshake: %s", gnutls_strerror(r));
        }
        gnutls_deinit(s->tls);
        s->tls = NULL;
        return result;
    }
}

void airgate_stream_cancel(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    atomic_store(&s->cancelled, 1);
    ssize_t ignored = write(s->cancel_pipe[1], "x", 1);
    (void) ignored;
}

void airgate_stream_wake(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    ssize_t ignored = write(s->wake_pipe[1], "x", 1);
    (void) ignored;
}

int airgate_stream_wait_readable(mailstream * stream, int timeout_ms) {
    if (stream->read_buffer_len > 0) {
        return 1;
    }
    mailstream_low * low = mailstream_get_low(stream);
    struct airgate_stream * s = low->data;
    if (s->tls != NULL && gnutls_record_check_pending(s->tls) > 0) {
        return 1;
    }
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (atomic_load(&s->cancelled)) {
            return AIRGATE_STREAM_ERR_CANCELLED;
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd fds[3] = {
            { .fd = s->fd, .events = POLLIN },
            { .fd = s->cancel_pipe[0], .events = POLLIN },
            { .fd = s->wake_pipe[0], .events = POLLIN },
        };
        int r = poll(fds, 3, left > 0x7fffffff ? 0x7fffffff : (int) left);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return AIRGATE_STREAM_ERR_CONNECT;
        }
        if (r == 0) {
            return 0;
        }
        if (fds[1].revents != 0) {
            return AIRGATE_STREAM_ERR_CANCELLED;
        }
        if (fds[2].revents != 0) {
            drain(s->wake_pipe[0]);
            return 2;
        }
        return 1;
    }
}

int airgate_stream_is_tls(mailstream_low * low) {
    struct airgate_stream * s = low->data;
    return s->tls != NULL;
}
