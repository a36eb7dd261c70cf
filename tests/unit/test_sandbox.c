/* Unit tests for the sluice-rx sandbox (rx/sandbox.c). Each test forks a
 * child that applies rx_sandbox() over temporary state and release trees
 * and then tries one thing; the parent checks how the child ended (a
 * forbidden call: killed by SIGSYS) and what the attempt left behind (files,
 * datagrams, frames on a veth peer). Also: the refusal without Landlock (a
 * seccomp filter in the child hides it, or a user-notification filter fakes
 * ABI 1), and the daemon's refusal and --allow-no-landlock end to end. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/landlock.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "link.h"
#include "sandbox.h"
#include "tmpdir.h"
#include "uring_io.h"

/* base/ holds state/, release/ and outside/ (a sibling the sandbox must not
 * reach). */
static struct {
	char base[64], state[96], release[96], outside[96];
	int state_fd, release_fd;
} B;

static void setup(void)
{
	close(tmpdir_make(B.base, sizeof B.base, "sandbox"));
	snprintf(B.state, sizeof B.state, "%s/state", B.base);
	snprintf(B.release, sizeof B.release, "%s/release", B.base);
	snprintf(B.outside, sizeof B.outside, "%s/outside", B.base);
	cr_assert_eq(mkdir(B.state, 0700) | mkdir(B.release, 0700) | mkdir(B.outside, 0700), 0);
	B.state_fd = open(B.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	B.release_fd = open(B.release, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(B.state_fd >= 0 && B.release_fd >= 0);
}

static void teardown(void)
{
	close(B.state_fd);
	tmpdir_remove(B.base, B.release_fd);
}

TestSuite(sandbox, .init = setup, .fini = teardown, .timeout = 60);

/* What a child does: prep (optional) before the sandbox, then the sandbox,
 * then try. try returns the child's exit status and may write a line for
 * the parent's messages to fd report. */
struct attempt {
	void (*prep)(const struct attempt *a);
	int (*try)(const struct attempt *a, int report);
	int fd;				/* a descriptor (or an index) try uses */
	void *arg;			/* anything else try uses */
	int link_fd;			/* given to the sandbox */
	int read_fd;			/* a directory whose files it may read (0: none) */
	bool file_ring, allow_no_landlock;
	int expect_err;			/* the sandbox's expected result (try skipped if not 0) */
	const char *expect_msg;		/* a part of its message, or NULL */
};

enum { EXIT_SANDBOX = 90, EXIT_TRY_FAILED = 91 };

static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, line, strlen(line)) < 0)
		_exit(EXIT_TRY_FAILED);
}

static void child(const struct attempt *a, int rep)
{
	struct rx_sandbox_cfg cfg = {
		.state_fd = B.state_fd, .release_fd = B.release_fd,
		.state_path = B.state, .release_path = B.release, .link_fd = a->link_fd,
		.file_ring = a->file_ring, .allow_no_landlock = a->allow_no_landlock,
		.read_fds = { a->read_fd ? a->read_fd : -1, -1 },
	};
	struct sl_diag d = { "" };
	int r;

	if (a->prep)
		a->prep(a);
	r = rx_sandbox(&cfg, &d);
	report(rep, "sandbox: %d (%s); ", r, d.msg);
	if (r != a->expect_err || (a->expect_msg && !strstr(d.msg, a->expect_msg)))
		_exit(EXIT_SANDBOX);
	_exit(r ? 0 : a->try(a, rep));
}

/* Fork, run the attempt, return the wait status; why gets the report. */
static int run(const struct attempt *a, char *why, size_t len)
{
	int p[2], st;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		child(a, p[1]);
	}
	close(p[1]);
	while (got + 1 < len && (n = read(p[0], why + got, len - 1 - got)) > 0)
		got += (size_t)n;
	why[got] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static const char *how(int st)
{
	static char s[48];
	if (WIFSIGNALED(st))
		snprintf(s, sizeof s, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(s, sizeof s, "exited with %d", WEXITSTATUS(st));
	return s;
}

#define assert_killed(st, why) \
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "child %s, not by SIGSYS: %s", how(st), why)
#define assert_exit0(st, why) \
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s: %s", how(st), why)

