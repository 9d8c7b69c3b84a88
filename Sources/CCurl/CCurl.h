// The system libcurl (Debian: libcurl4-openssl-dev), found with pkg-config.
#include <curl/curl.h>
