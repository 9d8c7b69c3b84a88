// Non-variadic entry points for libcurl, which Swift cannot call through its variadic
// curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt, plus macros Swift cannot import.
#ifndef SSE_CCURL_SHIMS_H
#define SSE_CCURL_SHIMS_H

#include <curl/curl.h>

typedef size_t (*sse_curl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode sse_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sse_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode sse_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode sse_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sse_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, sse_curl_data_callback callback);

CURLcode sse_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sse_curl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);

CURLMcode sse_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

/// CURLPAUSE_CONT, CURL_GLOBAL_ALL and CURL_WRITEFUNC_PAUSE are macros built from other macros.
extern const int sse_curl_pause_continue;
extern const long sse_curl_global_all;
extern const size_t sse_curl_writefunc_pause;

/// The version libcurl reports at run time, e.g. "7.88.1".
const char *sse_curl_version_string(void);

#endif
