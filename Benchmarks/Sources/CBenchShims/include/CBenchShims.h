#ifndef CBENCHSHIMS_H
#define CBENCHSHIMS_H

#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34 and later), which Swift does not import
/// because glibc declares it only under _GNU_SOURCE: the child closes every descriptor from
/// `from` on. Returns 0, or an errno value (ENOSYS where the C library lacks it).
int bench_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