static bool have_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) >= 2;
}

static int try_nothing(const struct attempt *a, int rep)
{
	(void)a;
	(void)rep;
	return 0;
}

/* ---- forbidden calls: the filter kills ---- */

static int try_socket(const struct attempt *a, int rep)
{
	(void)a;
	report(rep, "socket() returned %d", socket(AF_INET, SOCK_DGRAM, 0));
	return EXIT_TRY_FAILED;
}

static int try_execve(const struct attempt *a, int rep)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	(void)a;
	execve("/bin/true", argv, envp);
	report(rep, "execve failed: %s", strerror(errno));
	return EXIT_TRY_FAILED;
}

Test(sandbox, socket_kills)
{
	struct attempt a = { .try = try_socket, .link_fd = -1, .allow_no_landlock = true };
	char why[1024];
	int st = run(&a, why, sizeof why);
	assert_killed(st, why);
}

Test(sandbox, execve_kills)
{
	struct attempt a = { .try = try_execve, .link_fd = -1, .allow_no_landlock = true };
	char why[1024];
	int st = run(&a, why, sizeof why);
	assert_killed(st, why);
}

/* A UDP socket opened before the sandbox (as the link's is) cannot send. */
static struct sockaddr_in udp_to;

static int try_sendto(const struct attempt *a, int rep)
{
	long r = sendto(a->fd, "leak", 4, 0, (struct sockaddr *)&udp_to, sizeof udp_to);
	report(rep, "sendto returned %ld", r);
	return EXIT_TRY_FAILED;
}

static int try_sendmsg(const struct attempt *a, int rep)
{
	struct iovec v = { "leak", 4 };
	struct msghdr m = { .msg_name = &udp_to, .msg_namelen = sizeof udp_to, .msg_iov = &v,
			    .msg_iovlen = 1 };
	report(rep, "sendmsg returned %ld", (long)sendmsg(a->fd, &m, 0));
	return EXIT_TRY_FAILED;
}

static int try_connect_write(const struct attempt *a, int rep)
{
	long r = connect(a->fd, (struct sockaddr *)&udp_to, sizeof udp_to);
	report(rep, "connect returned %ld; write %ld", r, (long)write(a->fd, "leak", 4));
	return EXIT_TRY_FAILED;
}

static void udp_cannot_send(int (*try)(const struct attempt *, int))
{
	struct attempt a = { .try = try, .link_fd = -1, .allow_no_landlock = true };
	socklen_t len = sizeof udp_to;
	char why[1024], buf[16];
	int sink = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct pollfd p = { .fd = sink, .events = POLLIN };

	a.fd = socket(AF_INET, SOCK_DGRAM, 0);
	udp_to.sin_family = AF_INET;
	udp_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(sink, (struct sockaddr *)&udp_to, sizeof udp_to), 0);
	cr_assert_eq(getsockname(sink, (struct sockaddr *)&udp_to, &len), 0);
	cr_assert_eq(bind(a.fd, (struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, sizeof udp_to), 0);
	int st = run(&a, why, sizeof why);
	assert_killed(st, why);
	cr_assert_eq(poll(&p, 1, 200), 0, "a datagram arrived: %zd bytes",
		     recv(sink, buf, sizeof buf, 0));
	/* the same socket could send before the sandbox: the check sees one */
	cr_assert_eq(sendto(a.fd, "ok", 2, 0, (struct sockaddr *)&udp_to, sizeof udp_to), 2);
	cr_assert_eq(poll(&p, 1, 1000), 1);
	close(a.fd);
	close(sink);
}

Test(sandbox, udp_sendto_kills) { udp_cannot_send(try_sendto); }
Test(sandbox, udp_sendmsg_kills) { udp_cannot_send(try_sendmsg); }
Test(sandbox, udp_connect_kills) { udp_cannot_send(try_connect_write); }

