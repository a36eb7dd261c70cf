/* sandbox.c — Landlock + seccomp confinement of sluice-rx (see sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SL_SANITIZED 1
#endif
#endif
#ifdef SL_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

/* Whether Landlock can confine the release: its ABI (2 or later), or 0 when
 * it cannot and allow_no_landlock says to go on (a warning in d), or
 * SL_ERR_UNSUPPORTED saying what is missing. */
static int landlock_abi(bool allow, long *abi, struct sl_diag *d)
{
	char why[200];

	*abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (*abi >= 2)
		return SL_OK;
	if (*abi >= 0)
		snprintf(why, sizeof why, "this kernel has Landlock ABI %ld, which cannot allow the "
			 "release rename across directories (ABI 2, Linux 5.19, can)", *abi);
	else if (errno == EOPNOTSUPP)
		snprintf(why, sizeof why, "Landlock is built into this kernel but not enabled at boot "
			 "(add landlock to the lsm= kernel parameter)");
	else
		snprintf(why, sizeof why, "this kernel has no Landlock (%s; it needs "
			 "CONFIG_SECURITY_LANDLOCK)", strerror(errno));
	*abi = 0;
	if (allow)
		return sl_diag_set(d, SL_OK, "%s: running with the seccomp filter only, as "
				   "--allow-no-landlock asks: file writes are limited by file "
				   "permissions alone", why);
	return sl_diag_set(d, SL_ERR_UNSUPPORTED, "%s; without Landlock sluice-rx could write "
			   "wherever its user can. Refusing to start: give --allow-no-landlock "
			   "to run with the seccomp filter only (no sockets, no sending, no "
			   "exec; file writes limited by file permissions alone)", why);
}

static int landlock(const struct rx_sandbox_cfg *cfg, long abi, struct sl_diag *d)
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
	int rs;

	/* ABI 2 or later (landlock_abi): REFER lets the release rename cross
	 * from the state tree into the release tree. */
	attr.handled_access_fs = fs_v1 | LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
#else
	(void)abi;
#endif
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0)
		return sl_diag_errno(d, "landlock_create_ruleset");
	/* Everything below the state and release trees except exec and device nodes. */
	pb.allowed_access = attr.handled_access_fs & ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE |
		LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM);
	pb.parent_fd = cfg->state_fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
		int r = sl_diag_errno(d, "landlock rule for %s", cfg->state_path);
		close(rs);
		return r;
	}
	pb.parent_fd = cfg->release_fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
		int r = sl_diag_errno(d, "landlock rule for %s", cfg->release_path);
		close(rs);
		return r;
	}
	/* The policy's and the configuration's directories: files read, nothing
	 * else, so a reload finds a file an editor or `policy create` replaced. */
	for (unsigned i = 0; i < 2; i++) {
		if (cfg->read_fds[i] < 0)
			continue;
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
		pb.parent_fd = cfg->read_fds[i];
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
			int r = sl_diag_errno(d, "landlock read rule for the policy's or configuration's directory");
			close(rs);
			return r;
		}
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
 * io_uring_register and io_uring_setup stay forbidden. write, writev, dup
 * and fcntl are allowed too, on any descriptor but the link's
 * (fd_rules). */
static const int allowed_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(readv),
	SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(mkdirat), SCMP_SYS(unlinkat),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(syncfs),
	SCMP_SYS(getdents64), SCMP_SYS(fchmod), SCMP_SYS(utimensat), SCMP_SYS(ftruncate),
	SCMP_SYS(fallocate), SCMP_SYS(sync_file_range), SCMP_SYS(copy_file_range), SCMP_SYS(recvmmsg), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(brk),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(mprotect),
	SCMP_SYS(mlock), SCMP_SYS(munlock), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex),
	SCMP_SYS(getrandom), SCMP_SYS(restart_syscall), SCMP_SYS(sched_yield), SCMP_SYS(getrusage),
	SCMP_SYS(flock), SCMP_SYS(sysinfo), SCMP_SYS(fstatfs), SCMP_SYS(io_uring_enter),
	SCMP_SYS(getsockopt), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
};

/* Calls allowed on every descriptor but the link's: writing to a packet
 * socket sends a frame, and a duplicate would escape the comparison. The
 * kernel reads a descriptor's low 32 bits only (fd + 2^32 is fd), and
 * libseccomp has no masked "not equal" (its 32-bit NE passes any value with
 * high bits set; measured), nor an allow-all rule with a narrower deny (the
 * unconditional rule absorbs it): so "low 32 bits differ from link_fd" is
 * written as one rule per bit, each allowing a value whose bit i differs
 * from link_fd's. */
static const int fd_syscalls[] = {
	SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(dup), SCMP_SYS(fcntl),
};

static int fd_rules(scmp_filter_ctx ctx, int link_fd, struct sl_diag *d)
{
	for (size_t i = 0; i < sizeof fd_syscalls / sizeof fd_syscalls[0]; i++) {
		for (unsigned b = 0; b < 32; b++) {
			uint64_t bit = (uint64_t)1 << b;
			int r = link_fd < 0 ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, fd_syscalls[i], 0) :
				seccomp_rule_add(ctx, SCMP_ACT_ALLOW, fd_syscalls[i], 1,
						 SCMP_A0_64(SCMP_CMP_MASKED_EQ, bit,
							    ~(uint64_t)(uint32_t)link_fd & bit));
			if (r < 0)
				return sl_diag_set(d, SL_ERR_IO, "seccomp rule for system call %d: %s",
						   fd_syscalls[i], strerror(-r));
			if (link_fd < 0)
				break;
		}
	}
	return SL_OK;
}

