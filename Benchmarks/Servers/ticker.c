/*
 * ticker.c - a small single-threaded epoll SSE server for the latency benchmarks: many
 * connections, each sent a small timestamped event every interval, optionally dropped after a
 * number of events. Written in C so that the server's own cost stays out of the client's figures
 * (a separate process, no allocation per event, one timerfd for all connections).
 *
 *   gcc -O2 -o /tmp/ticker ticker.c
 *   /tmp/ticker [PORT=0]            prints "port=N" on stdout once it listens
 *   curl -sN 'http://127.0.0.1:N/?interval_us=100000&drop_after=5'
 *
 * Query parameters of each request (all optional):
 *     interval_us=U   microseconds between events on the connection (default 1000000)
 *     pad=B           bytes of padding in each event's data (default 32)
 *     drop_after=K    after the K-th event, close the connection at the next tick (0: never)
 *     drop=rst        drop with a reset (SO_LINGER 0) instead of a clean close (FIN)
 *     phase=spread    first event at a pseudo-random point within the first interval (spreads
 *                     the events of many connections evenly over time) instead of at once
 *     client=ID       0..65535: ties reconnects of one client together (see drop= below)
 *
 * Every event is
 *     id: C-K
 *     data: t=SEND c=C k=K acc=ACCEPT drop=DROP pad=xxxx
 * with SEND the CLOCK_MONOTONIC nanoseconds read just before the write, C the connection's
 * number, K the event's number on it (1-based), ACCEPT when the connection was accepted, and DROP
 * when the server last dropped a connection of the same client (only in the first event of the
 * next connection of that client, else 0). Clients on the same machine read the same clock, so
 * "receipt - SEND" is the delivery latency and "receipt - DROP" the whole reconnect time.
 *
 * It runs until killed (SIGTERM, or SIGINT).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define MAX_CLIENT 65536
#define REQ_MAX 8192
#define OUT_MAX 65536

struct conn {
    int open;
    uint32_t gen;      /* bumped on close, so stale timer entries are ignored */
    int established;   /* request head read, response head sent */
    uint64_t number;   /* connection number, from 1 */
    uint64_t accepted; /* CLOCK_MONOTONIC ns */
    size_t req_len;
    char req[REQ_MAX];
    /* settings from the query */
    uint64_t interval_ns;
    long pad;
    long drop_after;
    int drop_rst;
    int client; /* -1: none */
    long sent;  /* events sent */
    /* bytes the socket did not take yet */
    size_t out_len;
    char *out;
};

struct timer { uint64_t due; int fd; uint32_t gen; };

static struct conn *conns;
static uint64_t drops[MAX_CLIENT];
static struct timer *heap;
static size_t heap_len, heap_cap;
static int ep, tfd;
static uint64_t next_number = 1;
static char padding[OUT_MAX];

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void heap_push(struct timer t) {
    if (heap_len == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = realloc(heap, heap_cap * sizeof *heap);
        if (!heap) { perror("realloc"); exit(1); }
    }
    size_t i = heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (heap[p].due <= t.due) break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = t;
}

static struct timer heap_pop(void) {
    struct timer top = heap[0], last = heap[--heap_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t md = last.due;
        if (l < heap_len && heap[l].due < md) { m = l; md = heap[l].due; }
        if (r < heap_len && heap[r].due < md) { m = r; }
        if (m == i) break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_len) heap[i] = last;
    return top;
}