/* ---- the filesystem: the state and release trees only ---- */

/* Stage a file in the state tree, move it into the release tree (the
 * release rename crosses trees), write one more there by its path. */
static int try_stage_and_release(const struct attempt *a, int rep)
{
	char path[160];
	int fd = openat(B.state_fd, "staged", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	(void)a;
	if (fd < 0 || write(fd, "payload", 7) != 7 || fsync(fd) != 0 || close(fd) != 0) {
		report(rep, "writing state/staged: %s", strerror(errno));
		return EXIT_TRY_FAILED;
	}
	if (renameat(B.state_fd, "staged", B.release_fd, "released") != 0) {
		report(rep, "rename into the release tree: %s", strerror(errno));
		return EXIT_TRY_FAILED;
	}
	snprintf(path, sizeof path, "%s/by-path", B.release);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) != 0) {
		report(rep, "creating %s: %s", path, strerror(errno));
		return EXIT_TRY_FAILED;
	}
	return 0;
}

Test(sandbox, state_and_release_writable)
{
	struct attempt a = { .try = try_stage_and_release, .link_fd = -1,
			     .allow_no_landlock = true };
	char why[1024], buf[16] = "";
	int st = run(&a, why, sizeof why);
	assert_exit0(st, why);
	int fd = openat(B.release_fd, "released", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, buf, sizeof buf), 7);
	cr_assert_str_eq(buf, "payload");
	close(fd);
}

/* Each write outside the two trees must fail with EACCES (Landlock) or
 * EXDEV (a rename out of them); exit 0 when all did. */
static int try_outside(const struct attempt *a, int rep)
{
	char path[160];
	int fd, r, bad = 0;
	(void)a;
	snprintf(path, sizeof path, "%s/escaped", B.outside);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EACCES) {
		report(rep, "create %s: %s; ", path, fd >= 0 ? "allowed" : strerror(errno));
		bad = 1;
	}
	r = mkdirat(AT_FDCWD, path, 0700); /* mkdir(2) itself is not allowed */
	if (r == 0 || errno != EACCES) {
		report(rep, "mkdir %s: %s; ", path, r == 0 ? "allowed" : strerror(errno));
		bad = 1;
	}
	fd = openat(B.state_fd, "x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) != 0) {
		report(rep, "state/x: %s; ", strerror(errno));
		return EXIT_TRY_FAILED;
	}
	r = renameat(B.state_fd, "x", AT_FDCWD, path);
	if (r == 0 || (errno != EXDEV && errno != EACCES)) {
		report(rep, "rename out of state: %s; ", r == 0 ? "allowed" : strerror(errno));
		bad = 1;
	}
	return bad ? EXIT_TRY_FAILED : 0;
}

Test(sandbox, outside_not_writable)
{
	struct attempt a = { .try = try_outside, .link_fd = -1 };
	char why[1024], path[160];
	struct stat s;
	if (!have_landlock()) {
		cr_skip_test("this kernel has no Landlock ABI 2: nothing confines the filesystem");
		return;
	}
	int st = run(&a, why, sizeof why);
	assert_exit0(st, why);
	snprintf(path, sizeof path, "%s/escaped", B.outside);
	cr_assert_neq(stat(path, &s), 0, "%s exists", path);
}

/* ---- without Landlock: refuse unless told ---- */

/* Make Landlock look absent, as on a kernel built without it. */
static void hide_landlock(const struct attempt *a)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	(void)a;
	if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_create_ruleset), 0) ||
	    seccomp_load(ctx))
		_exit(EXIT_TRY_FAILED);
	seccomp_release(ctx);
}

/* After prep the sandbox refuses to start without --allow-no-landlock,
 * saying `said`. */
static void expect_landlock_refused(void (*prep)(const struct attempt *), const char *said)
{
	struct attempt a = { .prep = prep, .link_fd = -1,
			     .expect_err = SL_ERR_UNSUPPORTED, .expect_msg = "--allow-no-landlock" };
	char why[1024];
	int st = run(&a, why, sizeof why);
	assert_exit0(st, why);
	cr_assert(strstr(why, said), "%s", why);
}

