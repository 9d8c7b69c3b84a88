// The "lookup" algorithm of J. Keiser and D. Lemire, "Validating UTF-8 In Less Than One
// Instruction Per Byte" (Software: Practice and Experience, 2021): three table lookups on
// nibbles classify every pair of adjacent bytes, and one more check covers the third and fourth
// bytes of long sequences. Written here for SSSE3 (pshufb, palignr), chosen at run time, with a
// skip for ASCII decided once per 64 bytes.

#include "CUTF8Validation.h"

#if defined(__x86_64__)

#include <cpuid.h>
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

static int has_ssse3(void) {
    // Asked once; threads racing on the first call store the same answer.
    static int cached = -1;
    int known = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (known < 0) {
        unsigned int eax, ebx, ecx, edx;
        known = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSSE3) ? 1 : 0;
        __atomic_store_n(&cached, known, __ATOMIC_RELAXED);
    }
    return known;
}

int sse_utf8_validate(const uint8_t *bytes, size_t count) {
    if (!has_ssse3()) return SSE_UTF8_UNSUPPORTED;
    return validate_ssse3(bytes, count);
}

#else

int sse_utf8_validate(const uint8_t *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return SSE_UTF8_UNSUPPORTED;
}

#endif
