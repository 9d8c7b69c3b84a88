// The "lookup" algorithm of J. Keiser and D. Lemire, "Validating UTF-8 In Less Than One
// Instruction Per Byte" (Software: Practice and Experience, 2021): three table lookups on
// nibbles classify every pair of adjacent bytes, and one more check covers the third and fourth
// bytes of long sequences. Written here for AVX2 (32 bytes a step) and SSSE3 (16), chosen at run
// time, with a skip for ASCII decided once per 64 bytes.

#include "CUTF8Validation.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>
#include <tmmintrin.h>

// The error bits: for each byte and the byte before it, which rule the pair may break.
#define TOO_SHORT (1 << 0)       // a lead byte or ASCII where a continuation was due
#define TOO_LONG (1 << 1)        // ASCII followed by a continuation
#define OVERLONG_3 (1 << 2)      // E0 80..9F
#define TOO_LARGE (1 << 3)       // F4 90..BF, or F5..FF
#define SURROGATE (1 << 4)       // ED A0..BF
#define OVERLONG_2 (1 << 5)      // C0..C1
#define TOO_LARGE_1000 (1 << 6)  // F5..FF 80..8F
#define OVERLONG_4 (1 << 6)      // F0 80..8F
#define TWO_CONTS (-128)         // 0x80: a continuation after a continuation (checked again below)
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

__attribute__((target("ssse3"))) static inline __m128i nibble_lookup(__m128i table, __m128i nibbles) {
    return _mm_shuffle_epi8(table, nibbles);
}

__attribute__((target("ssse3"))) static inline __m128i high_nibbles(__m128i bytes) {
    return _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0F));
}

// The errors of the block `input`, given the block before it.
__attribute__((target("ssse3"))) static inline __m128i block_errors(__m128i input, __m128i previous) {
    const __m128i byte_1_high_table = _mm_setr_epi8(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,  // 0_______
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,                                      // 10______
        TOO_SHORT | OVERLONG_2,                                                          // 1100____
        TOO_SHORT,                                                                       // 1101____
        TOO_SHORT | OVERLONG_3 | SURROGATE,                                              // 1110____
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);                            // 1111____
    const __m128i byte_1_low_table = _mm_setr_epi8(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,  // ____0000
        CARRY | OVERLONG_2,                            // ____0001
        CARRY, CARRY,                                  // ____001_
        CARRY | TOO_LARGE,                             // ____0100
        CARRY | TOO_LARGE | TOO_LARGE_1000,            // ____0101
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,  // ____1101
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000);
    const __m128i byte_2_high_table = _mm_setr_epi8(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,  // 0_______
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,            // 1000____
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,                              // 1001____
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                               // 101_____
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);  // 11______

    __m128i previous_1 = _mm_alignr_epi8(input, previous, 16 - 1);
    __m128i special_cases = _mm_and_si128(
        _mm_and_si128(nibble_lookup(byte_1_high_table, high_nibbles(previous_1)),
                      nibble_lookup(byte_1_low_table, _mm_and_si128(previous_1, _mm_set1_epi8(0x0F)))),
        nibble_lookup(byte_2_high_table, high_nibbles(input)));

    // A byte two after a three- or four-byte lead, or three after a four-byte lead, must be a
    // continuation: exactly where the pair check flagged "two continuations".
    __m128i previous_2 = _mm_alignr_epi8(input, previous, 16 - 2);
    __m128i previous_3 = _mm_alignr_epi8(input, previous, 16 - 3);
    __m128i is_third = _mm_subs_epu8(previous_2, _mm_set1_epi8((char)(0xE0 - 0x80)));
    __m128i is_fourth = _mm_subs_epu8(previous_3, _mm_set1_epi8((char)(0xF0 - 0x80)));
    __m128i must_be_continuation = _mm_and_si128(_mm_or_si128(is_third, is_fourth), _mm_set1_epi8((char)0x80));
    return _mm_xor_si128(must_be_continuation, special_cases);
}