Test(sandbox, no_landlock_refused)
{
	expect_landlock_refused(hide_landlock, "no Landlock");
}

/* With --allow-no-landlock: a warning, seccomp still applied, and (the
 * meaning of the option) the filesystem is not confined. */
static int try_outside_then_socket(const struct attempt *a, int rep)
{
	char path[160];
	int fd;
	(void)a;
	snprintf(path, sizeof path, "%s/unconfined", B.outside);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		report(rep, "create %s: %s", path, strerror(errno));
		return EXIT_TRY_FAILED;
	}
	close(fd);
	return try_socket(a, rep);
}

Test(sandbox, no_landlock_allowed_seccomp_only)
{
	struct attempt a = { .prep = hide_landlock, .try = try_outside_then_socket, .link_fd = -1,
			     .allow_no_landlock = true, .expect_msg = "seccomp filter only" };
	char why[1024];
	int st = run(&a, why, sizeof why);
	assert_killed(st, why);
}

/* Fake Landlock ABI 1 (Linux 5.13 to 5.18): a user-notification filter
 * answers the version query with 1. This process stays outside to answer;
 * a child of it goes on, under the filter, to the sandbox. */
static void fake_abi1(const struct attempt *a)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int nfd, st;
	pid_t pid;

	(void)a;
	if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(landlock_create_ruleset), 0) ||
	    seccomp_load(ctx) || (nfd = seccomp_notify_fd(ctx)) < 0 ||
	    seccomp_notify_alloc(&req, &resp))
		_exit(EXIT_TRY_FAILED);
	pid = fork();
	if (pid == 0)
		return;
	/* answer until the child exits (10 s at most) */
	for (int i = 0; pid > 0 && i < 100; i++) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };
		if (waitpid(pid, &st, WNOHANG) == pid)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		if (poll(&p, 1, 100) != 1 || !(p.revents & POLLIN) || seccomp_notify_receive(nfd, req))
			continue;
		memset(resp, 0, sizeof *resp);
		resp->id = req->id;
		if (req->data.args[2] == LANDLOCK_CREATE_RULESET_VERSION)
			resp->val = 1;
		else
			resp->error = -ENOSYS;
		seccomp_notify_respond(nfd, resp);
	}
	_exit(EXIT_TRY_FAILED);
}

Test(sandbox, landlock_abi1_refused)
{
	expect_landlock_refused(fake_abi1, "ABI 1");
}

/* ---- eth: links: the capture socket cannot send ---- */

/* Enter a fresh network namespace with a veth pair sla-slb: this test's
 * process only, so both vanish when it exits. */
static bool veth_netns(void)
{
	if (getuid() != 0) {
		cr_skip_test("not root: cannot create a network namespace and a veth pair");
		return false;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		cr_skip_test("no network namespace: unshare(CLONE_NEWNET): %s", strerror(errno));
		return false;
	}
	if (system("ip link add sla type veth peer name slb && ip link set sla up && "
		   "ip link set slb up") != 0) {
		cr_skip_test("iproute2 could not create a veth pair in the namespace");
		return false;
	}
	return true;
}

/* Everything arriving on sla, the peer of the receive link's slb. */
static int peer_capture(void)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				 .sll_ifindex = (int)if_nametoindex("sla") };
	cr_assert_geq(s, 0, "%s", strerror(errno));
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
	return s;
}

#define MARK "sluice-sandbox-leak"

static uint8_t leak_frame[64] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x02,
	SL_ETHERTYPE >> 8, SL_ETHERTYPE & 0xff, 0, 19, 's', 'l', 'u', 'i', 'c', 'e', '-',
	's', 'a', 'n', 'd', 'b', 'o', 'x', '-', 'l', 'e', 'a', 'k',
};

