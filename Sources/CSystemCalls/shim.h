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
