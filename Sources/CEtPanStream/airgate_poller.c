#define _GNU_SOURCE
#include "CEtPanStream.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int airgate_poller_create(int * wake_fd) {
    int poller = epoll_create1(EPOLL_CLOEXEC);
    if (poller < 0) {
        return -1;
    }
    int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) {
        close(poller);
        return -1;
    }
    struct epoll_event event = { .events = EPOLLIN, .data.fd = wake };
    if (epoll_ctl(poller, EPOLL_CTL_ADD, wake, &event) != 0) {
        close(wake);
        close(poller);
        return -1;
    }
    *wake_fd = wake;
    return poller;
}

int airgate_poller_add(int poller, int fd) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.fd = fd };
    return epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event);
}

int airgate_poller_remove(int poller, int fd) {
    return epoll_ctl(poller, EPOLL_CTL_DEL, fd, NULL);
}

int airgate_poller_wait(int poller, int * fds, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) {
        max = 64;
    }
    for (;;) {
        int count = epoll_wait(poller, events, max, timeout_ms);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        for (int i = 0; i < count; i++) {
            fds[i] = events[i].data.fd;
        }
        return count;
    }
}

void airgate_poller_wake(int wake_fd) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd, &one, sizeof one);
    (void) ignored;
}
