// Non-variadic entry points for libcurl, which Swift cannot call through its variadic
// curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt, plus macros Swift cannot import.
#ifndef SSE_CCURL_SHIMS_H
#define SSE_CCURL_SHIMS_H

#include <curl/curl.h>

// Pointers are non-null unless marked: Swift then sees plain pointers, not implicitly unwrapped ones.
#pragma clang assume_nonnull begin

typedef size_t (*sse_curl_data_callback)(char *data, size_t size, size_t count, void *_Nullable context);

/// CURLOPT_DEBUGFUNCTION's callback: `type` is a curl_infotype (CURLINFO_HEADER_OUT for the
/// request head as sent).
typedef int (*sse_curl_debug_callback)(CURL *handle, int type, char *data, size_t size, void *_Nullable context);

CURLcode sse_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sse_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode sse_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *_Nullable value);
CURLcode sse_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sse_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, sse_curl_data_callback callback);
CURLcode sse_curl_easy_setopt_debug_callback(CURL *handle, sse_curl_debug_callback callback);

/// Limits a handle and its redirects to HTTP and HTTPS: CURLOPT_PROTOCOLS_STR where libcurl has
/// it (7.85.0 and later), the deprecated bitmask options before.
CURLcode sse_curl_easy_allow_http_only(CURL *handle);

CURLcode sse_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sse_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode sse_curl_easy_getinfo_string(CURL *handle, CURLINFO info, char *_Nullable *_Nonnull value);

/// Makes the close of the handle's connection send a TCP reset (SO_LINGER on, timeout 0) instead
/// of a FIN; for a transfer about to be aborted. Returns 0, or -1 when there is no socket.
int sse_curl_easy_reset_on_close(CURL *handle);

CURLMcode sse_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

/// CURLPAUSE_CONT, CURL_GLOBAL_ALL and CURL_WRITEFUNC_PAUSE are macros built from other macros.
extern const int sse_curl_pause_continue;
extern const long sse_curl_global_all;
extern const size_t sse_curl_writefunc_pause;

/// The version libcurl reports at run time, e.g. "7.88.1".
const char *sse_curl_version_string(void);

/// The libcurl version in use as 0xXXYYZZ (major, minor, patch), to work around known bugs.
unsigned int sse_curl_version_number(void);

/// Whether the libcurl in use was built with HTTP/2 (nghttp2), HTTP/3, and Unix domain sockets:
/// its run-time feature bits, 1 or 0.
int sse_curl_has_http2(void);
int sse_curl_has_http3(void);
int sse_curl_has_unix_sockets(void);

/// libcurl's socket interface: where the multi handle reports the sockets and the timeout it
/// wants watched.
CURLMcode sse_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *_Nullable value);
CURLMcode sse_curl_multi_setopt_socket_callback(CURLM *handle, curl_socket_callback callback);
CURLMcode sse_curl_multi_setopt_timer_callback(CURLM *handle, curl_multi_timer_callback callback);
extern const curl_socket_t sse_curl_socket_timeout;

#ifdef __linux__
/// epoll and eventfd for the I/O thread, with libcurl's vocabulary: `what` is a CURL_POLL_*
/// value, the flags returned are CURL_CSELECT_* bits. -1 and errno on failure.
int sse_epoll_create(void);
/// Watches `fd` for `what` (CURL_POLL_IN, _OUT, _INOUT), or stops watching it (CURL_POLL_REMOVE).
int sse_epoll_watch(int epoll_fd, int fd, int what);
/// Waits up to `timeout_ms` (-1: forever) and stores up to `capacity` ready descriptors and their
/// CURL_CSELECT_* flags; returns how many, 0 on timeout or interruption.
int sse_epoll_wait(int epoll_fd, int *fds, int *flags, int capacity, int timeout_ms);
/// A non-blocking eventfd; `signal` makes it readable, `drain` resets it.
int sse_eventfd_create(void);
void sse_eventfd_signal(int fd);
void sse_eventfd_drain(int fd);
#endif

#pragma clang assume_nonnull end

#endif