__attribute__((target("ssse3"))) static int validate_ssse3(const uint8_t *bytes, size_t count) {
    __m128i previous = _mm_setzero_si128();
    __m128i errors = _mm_setzero_si128();
    int previous_is_ascii = 1;
    int saw_multibyte = 0;
    size_t index = 0;
    // 64 bytes at a time: one branch per 64 bytes, which text with a non-ASCII character every
    // few dozen bytes predicts well (always "check"), as does pure ASCII (always "skip").
    for (; index + 64 <= count; index += 64) {
        __m128i in0 = _mm_loadu_si128((const __m128i *)(bytes + index));
        __m128i in1 = _mm_loadu_si128((const __m128i *)(bytes + index + 16));
        __m128i in2 = _mm_loadu_si128((const __m128i *)(bytes + index + 32));
        __m128i in3 = _mm_loadu_si128((const __m128i *)(bytes + index + 48));
        int is_ascii = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(in0, in1), _mm_or_si128(in2, in3))) == 0;
        if (!(is_ascii && previous_is_ascii)) {
            errors = _mm_or_si128(errors, block_errors(in0, previous));
            errors = _mm_or_si128(errors, block_errors(in1, in0));
            errors = _mm_or_si128(errors, block_errors(in2, in1));
            errors = _mm_or_si128(errors, block_errors(in3, in2));
            saw_multibyte |= !is_ascii;
        }
        previous = in3;
        previous_is_ascii = _mm_movemask_epi8(in3) == 0;
    }
    for (; index + 16 <= count; index += 16) {
        __m128i input = _mm_loadu_si128((const __m128i *)(bytes + index));
        int is_ascii = _mm_movemask_epi8(input) == 0;
        // ASCII after ASCII is always valid; ASCII after anything else must show that the
        // sequence the previous block ended with is complete.
        if (!(is_ascii && previous_is_ascii)) {
            errors = _mm_or_si128(errors, block_errors(input, previous));
            saw_multibyte |= !is_ascii;
        }
        previous = input;
        previous_is_ascii = is_ascii;
    }
    // The rest, padded with ASCII zeros: a sequence cut off by the end meets a zero and fails.
    uint8_t tail[16] = {0};
    memcpy(tail, bytes + index, count - index);
    __m128i input = _mm_loadu_si128((const __m128i *)tail);
    int is_ascii = _mm_movemask_epi8(input) == 0;
    if (!(is_ascii && previous_is_ascii)) {
        errors = _mm_or_si128(errors, block_errors(input, previous));
        saw_multibyte |= !is_ascii;
    }
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(errors, _mm_setzero_si128())) != 0xFFFF) return SSE_UTF8_INVALID;
    return saw_multibyte ? SSE_UTF8_VALID : SSE_UTF8_ASCII;
}

// The tables of `block_errors`, twice: AVX2 looks up within each 16-byte lane.
#define TWICE(...) __VA_ARGS__, __VA_ARGS__

__attribute__((target("avx2"))) static inline __m256i high_nibbles_256(__m256i bytes) {
    return _mm256_and_si256(_mm256_srli_epi16(bytes, 4), _mm256_set1_epi8(0x0F));
}

// The bytes of `input` moved `n` places later, the last `n` of `previous` in front.
#define PREVIOUS_256(input, previous, n) \
    _mm256_alignr_epi8((input), _mm256_permute2x128_si256((previous), (input), 0x21), 16 - (n))

