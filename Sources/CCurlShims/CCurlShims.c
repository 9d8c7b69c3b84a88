#include "CCurlShims.h"

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

CURLcode sse_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
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
