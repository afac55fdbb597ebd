// Linux calls that Glibc's Swift module does not show: renameat2 (glibc declares it only
// under _GNU_SOURCE). Made through syscall(2), which Swift cannot call (it is variadic).
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

// From linux/fs.h. DO NOT CHANGE: kernel ABI.
#define FERRY_RENAME_NOREPLACE 1
#define FERRY_RENAME_EXCHANGE 2

/// renameat2(2): returns 0, or -1 with errno (ENOSYS or EINVAL where the kernel or the
/// file system lacks it).
static inline int ferry_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
#else
    errno = ENOSYS;
    return -1;
#endif
}

// From linux/fs.h. DO NOT CHANGE: kernel ABI.
#define FERRY_SYNC_FILE_RANGE_WRITE 2

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writeback of the file's dirty
/// pages without waiting, so a later fsync has little left to write. A hint only.
static inline int ferry_start_writeback(int fd) {
#ifdef SYS_sync_file_range
    return (int)syscall(SYS_sync_file_range, fd, (long long)0, (long long)0, FERRY_SYNC_FILE_RANGE_WRITE);
#else
    errno = ENOSYS;
    return -1;
#endif
}

#include <malloc.h>

/// mallopt(M_MMAP_THRESHOLD): allocations of `bytes` and more are mapped on their own
/// and unmapped when freed; setting it also stops glibc's raising of it. Returns 1 on
/// success, 0 where the C library lacks it.
static inline int ferry_set_mmap_threshold(int bytes) {
#ifdef M_MMAP_THRESHOLD
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
