#include "CCurlShims.h"

#include <sys/socket.h>

#ifdef __linux__
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#endif

CURLcode sse_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode sse_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode sse_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode sse_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode sse_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, sse_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode sse_curl_easy_setopt_debug_callback(CURL *handle, sse_curl_debug_callback callback) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_VERBOSE, 1L);
}

CURLcode sse_curl_easy_allow_http_only(CURL *handle) {
#if LIBCURL_VERSION_NUM >= 0x075500
    CURLcode code = curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    CURLcode code = curl_easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

CURLcode sse_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode sse_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

int sse_curl_easy_reset_on_close(CURL *handle) {
    curl_socket_t socket = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(handle, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK || socket == CURL_SOCKET_BAD) {
        return -1;
    }
    struct linger linger = {.l_onoff = 1, .l_linger = 0};
    return setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
}

CURLcode sse_curl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLMcode sse_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

const int sse_curl_pause_continue = CURLPAUSE_CONT;
const long sse_curl_global_all = CURL_GLOBAL_ALL;
const size_t sse_curl_writefunc_pause = CURL_WRITEFUNC_PAUSE;

const char *sse_curl_version_string(void) {
    return curl_version_info(CURLVERSION_NOW)->version;
}

unsigned int sse_curl_version_number(void) {
    return curl_version_info(CURLVERSION_NOW)->version_num;
}

int sse_curl_has_http2(void) {
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) != 0;
}

int sse_curl_has_http3(void) {
#ifdef CURL_VERSION_HTTP3
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP3) != 0;
#else
    return 0;
#endif
}

int sse_curl_has_unix_sockets(void) {
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_UNIX_SOCKETS) != 0;
}

CURLMcode sse_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) {
    return curl_multi_setopt(handle, option, value);
}

CURLMcode sse_curl_multi_setopt_socket_callback(CURLM *handle, curl_socket_callback callback) {
    return curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, callback);
}

CURLMcode sse_curl_multi_setopt_timer_callback(CURLM *handle, curl_multi_timer_callback callback) {
    return curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, callback);
}

const curl_socket_t sse_curl_socket_timeout = CURL_SOCKET_TIMEOUT;

#ifdef __linux__
int sse_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int sse_epoll_watch(int epoll_fd, int fd, int what) {
    if (what == CURL_POLL_REMOVE) {
        // The socket may already be closed; either way it is no longer watched.
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event event = {0};
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    event.data.fd = fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event) == 0) return 0;
    if (errno == ENOENT) return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    return -1;
}

int sse_epoll_wait(int epoll_fd, int *fds, int *flags, int capacity, int timeout_ms) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epoll_fd, events, capacity, timeout_ms);
    if (count < 0) return 0;
    for (int i = 0; i < count; i++) {
        int bits = 0;
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) bits |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) bits |= CURL_CSELECT_OUT;
        if (events[i].events & EPOLLERR) bits |= CURL_CSELECT_ERR;
        fds[i] = events[i].data.fd;
        flags[i] = bits;
    }
    return count;
}

int sse_eventfd_create(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void sse_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t written = write(fd, &one, sizeof one);
    (void)written;  // EAGAIN means the counter is already non-zero: the loop will wake.
}

void sse_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t got = read(fd, &value, sizeof value);
    (void)got;
}
#endif