__attribute__((target("avx2"))) static inline __m256i block_errors_256(__m256i input, __m256i previous) {
    const __m256i byte_1_high_table = _mm256_setr_epi8(TWICE(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
        TOO_SHORT | OVERLONG_2,
        TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE,
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4));
    const __m256i byte_1_low_table = _mm256_setr_epi8(TWICE(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
        CARRY | OVERLONG_2,
        CARRY, CARRY,
        CARRY | TOO_LARGE,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000));
    const __m256i byte_2_high_table = _mm256_setr_epi8(TWICE(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT));

    __m256i previous_1 = PREVIOUS_256(input, previous, 1);
    __m256i special_cases = _mm256_and_si256(
        _mm256_and_si256(
            _mm256_shuffle_epi8(byte_1_high_table, high_nibbles_256(previous_1)),
            _mm256_shuffle_epi8(byte_1_low_table, _mm256_and_si256(previous_1, _mm256_set1_epi8(0x0F)))),
        _mm256_shuffle_epi8(byte_2_high_table, high_nibbles_256(input)));
    __m256i is_third = _mm256_subs_epu8(PREVIOUS_256(input, previous, 2), _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i is_fourth = _mm256_subs_epu8(PREVIOUS_256(input, previous, 3), _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i must_be_continuation =
        _mm256_and_si256(_mm256_or_si256(is_third, is_fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must_be_continuation, special_cases);
}

__attribute__((target("avx2"))) static int validate_avx2(const uint8_t *bytes, size_t count) {
    __m256i previous = _mm256_setzero_si256();
    __m256i errors = _mm256_setzero_si256();
    int previous_is_ascii = 1;
    int saw_multibyte = 0;
    size_t index = 0;
    for (; index + 64 <= count; index += 64) {
        __m256i in0 = _mm256_loadu_si256((const __m256i *)(bytes + index));
        __m256i in1 = _mm256_loadu_si256((const __m256i *)(bytes + index + 32));
        int is_ascii = _mm256_movemask_epi8(_mm256_or_si256(in0, in1)) == 0;
        if (!(is_ascii && previous_is_ascii)) {
            errors = _mm256_or_si256(errors, block_errors_256(in0, previous));
            errors = _mm256_or_si256(errors, block_errors_256(in1, in0));
            saw_multibyte |= !is_ascii;
        }
        previous = in1;
        previous_is_ascii = _mm256_movemask_epi8(in1) == 0;
    }
    // The rest in 32-byte steps, the last one padded with ASCII zeros (see `validate_ssse3`).
    while (1) {
        __m256i input;
        int last = index + 32 > count;
        if (last) {
            uint8_t tail[32] = {0};
            memcpy(tail, bytes + index, count - index);
            input = _mm256_loadu_si256((const __m256i *)tail);
        } else {
            input = _mm256_loadu_si256((const __m256i *)(bytes + index));
        }
        int is_ascii = _mm256_movemask_epi8(input) == 0;
        if (!(is_ascii && previous_is_ascii)) {
            errors = _mm256_or_si256(errors, block_errors_256(input, previous));
            saw_multibyte |= !is_ascii;
        }
        if (last) break;
        previous = input;
        previous_is_ascii = is_ascii;
        index += 32;
    }
    if (!_mm256_testz_si256(errors, errors)) return SSE_UTF8_INVALID;
    return saw_multibyte ? SSE_UTF8_VALID : SSE_UTF8_ASCII;
}

// AVX2 needs the CPU's support and the operating system's (it saves the YMM registers).
static int detect_avx2(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_OSXSAVE) || !(ecx & bit_AVX)) return 0;
    unsigned int xcr0_low, xcr0_high;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & bit_AVX2) != 0;
}

static int has_ssse3(void) {
    unsigned int eax, ebx, ecx, edx;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSSE3) ? 1 : 0;
}

// 2: AVX2, 1: SSSE3, 0: neither; asked once (threads racing on the first call store the same).
static int simd_level(void) {
    static int cached = -1;
    int level = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (level < 0) {
        level = detect_avx2() ? 2 : has_ssse3() ? 1 : 0;
        __atomic_store_n(&cached, level, __ATOMIC_RELAXED);
    }
    return level;
}

int sse_utf8_validate(const uint8_t *bytes, size_t count) {
    switch (simd_level()) {
    case 2: return validate_avx2(bytes, count);
    case 1: return validate_ssse3(bytes, count);
    default: return SSE_UTF8_UNSUPPORTED;
    }
}

int sse_utf8_validate_ssse3(const uint8_t *bytes, size_t count) {
    return has_ssse3() ? validate_ssse3(bytes, count) : SSE_UTF8_UNSUPPORTED;
}

#else

int sse_utf8_validate(const uint8_t *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return SSE_UTF8_UNSUPPORTED;
}

int sse_utf8_validate_ssse3(const uint8_t *bytes, size_t count) {
    return sse_utf8_validate(bytes, count);
}

#endif
