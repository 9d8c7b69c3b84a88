/*
 * epoll_floor.c - the floor for a client's CPU per event: N raw TCP connections to an SSE server
 * on loopback, one thread, epoll_wait + read and nothing else (events are counted as blank lines,
 * with no parsing, no allocation and no wake-up of anything). streams-bench runs it against the
 * same ticker.c, in the same run, to put the client's CPU per 1,000 events in proportion.
 *
 *   gcc -O2 -o /tmp/epoll_floor epoll_floor.c
 *   /tmp/epoll_floor PORT PATH STREAMS WARMUP_SECONDS MEASURE_SECONDS
 *
 * Prints one line once done: "events=E cpu_seconds=C streams=S" for the measuring window only
 * (after the warm-up), CPU being user + system time of this process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (double)time.tv_sec + (double)time.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: epoll_floor PORT PATH STREAMS WARMUP_SECONDS MEASURE_SECONDS\n");
        return 1;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2];
    int streams = atoi(argv[3]);
    double warmup = atof(argv[4]);
    double measure = atof(argv[5]);

    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (rlim_t)streams + 64) {
        limit.rlim_cur = limit.rlim_max < (rlim_t)streams + 64 ? limit.rlim_max : (rlim_t)streams + 64;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    char request[1024];
    int length = snprintf(request, sizeof request,
                          "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n\r\n", path, port);
    /* Per connection: whether the last byte read was a line feed, to count "\n\n" across reads. */
    unsigned char *after_line_feed = calloc((size_t)streams + 1024, 1);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int index = 0; index < streams; index++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
            write(fd, request, (size_t)length) != length) {
            fprintf(stderr, "epoll_floor: connection %d failed: %s\n", index, strerror(errno));
            return 1;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }

    static char buffer[65536];
    struct epoll_event ready[256];
    double start = now_seconds();
    double measuring_from = start + warmup, end = measuring_from + measure;
    int measuring = 0;
    long long events = 0;
    double cpu_at_start = 0;
    for (;;) {
        double now = now_seconds();
        if (!measuring && now >= measuring_from) {
            measuring = 1;
            events = 0;
            cpu_at_start = cpu_seconds();
        }
        if (now >= end) break;
        int count = epoll_wait(epoll, ready, 256, 100);
        for (int index = 0; index < count; index++) {
            int fd = ready[index].data.fd;
            for (;;) {
                ssize_t n = read(fd, buffer, sizeof buffer);
                if (n > 0) {
                    unsigned char previous = after_line_feed[fd];
                    for (ssize_t at = 0; at < n; at++) {
                        unsigned char is_line_feed = buffer[at] == '\n';
                        if (is_line_feed && previous) events++;
                        previous = is_line_feed;
                    }
                    after_line_feed[fd] = previous;
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
                    close(fd);
                    break;
                } else if (errno == EAGAIN) {
                    break;
                }
            }
        }
    }
    printf("events=%lld cpu_seconds=%.6f streams=%d\n", events, cpu_seconds() - cpu_at_start, streams);
    return 0;
}
