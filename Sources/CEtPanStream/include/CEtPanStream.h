#ifndef AIRGATE_CETPANSTREAM_H
#define AIRGATE_CETPANSTREAM_H

// A libetpan stream driver of our own. libetpan's socket and TLS drivers wait with select(),
// which aborts the process on a descriptor numbered 1024 or more, and its GnuTLS build verifies
// no certificate. This driver waits with poll(), can be cancelled from another thread, and
// does TLS with GnuTLS verifying the chain and the host name.

#include <stddef.h>
#include <libetpan/libetpan.h>

/// Errors, negative so that they never collide with a descriptor.
enum {
    AIRGATE_STREAM_OK = 0,
    AIRGATE_STREAM_ERR_RESOLVE = -1,
    AIRGATE_STREAM_ERR_CONNECT = -2,
    AIRGATE_STREAM_ERR_TIMEOUT = -3,
    AIRGATE_STREAM_ERR_TLS_HANDSHAKE = -4,
    AIRGATE_STREAM_ERR_TLS_VERIFY = -5,
    AIRGATE_STREAM_ERR_TLS_SETUP = -6,
    AIRGATE_STREAM_ERR_CANCELLED = -7,
    AIRGATE_STREAM_ERR_MEMORY = -8,
};

/// Opens a TCP connection to host:port within timeout_ms. Returns the descriptor (non-blocking)
/// or an AIRGATE_STREAM_ERR_* value; `detail` (may be NULL) receives a message.
int airgate_tcp_connect(const char * host, const char * port, int timeout_ms, char * detail, size_t detail_size);

/// Wraps a connected descriptor in a libetpan stream. Every read and write waits at most
/// timeout_ms; the stream owns the descriptor from here on.
mailstream_low * airgate_stream_new(int fd, int timeout_ms);

/// Starts TLS on the stream (implicit TLS right after connecting, or after STARTTLS was
/// accepted). `server_name` is sent as SNI and checked against the certificate when `verify`
/// is non-zero; `ca_file` (may be NULL) adds trusted roots to the system's.
int airgate_stream_start_tls(mailstream_low * low, const char * server_name, const char * ca_file, int verify,
                             char * detail, size_t detail_size);

/// Makes the current and every later wait on the stream fail at once. Safe from any thread.
void airgate_stream_cancel(mailstream_low * low);

/// Waits until the stream has bytes to read, at most timeout_ms, or until cancelled or
/// `airgate_stream_wake` is called. Returns 1 readable, 0 timeout, 2 woken, negative on error.
/// Bytes already buffered by libetpan's mailstream count as readable.
int airgate_stream_wait_readable(mailstream * stream, int timeout_ms);

/// Ends a pending or future `airgate_stream_wait_readable` with "woken". Safe from any thread.
void airgate_stream_wake(mailstream_low * low);

/// Whether a read or write has ended the stream (end of file, error, timeout, cancel): a
/// parse error after that is a lost connection, not a server speaking nonsense.
int airgate_stream_failed(mailstream_low * low);

/// Whether the stream is TLS-protected.
int airgate_stream_is_tls(mailstream_low * low);

// Readiness of many descriptors on one thread (epoll), for connections in IMAP IDLE.
// Thin wrappers because epoll_event is a packed struct Swift cannot use directly.

/// A new epoll instance with an eventfd registered for wake-ups; returns the epoll descriptor
/// and stores the eventfd in *wake_fd, or -1.
int airgate_poller_create(int * wake_fd);
/// Watches fd once for readability (or hang-up); 0 or -1.
int airgate_poller_add(int poller, int fd);
/// Stops watching fd; 0 or -1.
int airgate_poller_remove(int poller, int fd);
/// Waits for events; stores up to max ready descriptors in fds (the wake eventfd is drained
/// and reported like any other). Returns the count, or -1 (EINTR is retried).
int airgate_poller_wait(int poller, int * fds, int max, int timeout_ms);
/// Makes a pending airgate_poller_wait return.
void airgate_poller_wake(int wake_fd);

#endif
