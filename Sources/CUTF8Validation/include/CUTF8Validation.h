// UTF-8 validation with SIMD instructions, for the parser's hot path.
#ifndef SSE_CUTF8_VALIDATION_H
#define SSE_CUTF8_VALIDATION_H

#include <stddef.h>
#include <stdint.h>

/// What `sse_utf8_validate` found.
enum {
    SSE_UTF8_ASCII = 0,        ///< Valid, and every byte is ASCII.
    SSE_UTF8_VALID = 1,        ///< Valid, with at least one multi-byte character.
    SSE_UTF8_INVALID = 2,      ///< Not well-formed UTF-8.
    SSE_UTF8_UNSUPPORTED = -1  ///< This CPU or architecture has no SIMD path: validate another way.
};

/// Checks `count` bytes against the well-formed sequences of Unicode table 3-7, 32 bytes at a
/// time with AVX2 or 16 with SSSE3 (x86-64, whichever the CPU has); returns one of the values above.
int sse_utf8_validate(const uint8_t *bytes, size_t count);

/// The same with SSSE3 even where AVX2 is available, so tests can check both paths.
int sse_utf8_validate_ssse3(const uint8_t *bytes, size_t count);

#endif