static void arm_timer(void) {
    struct itimerspec its = {0};
    if (heap_len) {
        uint64_t due = heap[0].due ? heap[0].due : 1;
        its.it_value.tv_sec = (time_t)(due / 1000000000ull);
        its.it_value.tv_nsec = (long)(due % 1000000000ull);
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void close_conn(int fd, int rst) {
    struct conn *c = &conns[fd];
    if (!c->open) return;
    if (rst) {
        struct linger l = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
    free(c->out);
    c->out = NULL;
    c->out_len = 0;
    c->open = 0;
    c->gen++;
}

/* Sends what is pending; returns -1 when the connection failed (and is closed). */
static int flush_out(int fd) {
    struct conn *c = &conns[fd];
    while (c->out_len) {
        ssize_t w = send(fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            close_conn(fd, 0);
            return -1;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0), .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    return 0;
}

/* Writes bytes, keeping what the socket does not take; a client too slow to take OUT_MAX bytes
 * is dropped. */
static int write_out(int fd, const char *p, size_t n) {
    struct conn *c = &conns[fd];
    if (!c->out_len) {
        for (;;) {
            ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) break;
                close_conn(fd, 0);
                return -1;
            }
            p += w;
            n -= (size_t)w;
            if (!n) return 0;
        }
    }
    if (!c->out) c->out = malloc(OUT_MAX);
    if (!c->out || c->out_len + n > OUT_MAX) {
        fprintf(stderr, "ticker: connection %llu too slow, dropped\n", (unsigned long long)c->number);
        close_conn(fd, 1);
        return -1;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return flush_out(fd);
}

static long query_long(const char *req, const char *key, long dflt) {
    const char *eol = strstr(req, "\r\n");
    const char *q = strchr(req, '?');
    if (!q || (eol && q > eol)) return dflt;
    size_t kl = strlen(key);
    for (const char *p = q + 1; p && *p && (!eol || p < eol); p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            if (strncmp(v, "rst", 3) == 0 || strncmp(v, "spread", 6) == 0) return 1;
            if (strncmp(v, "fin", 3) == 0 || strncmp(v, "now", 3) == 0) return 0;
            return strtol(v, NULL, 10);
        }
    }
    return dflt;
}

static void send_event(int fd) {
    struct conn *c = &conns[fd];
    char buf[OUT_MAX];
    uint64_t drop = 0;
    if (c->client >= 0 && c->sent == 0) {
        drop = drops[c->client];
        drops[c->client] = 0;
    }
    c->sent++;
    long pad = c->pad;
    uint64_t t = now_ns();
    int n = snprintf(buf, sizeof buf - 3,
                     "id: %llu-%ld\ndata: t=%llu c=%llu k=%ld acc=%llu drop=%llu pad=%.*s\n\n",
                     (unsigned long long)c->number, c->sent, (unsigned long long)t,
                     (unsigned long long)c->number, c->sent, (unsigned long long)c->accepted,
                     (unsigned long long)drop, (int)pad, padding);
    if (n < 0 || n >= (int)sizeof buf - 3) n = (int)sizeof buf - 3;
    write_out(fd, buf, (size_t)n);
}

static void on_tick(struct timer t) {
    struct conn *c = &conns[t.fd];
    if (!c->open || c->gen != t.gen || !c->established) return;
    if (c->drop_after > 0 && c->sent >= c->drop_after) {
        if (c->client >= 0) drops[c->client] = now_ns();
        close_conn(t.fd, c->drop_rst);
        return;
    }
    send_event(t.fd);
    if (!c->open) return;
    uint64_t next = t.due + c->interval_ns, now = now_ns();
    if (next < now) next = now; /* behind: do not try to catch up in a burst */
    heap_push((struct timer){next, t.fd, c->gen});
}

static void on_request(int fd) {
    struct conn *c = &conns[fd];
    c->interval_ns = (uint64_t)query_long(c->req, "interval_us", 1000000) * 1000ull;
    if (c->interval_ns == 0) c->interval_ns = 1000;
    c->pad = query_long(c->req, "pad", 32);
    if (c->pad < 0) c->pad = 0;
    if (c->pad > OUT_MAX - 512) c->pad = OUT_MAX - 512;
    c->drop_after = query_long(c->req, "drop_after", 0);
    c->drop_rst = query_long(c->req, "drop", 0) == 1;
    long client = query_long(c->req, "client", -1);
    c->client = client >= 0 && client < MAX_CLIENT ? (int)client : -1;
    int spread = query_long(c->req, "phase", 0) == 1;
    static const char head[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\n\r\n";
    c->established = 1;
    if (write_out(fd, head, sizeof head - 1)) return;
    if (spread) {
        /* Knuth's multiplicative hash of the connection number: even phases, no clumps. */
        uint64_t slot = (c->number * 2654435761ull) % 1000ull;
        heap_push((struct timer){now_ns() + c->interval_ns * slot / 1000ull, fd, c->gen});
    } else {
        send_event(fd);
        if (c->open) heap_push((struct timer){now_ns() + c->interval_ns, fd, c->gen});
    }
}

static void on_readable(int fd) {
    struct conn *c = &conns[fd];
    for (;;) {
        char discard[4096];
        char *dst = c->established ? discard : c->req + c->req_len;
        size_t room = c->established ? sizeof discard : REQ_MAX - 1 - c->req_len;
        if (room == 0) { close_conn(fd, 1); return; }
        ssize_t r = recv(fd, dst, room, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            close_conn(fd, 0);
            return;
        }
        if (r == 0) { close_conn(fd, 0); return; }
        if (!c->established) {
            c->req_len += (size_t)r;
            c->req[c->req_len] = 0;
            if (strstr(c->req, "\r\n\r\n")) {
                on_request(fd);
                if (!c->open) return;
            }
        }
    }
}

static void on_accept(int ls) {
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) perror("ticker: accept");
            return;
        }
        if (fd >= MAX_FD) { close(fd); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = &conns[fd];
        uint32_t gen = c->gen;
        memset(c, 0, sizeof *c);
        c->gen = gen + 1;
        c->open = 1;
        c->number = next_number++;
        c->accepted = now_ns();
        c->client = -1;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max < MAX_FD ? rl.rlim_max : MAX_FD;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    memset(padding, 'x', sizeof padding);
    conns = calloc(MAX_FD, sizeof *conns);
    if (!conns) { perror("calloc"); return 1; }

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096) ||
        getsockname(ls, (struct sockaddr *)&a, &al)) {
        perror("ticker: bind/listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    ev.data.fd = tfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    printf("port=%d\n", ntohs(a.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("ticker: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                on_accept(ls);
            } else if (fd == tfd) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) < 0) { /* spurious */ }
            } else if (conns[fd].open) {
                if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                    close_conn(fd, 0);
                    continue;
                }
                if (evs[i].events & EPOLLOUT) {
                    if (flush_out(fd)) continue;
                }
                if (evs[i].events & EPOLLIN) on_readable(fd);
            }
        }
        uint64_t now = now_ns();
        while (heap_len && heap[0].due <= now) {
            on_tick(heap_pop());
            now = now_ns();
        }
        arm_timer();
    }
}
