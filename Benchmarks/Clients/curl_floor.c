/*
 * curl_floor.c - what libcurl itself costs per event: N streams from one SSE server on loopback,
 * driven as EventSource drives them (libcurl's multi-socket interface over epoll, one thread,
 * the same transfer options), with a write callback that only counts events as blank lines.
 * Between the C floor (epoll_floor.c: epoll_wait + read) and an EventSource, it separates what
 * libcurl adds from what our own parsing and delivery add. streams-bench runs it in the same run.
 *
 *   gcc -O2 -o /tmp/curl_floor curl_floor.c -lcurl
 *   /tmp/curl_floor PORT PATH STREAMS WARMUP_SECONDS MEASURE_SECONDS
 *
 * Prints one line once done: "events=E cpu_seconds=C streams=S rss_before=B rss_all=A" for the
 * measuring window only (after the warm-up), CPU being user + system time of this process, and
 * resident bytes before the first transfer and with all of them open: libcurl's own memory per
 * stream, as the same options cost it.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int epoll;
static long long timer_deadline_ms = -1; /* on the monotonic clock; -1: none */
static long long events;

struct stream {
    int after_line_feed;
};

static long long now_ms(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (long long)time.tv_sec * 1000 + time.tv_nsec / 1000000;
}

static double now_seconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (double)time.tv_sec + (double)time.tv_nsec / 1e9;
}

/* Resident bytes now: the second field of /proc/self/statm, in pages. */
static long long resident_bytes(void) {
    long long size = 0, resident = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (!statm) return 0;
    if (fscanf(statm, "%lld %lld", &size, &resident) != 2) resident = 0;
    fclose(statm);
    return resident * sysconf(_SC_PAGESIZE);
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static size_t on_body(char *bytes, size_t size, size_t count, void *context) {
    struct stream *stream = context;
    size_t length = size * count;
    int previous = stream->after_line_feed;
    for (size_t at = 0; at < length; at++) {
        int is_line_feed = bytes[at] == '\n';
        if (is_line_feed && previous) events++;
        previous = is_line_feed;
    }
    stream->after_line_feed = previous;
    return length;
}

/* libcurl says which sockets to watch: as CurlWaiter does, one epoll registration each. */
static int on_socket(CURL *easy, curl_socket_t socket, int what, void *context, void *socket_context) {
    (void)easy, (void)context, (void)socket_context;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, socket, NULL);
        return 0;
    }
    struct epoll_event event = {.data.fd = socket};
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    if (epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT)
        epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event);
    return 0;
}

static int on_timer(CURLM *multi, long milliseconds, void *context) {
    (void)multi, (void)context;
    timer_deadline_ms = milliseconds < 0 ? -1 : now_ms() + milliseconds;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: curl_floor PORT PATH STREAMS WARMUP_SECONDS MEASURE_SECONDS\n");
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
    curl_global_init(CURL_GLOBAL_ALL);
    epoll = epoll_create1(EPOLL_CLOEXEC);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

    long long rss_before = resident_bytes(), rss_all = 0;
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: text/event-stream");
    headers = curl_slist_append(headers, "Cache-Control: no-store");
    struct stream *state = calloc((size_t)streams, sizeof *state);
    for (int index = 0; index < streams; index++) {
        CURL *easy = curl_easy_init();
        /* The options EventSource sets on every transfer (CurlTransfer.swift) that bear on reading.
         * Not CURLOPT_CONNECTTIMEOUT_MS, which EventSource leaves to its own driver: libcurl keeps
         * a timer per transfer for it until it is due, which cost 4 us per event here. */
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 64L * 1024);
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &state[index]);
        curl_multi_add_handle(multi, easy);
    }

    struct epoll_event ready[256];
    int running = 0;
    double start = now_seconds();
    double measuring_from = start + warmup, end = measuring_from + measure;
    int measuring = 0;
    double cpu_at_start = 0;
    for (;;) {
        double now = now_seconds();
        if (!measuring && now >= measuring_from) {
            measuring = 1;
            events = 0;
            rss_all = resident_bytes();
            cpu_at_start = cpu_seconds();
        }
        if (now >= end) break;
        if (timer_deadline_ms >= 0 && timer_deadline_ms <= now_ms()) {
            timer_deadline_ms = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        int timeout = 100;
        if (timer_deadline_ms >= 0) {
            long long due = timer_deadline_ms - now_ms();
            if (due < timeout) timeout = due < 0 ? 0 : (int)due;
        }
        int count = epoll_wait(epoll, ready, 256, timeout);
        for (int index = 0; index < count; index++) {
            int flags = 0;
            if (ready[index].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) flags |= CURL_CSELECT_IN;
            if (ready[index].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
            if (ready[index].events & EPOLLERR) flags |= CURL_CSELECT_ERR;
            curl_multi_socket_action(multi, ready[index].data.fd, flags, &running);
        }
    }
    double cpu = cpu_seconds() - cpu_at_start;
    printf("events=%lld cpu_seconds=%.6f streams=%d running=%d rss_before=%lld rss_all=%lld\n", events, cpu, streams,
           running, rss_before, rss_all);
    return 0;
}