/* Frames carrying MARK that reach sla within 300 ms of the last. */
static int leaked(int cap)
{
	uint8_t b[2048];
	struct pollfd p = { .fd = cap, .events = POLLIN };
	ssize_t r;
	int n = 0;

	while (poll(&p, 1, 300) == 1 && (r = recv(cap, b, sizeof b, 0)) > 0)
		if (memmem(b, (size_t)r, MARK, strlen(MARK)))
			n++;
	return n;
}

static int leak_write(int fd) { return (int)write(fd, leak_frame, sizeof leak_frame); }
static int leak_writev(int fd)
{
	struct iovec v = { leak_frame, sizeof leak_frame };
	return (int)writev(fd, &v, 1);
}
static int leak_dup(int fd) { return leak_write(dup(fd)); }
static int leak_fcntl_dup(int fd) { return leak_write(fcntl(fd, F_DUPFD_CLOEXEC, 100)); }
/* the kernel reads a descriptor's low 32 bits only */
static int leak_high_bits(int fd)
{
	return (int)syscall(SYS_write, (long)fd + (1L << 32), leak_frame, sizeof leak_frame);
}
static int leak_send(int fd) { return (int)send(fd, leak_frame, sizeof leak_frame, 0); }
static int leak_pwrite(int fd) { return (int)pwrite(fd, leak_frame, sizeof leak_frame, 0); }

static const struct {
	const char *name;
	int (*leak)(int fd);
} leaks[] = {
	{ "write", leak_write }, { "writev", leak_writev }, { "dup then write", leak_dup },
	{ "fcntl(F_DUPFD) then write", leak_fcntl_dup }, { "write to fd + 2^32", leak_high_bits },
	{ "send (what pcap_inject does)", leak_send }, { "pwrite", leak_pwrite },
};

static int try_leak(const struct attempt *a, int rep)
{
	int r = leaks[a->fd].leak(a->link_fd);
	report(rep, "%s returned %d (%s)", leaks[a->fd].name, r, r < 0 ? strerror(errno) : "sent");
	return r < 0 ? 0 : EXIT_TRY_FAILED;
}

Test(sandbox, eth_receive_link_cannot_send)
{
	struct sl_link *rx;
	struct sl_diag d;
	char why[1024];

	if (!veth_netns())
		return;
	cr_assert_eq(sl_link_open_rx("eth:slb", NULL, &rx, &d), SL_OK, "%s", d.msg);
	int cap = peer_capture();
	/* unconfined, the capture socket sends (and the peer sees it) */
	cr_assert_eq(leak_write(sl_link_fd(rx)), (int)sizeof leak_frame, "%s", strerror(errno));
	cr_assert_eq(leaked(cap), 1, "the peer capture does not see what slb sends");
	for (unsigned i = 0; i < sizeof leaks / sizeof leaks[0]; i++) {
		struct attempt a = { .try = try_leak, .fd = (int)i, .link_fd = sl_link_fd(rx),
				     .allow_no_landlock = true };
		int st = run(&a, why, sizeof why);
		cr_expect((WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) ||
			  (WIFEXITED(st) && WEXITSTATUS(st) == 0), "%s: child %s: %s",
			  leaks[i].name, how(st), why);
		cr_expect_eq(leaked(cap), 0, "%s: a frame left the receive link (%s)",
			     leaks[i].name, why);
	}
	close(cap);
	sl_link_close(rx);
}

/* The filter still lets the eth link receive (pcap's mmap ring, poll,
 * statistics) and close (libpcap's release of its ring then fails with
 * EPERM: before, the daemon died of SIGSYS when it stopped). */