#ifdef SL_SANITIZED
/* Sanitizer builds (tests only) keep the filter, plus what the runtime
 * needs under it (measured with SCMP_ACT_LOG): LeakSanitizer at exit stops
 * the world from a tracer task (clone with CLONE_UNTRACED and without
 * CLONE_THREAD, prctl, ptrace, wait4, getppid; open and getdents on /proc,
 * which Landlock then allows read-only); threads get an alternate signal
 * stack and read their affinity; a report asks whether stderr is a
 * terminal (ioctl TCGETS). Still no socket, no send, no exec. */
static const int sanitizer_syscalls[] = {
	SCMP_SYS(sched_getaffinity), SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(ptrace),
	SCMP_SYS(wait4), SCMP_SYS(getppid), SCMP_SYS(open), SCMP_SYS(getdents),
};

static int sanitizer_rules(scmp_filter_ctx ctx, struct sl_diag *d)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_UNTRACED, CLONE_UNTRACED)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_EQ, TCGETS, 0)) < 0)
		return sl_diag_set(d, SL_ERR_IO, "seccomp rules for the sanitizers' runtime");
	for (size_t i = 0; i < sizeof sanitizer_syscalls / sizeof sanitizer_syscalls[0]; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sanitizer_syscalls[i], 0) < 0)
			return sl_diag_set(d, SL_ERR_IO, "seccomp rules for the sanitizers' runtime");
	return SL_OK;
}

/* A report is symbolized by a subprocess (llvm-symbolizer, fed over pipes)
 * started on first use: start it before the sandbox forbids exec. */
static void start_symbolizer(void)
{
	char buf[256];
	__sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F %L", buf, sizeof buf);
}
#else
static int sanitizer_rules(scmp_filter_ctx ctx, struct sl_diag *d)
{
	(void)ctx;
	(void)d;
	return SL_OK;
}

static void start_symbolizer(void)
{
}
#endif

static int seccomp(int link_fd, struct sl_diag *d)
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
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rseq), 0) < 0 ||
	    /* a helper thread names itself (sl_pool: top -H shows rx-receive, rx-open) */
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0)) < 0) {
		seccomp_release(ctx);
		return sl_diag_set(d, SL_ERR_IO, "seccomp rules for threads could not be added");
	}
	/* Closing an eth: link, libpcap first asks the kernel to drop its
	 * receive ring (and ignores the result; close frees it anyway): that
	 * one setsockopt fails instead of killing, any other is forbidden. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt), 2,
			     SCMP_A1(SCMP_CMP_EQ, SOL_PACKET, 0),
			     SCMP_A2(SCMP_CMP_EQ, PACKET_RX_RING, 0)) < 0) {
		seccomp_release(ctx);
		return sl_diag_set(d, SL_ERR_IO, "seccomp rule for closing a capture could not be added");
	}
	for (size_t i = 0; i < sizeof allowed_syscalls / sizeof allowed_syscalls[0]; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_syscalls[i], 0);
		if (r < 0 && r != -EDOM) {
			seccomp_release(ctx);
			return sl_diag_set(d, SL_ERR_IO, "seccomp_rule_add(%d): %s", allowed_syscalls[i],
					   strerror(-r));
		}
	}
	r = fd_rules(ctx, link_fd, d);
	if (!r)
		r = sanitizer_rules(ctx, d);
	if (r) {
		seccomp_release(ctx);
		return r;
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return sl_diag_set(d, SL_ERR_IO, "seccomp_load: %s", strerror(-r));
	return SL_OK;
}

/* A file ring writes to whatever descriptor it is given, unseen by
 * seccomp: with a packet socket open, it could send frames. */
static int check_ring(const struct rx_sandbox_cfg *cfg, struct sl_diag *d)
{
	int domain = 0;
	socklen_t len = sizeof domain;

	if (!cfg->file_ring || cfg->link_fd < 0 ||
	    getsockopt(cfg->link_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
	    domain != AF_PACKET)
		return SL_OK;
	return sl_diag_set(d, SL_ERR_INVAL, "--file-io uring cannot be used with an eth: link: "
			   "io_uring writes are not filtered by seccomp and could send frames on the "
			   "capture socket; use --file-io plain");
}

int rx_sandbox(const struct rx_sandbox_cfg *cfg, struct sl_diag *d)
{
	struct sl_diag warn = { "" };
	long abi;
	int r;

	if (d)
		d->msg[0] = '\0';
	r = check_ring(cfg, d);
	if (r)
		return r;
	r = landlock_abi(cfg->allow_no_landlock, &abi, &warn);
	if (r)
		return sl_diag_set(d, r, "%s", warn.msg);
	start_symbolizer();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sl_diag_errno(d, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (abi && (r = landlock(cfg, abi, d)))
		return r;
	r = seccomp(cfg->link_fd, d);
	if (r)
		return r;
	if (warn.msg[0])
		sl_diag_set(d, SL_OK, "%s", warn.msg);
	return SL_OK;
}
