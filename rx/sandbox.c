/* sandbox.c — Landlock + seccomp confinement of sluice-rx (see sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SL_SANITIZED 1
#endif
#endif

static int landlock(int state_fd, int release_fd, const char *sp, const char *rp, struct sl_diag *d)
{
	struct landlock_ruleset_attr attr = { 0 };
	struct landlock_path_beneath_attr pb = { 0 };
	uint64_t fs_v1 = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
			 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
			 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
			 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
			 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
			 LANDLOCK_ACCESS_FS_MAKE_SYM;
	uint64_t allowed;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int rs;

	if (abi < 0) {
		sl_diag_set(d, SL_OK, "Landlock is not available on this kernel (%s); running with "
			    "seccomp only", strerror(errno));
		return SL_OK;
	}
	attr.handled_access_fs = fs_v1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	if (abi < 2) {
		/* Without REFER, renames across directories are always denied under
		 * Landlock v1, and a release is such a rename: skip Landlock. */
		sl_diag_set(d, SL_OK, "Landlock ABI %ld cannot allow the release rename; running with "
			    "seccomp only", abi);
		return SL_OK;
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0)
		return sl_diag_errno(d, "landlock_create_ruleset");
	/* Everything below the state and release trees except exec and device nodes. */
	allowed = attr.handled_access_fs & ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE |
		LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM);
	pb.allowed_access = allowed;
	pb.parent_fd = state_fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
		int r = sl_diag_errno(d, "landlock rule for %s", sp);
		close(rs);
		return r;
	}
	pb.parent_fd = release_fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
		int r = sl_diag_errno(d, "landlock rule for %s", rp);
		close(rs);
		return r;
	}
#ifdef SL_SANITIZED
	/* The sanitizers' runtime reads /proc (maps, task list) to report. */
	{
		int procfd = open("/proc", O_PATH | O_CLOEXEC);
		if (procfd >= 0) {
			pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
			pb.parent_fd = procfd;
			syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
			close(procfd);
		}
	}
#endif
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		int r = sl_diag_errno(d, "landlock_restrict_self");
		close(rs);
		return r;
	}
	close(rs);
	return SL_OK;
}

/* io_uring_enter serves udp links with io=uring: their operations bypass
 * this filter, so the link restricts its ring before the sandbox
 * (IORING_REGISTER_RESTRICTIONS: multishot RECVMSG and its cancel only);
 * io_uring_register and io_uring_setup stay forbidden. */
static const int allowed_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(readv),
	SCMP_SYS(writev), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(mkdirat), SCMP_SYS(unlinkat),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(syncfs),
	SCMP_SYS(getdents64), SCMP_SYS(fchmod), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(ftruncate),
	SCMP_SYS(fallocate), SCMP_SYS(sync_file_range), SCMP_SYS(recvmmsg), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(brk),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(mprotect),
	SCMP_SYS(mlock), SCMP_SYS(munlock), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex),
	SCMP_SYS(getrandom), SCMP_SYS(restart_syscall), SCMP_SYS(sched_yield), SCMP_SYS(getrusage),
	SCMP_SYS(flock), SCMP_SYS(sysinfo), SCMP_SYS(fstatfs), SCMP_SYS(io_uring_enter),
	SCMP_SYS(getsockopt), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
};

static int seccomp(struct sl_diag *d)
{
	scmp_filter_ctx ctx;
	int r;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return sl_diag_set(d, SL_ERR_NOMEM, "seccomp_init failed");
	/* Threads (the hashing thread starts after the sandbox): clone only
	 * with CLONE_THREAD, so no new process; clone3 cannot be filtered by
	 * its flags, so it fails with ENOSYS and glibc falls back to clone. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(set_robust_list), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rseq), 0) < 0) {
		seccomp_release(ctx);
		return sl_diag_set(d, SL_ERR_IO, "seccomp rules for threads could not be added");
	}
	for (size_t i = 0; i < sizeof allowed_syscalls / sizeof allowed_syscalls[0]; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_syscalls[i], 0);
		if (r < 0 && r != -EDOM) {
			seccomp_release(ctx);
			return sl_diag_set(d, SL_ERR_IO, "seccomp_rule_add(%d): %s", allowed_syscalls[i],
					   strerror(-r));
		}
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return sl_diag_set(d, SL_ERR_IO, "seccomp_load: %s", strerror(-r));
	return SL_OK;
}

int sl_rx_sandbox(int state_fd, int release_fd, const char *state_path,
		  const char *release_path, struct sl_diag *d)
{
	int r;

	if (d)
		d->msg[0] = '\0';
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sl_diag_errno(d, "prctl(PR_SET_NO_NEW_PRIVS)");
	r = landlock(state_fd, release_fd, state_path, release_path, d);
	if (r)
		return r;
#ifdef SL_SANITIZED
	/* LeakSanitizer stops the world with ptrace at exit, which no sane
	 * filter allows: sanitizer builds (tests only) run without seccomp. */
	(void)seccomp;
	if (d && !d->msg[0])
		sl_diag_set(d, SL_OK, "built with sanitizers: the seccomp filter is not applied");
#else
	{
		struct sl_diag d2 = { "" };
		r = seccomp(&d2);
		if (r)
			return sl_diag_set(d, r, "%s", d2.msg);
	}
#endif
	return SL_OK;
}
