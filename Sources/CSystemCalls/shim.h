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