static int try_eth_receive(const struct attempt *a, int rep)
{
	static uint8_t bufs[8][SL_LINK_MAX_DGRAM];
	struct sl_link *rx = (struct sl_link *)a->arg;
	struct sl_dgram dg[8];
	struct sl_diag d = { "" };
	int got = 0;

	for (int tries = 0; got < 20 && tries < 50; tries++) {
		for (int i = 0; i < 8; i++)
			dg[i] = (struct sl_dgram){ .buf = bufs[i], .cap = sizeof bufs[i] };
		int r = sl_link_recv(rx, dg, 8, 100, &d);
		if (r < 0) {
			report(rep, "receive: %s", d.msg);
			return EXIT_TRY_FAILED;
		}
		for (int i = 0; i < r; i++, got++)
			if (dg[i].len != 100 || dg[i].buf[0] != got) {
				report(rep, "datagram %d: %zu bytes, first %u", got, dg[i].len,
				       dg[i].buf[0]);
				return EXIT_TRY_FAILED;
			}
	}
	report(rep, "received %d of 20; closing", got);
	sl_link_close(rx); /* as the daemon does when it stops */
	return got == 20 ? 0 : EXIT_TRY_FAILED;
}

Test(sandbox, eth_receive_link_receives)
{
	struct sl_link *rx, *tx;
	struct sl_diag d;
	uint8_t data[20][100];
	struct iovec v[20];
	char why[1024];

	if (!veth_netns())
		return;
	cr_assert_eq(sl_link_open_rx("eth:slb", NULL, &rx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_open_tx("eth:sla", NULL, &tx, &d), SL_OK, "%s", d.msg);
	for (int i = 0; i < 20; i++) {
		memset(data[i], i, sizeof data[i]);
		v[i] = (struct iovec){ data[i], sizeof data[i] };
	}
	cr_assert_eq(sl_link_send(tx, v, 20, &d), 20, "%s", d.msg);
	struct attempt a = { .try = try_eth_receive, .arg = rx, .link_fd = sl_link_fd(rx),
			     .allow_no_landlock = true };
	int st = run(&a, why, sizeof why);
	assert_exit0(st, why);
	sl_link_close(tx);
	sl_link_close(rx);
}

/* A file ring (--file-io uring) writes where it is told, past seccomp: with
 * a packet socket open, refused; with a UDP socket (which cannot send
 * unaddressed), allowed. */
static void file_ring(const char *uri, int expect_err)
{
	struct sl_link *rx;
	struct sl_uio *u;
	struct sl_diag d;
	char why[1024];

	cr_assert_eq(sl_link_open_rx(uri, NULL, &rx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_new(SL_UIO_URING, 8, SL_UIO_RESTRICTED, &u, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_register(u, NULL, 0, &d), SL_OK, "%s", d.msg);
	struct attempt a = { .try = try_nothing, .link_fd = sl_link_fd(rx), .file_ring = true,
			     .allow_no_landlock = true, .expect_err = expect_err,
			     .expect_msg = expect_err ? "--file-io plain" : NULL };
	int st = run(&a, why, sizeof why);
	assert_exit0(st, why);
	sl_uio_free(u);
	sl_link_close(rx);
}

Test(sandbox, eth_with_file_ring_refused)
{
	if (veth_netns())
		file_ring("eth:slb", SL_ERR_INVAL);
}

Test(sandbox, udp_with_file_ring_allowed) { file_ring("udp://127.0.0.1:0", SL_OK); }

/* ---- the daemon: refuses to start without Landlock unless told ---- */

/* Run sluice-rx on an empty capture (so it exits by itself), Landlock
 * hidden or not; its output in out, its wait status returned. */
static int daemon_run(bool hide, const char *opt, char *out, size_t len)
{
	const char *rxbin = getenv("SLUICE_RX");
	char pcap[128], policy[128], log[128];
	int st, fd;
	ssize_t n;
	pid_t pid;

	snprintf(pcap, sizeof pcap, "pcap:%s/empty.pcap", B.base);
	snprintf(policy, sizeof policy, "%s/policy", B.base);
	snprintf(log, sizeof log, "%s/rx.out", B.base);
	char *argv[] = { (char *)rxbin, "--link", pcap, "--unkeyed", "--policy", policy,
			 "--state", B.state, "--release", B.release, (char *)opt, NULL };
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(EXIT_TRY_FAILED);
		if (hide)
			hide_landlock(NULL);
		execv(rxbin, argv);
		_exit(EXIT_TRY_FAILED);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	fd = open(log, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return st;
}

Test(sandbox, daemon_without_landlock)
{
	const char *tool = getenv("SLUICE");
	char cmd[1024], out[4096];
	pcap_t *p;
	pcap_dumper_t *dump;

	if (!tool || !getenv("SLUICE_RX")) {
		cr_skip_test("SLUICE and SLUICE_RX name the binaries (set by meson test)");
		return;
	}
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' keygen --officer alice -o alice --unencrypted "
		 ">/dev/null && '%s' policy create --officer alice.pub --threshold 1 --enclave lab "
		 "--link diode1 -o policy >/dev/null", B.base, tool, tool);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(cmd, sizeof cmd, "%s/empty.pcap", B.base);
	cr_assert_not_null(p = pcap_open_dead(DLT_EN10MB, 65535));
	cr_assert_not_null(dump = pcap_dump_open(p, cmd));
	pcap_dump_close(dump);
	pcap_close(p);

	int st = daemon_run(true, NULL, out, sizeof out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "sluice-rx %s: %s", how(st), out);
	cr_assert(strstr(out, "no Landlock") && strstr(out, "--allow-no-landlock"), "%s", out);
	st = daemon_run(true, "--allow-no-landlock", out, sizeof out);
	assert_exit0(st, out);
	cr_assert(strstr(out, "seccomp filter only"), "%s", out);
	if (have_landlock()) {
		st = daemon_run(false, NULL, out, sizeof out);
		assert_exit0(st, out);
		cr_assert_null(strstr(out, "seccomp filter only"), "%s", out);
	}
	snprintf(cmd, sizeof cmd, "'%s' --help | grep -q -- --allow-no-landlock", getenv("SLUICE_RX"));
	cr_assert_eq(system(cmd), 0, "--help does not mention --allow-no-landlock");
}

/* ---- the policy's directory: its files read, nothing written ---- */

static void make_policy_file(const struct attempt *a)
{
	char path[160];
	FILE *f;
	(void)a;
	snprintf(path, sizeof path, "%s/policy", B.outside);
	f = fopen(path, "w");
	if (!f || fputs("policy text\n", f) < 0 || fclose(f) != 0)
		_exit(EXIT_TRY_FAILED);
}

/* A file of the read directory is read (so is one an editor puts there
 * after the sandbox: e2e reload); nothing there is written or created; a
 * file elsewhere outside the trees is not read. */
static int try_read_dir(const struct attempt *a, int rep)
{
	char path[160], tmp[160], buf[32];
	int fd, bad = 0;
	(void)a;
	snprintf(path, sizeof path, "%s/policy", B.outside);
	snprintf(tmp, sizeof tmp, "%s/policy.new", B.outside);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof buf) <= 0) {
		report(rep, "read %s: %s; ", path, strerror(errno));
		bad = 1;
	}
	if (fd >= 0)
		close(fd);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		report(rep, "write %s: %s; ", path, fd >= 0 ? "allowed" : strerror(errno));
		bad = 1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EACCES) {
		report(rep, "create %s: %s; ", tmp, fd >= 0 ? "allowed" : strerror(errno));
		bad = 1;
	}
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		report(rep, "read /etc/hostname: %s; ", fd >= 0 ? "allowed" : strerror(errno));
		bad = 1;
	}
	return bad ? EXIT_TRY_FAILED : 0;
}

Test(sandbox, policy_directory_read_only)
{
	struct attempt a = { .prep = make_policy_file, .try = try_read_dir, .link_fd = -1 };
	char why[1024];
	if (!have_landlock()) {
		cr_skip_test("this kernel has no Landlock ABI 2: nothing confines the filesystem");
		return;
	}
	a.read_fd = open(B.outside, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(a.read_fd, 0);
	int st = run(&a, why, sizeof why);
	close(a.read_fd);
	assert_exit0(st, why);
}
