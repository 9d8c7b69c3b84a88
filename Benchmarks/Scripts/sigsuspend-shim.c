/*
 * sigsuspend-shim.c - LD_PRELOAD'ed into sse-listen by valgrind-sse-listen.sh.
 *
 * Valgrind 3.19 (Debian 12's) edits the signal mask passed to rt_sigsuspend in place, and dies
 * with SIGSEGV when the mask is in read-only memory, as the one libdispatch's dispatch_main()
 * passes is (the main thread of every Swift program with an async main parks there). This passes
 * a writable copy instead; nothing else changes.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, (size_t)(_NSIG / 8));
}
