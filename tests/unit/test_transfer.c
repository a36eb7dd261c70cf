/* Unit tests for transfer-directory verification (tools/transfer_verify.c),
 * symlinks replaced inside a tree (tools/linkcopy.c) and
 * the hashing underneath it. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashfiles.h"
#include "linkcopy.h"
#include "manifest.h"
#include "minisign.h"
#include "policy.h"
#include "sha256.h"
#include "tmpdir_suite.h"
#include "transfer_verify.h"

TestSuite(transfer, .init = tmp_setup, .fini = tmp_teardown);

/* An empty manifest for enclave e1 over link l1, valid for a day from
 * 2000000000. */
static struct sl_manifest *new_manifest(const char *submitter, const char *purpose)
{
	struct sl_manifest *m;
	cr_assert_eq(sl_manifest_new(&m), SL_OK);
	snprintf(m->submitter, sizeof m->submitter, "%s", submitter);
	snprintf(m->enclave, sizeof m->enclave, "e1");
	snprintf(m->link, sizeof m->link, "l1");
	cr_assert_eq(sl_manifest_set_purpose(m, purpose, NULL), SL_OK);
	m->created = 2000000000;
	m->expires = 2000086400;
	return m;
}

Test(transfer, sha256_matches_known_vectors)
{
	uint8_t h[32];
	char hex[SL_SHA256_HEX];
	sl_sha256("abc", 3, h);
	cr_assert_str_eq(sl_sha256_hex(h, hex), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	struct sl_sha256 *c;
	cr_assert_eq(sl_sha256_new(&c), SL_OK);
	sl_sha256_update(c, "a", 1);
	sl_sha256_update(c, "bc", 2);
	sl_sha256_final(c, h);
	sl_sha256_free(c);
	cr_assert_str_eq(sl_sha256_hex(h, hex), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

struct fixture {
	struct sl_policy *p;
	struct sl_ms_seckey *k[2];
};

/* T/data with awkward names, a manifest over it, signatures by both officers. */
static void build(struct fixture *fx)
{
	static const char *const files[] = { "a b.txt", "donn\u00e9es.csv", "lib/libstdc++.so", "lib/model@v2" };
	struct sl_ms_pubkey pk;
	struct sl_manifest *m;
	struct sl_hash_job jobs[4];
	char p[512], *text, *sig;
	size_t len, slen;
	int dfd;

	tmpdir_mkdir(tmp_fd, "data");
	tmpdir_mkdir(tmp_fd, "data/lib");
	tmpdir_mkdir(tmp_fd, "data/lib/empty");
	tmpdir_mkdir(tmp_fd, "data/empty dir");
	tmpdir_put(tmp_fd, "data/a b.txt", "hello\n", 0644);
	tmpdir_put(tmp_fd, "data/donn\u00e9es.csv", "1,2\n", 0644);
	tmpdir_put(tmp_fd, "data/lib/libstdc++.so", "ELF", 0755);
	tmpdir_put(tmp_fd, "data/lib/model@v2", "", 0644);
	snprintf(p, sizeof p, "%s/data", tmp);
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	memset(jobs, 0, sizeof jobs);
	for (int i = 0; i < 4; i++)
		jobs[i].path = files[i];
	cr_assert_eq(sl_hash_files(dfd, jobs, 4, 2, NULL, NULL), SL_OK);
	close(dfd);
	m = new_manifest("carol", "unit test");
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(jobs[i].err, SL_OK, "%s: %s", jobs[i].path, jobs[i].msg);
		sl_manifest_add_file(m, jobs[i].path, jobs[i].size, jobs[i].sha256, jobs[i].mode, jobs[i].mtime);
	}
	static const char *const dirs[] = { "lib", "lib/empty", "empty dir" };
	for (int i = 0; i < 3; i++) {
		struct stat st;
		snprintf(p, sizeof p, "%s/data/%s", tmp, dirs[i]);
		cr_assert_eq(stat(p, &st), 0);
		sl_manifest_add_dir(m, dirs[i], 0755, st.st_mtim);
	}
	cr_assert_eq(jobs[2].mode, 0755);
	cr_assert_eq(sl_manifest_seal(m, NULL, NULL), SL_OK);
	cr_assert_eq(sl_manifest_emit(m, &text, &len, NULL), SL_OK);
	tmpdir_put(tmp_fd, "manifest", text, 0644);
	sl_manifest_free(m);

	cr_assert_eq(sl_policy_new(&fx->p), SL_OK);
	snprintf(fx->p->enclave, sizeof fx->p->enclave, "e1");
	snprintf(fx->p->link, sizeof fx->p->link, "l1");
	fx->p->threshold = 2;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sl_ms_keygen(&pk, &fx->k[i]), SL_OK);
		cr_assert_eq(sl_policy_add_key(fx->p, true, i ? "bob" : "alice", &pk, NULL), SL_OK);
		cr_assert_eq(sl_ms_sign(fx->k[i], (uint8_t *)text, len, "u", "t", &sig, &slen, NULL), SL_OK);
		tmpdir_put(tmp_fd, i ? "manifest.bob.minisig" : "manifest.alice.minisig", sig, 0644);
		free(sig);
	}
	free(text);
}

static void release(struct fixture *fx)
{
	sl_ms_seckey_free(fx->k[0]);
	sl_ms_seckey_free(fx->k[1]);
	sl_policy_free(fx->p);
}

static bool has_problem(const struct tv_report *r, const char *needle)
{
	for (size_t i = 0; i < r->nproblems; i++)
		if (strstr(r->problems[i].what, needle))
			return true;
	return false;
}

static int verify(struct fixture *fx, bool with_policy, struct tv_report **r, struct sl_diag *d)
{
	struct tv_opts o = { .now = 2000000100, .threads = 2 };
	return tv_verify(tmp, with_policy ? fx->p : NULL, &o, r, d);
}

Test(transfer, a_good_transfer_verifies)
{
	struct fixture fx;
	struct tv_report *r;
	struct sl_diag d;
	build(&fx);
	cr_assert_eq(verify(&fx, true, &r, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(r->files_ok, 4);
	cr_assert_eq(r->sigcheck.officers_valid, 2);
	cr_assert_eq(r->nsigs, 2);
	tv_report_free(r);
	cr_assert_eq(verify(&fx, false, &r, &d), SL_OK, "%s", d.msg);
	tv_report_free(r);
	release(&fx);
}

Test(transfer, every_failure_is_named)
{
	struct fixture fx;
	struct tv_report *r;
	struct sl_diag d;
	char a[512], b[512];
	build(&fx);
	tmpdir_put(tmp_fd, "data/a b.txt", "HELLO\n", 0644); /* same size, other content */
	tmpdir_put(tmp_fd, "data/lib/model@v2", "grown", 0644); /* other size */
	chmod((snprintf(a, sizeof a, "%s/data/lib/libstdc++.so", tmp), a), 0644); /* lost its x bit */
	tmpdir_put(tmp_fd, "data/extra.txt", "x", 0644); /* not listed */
	snprintf(a, sizeof a, "%s/data/link", tmp);
	cr_assert_eq(symlink("/etc/passwd", a), 0);       /* a symlink */
	snprintf(a, sizeof a, "%s/data/donn\u00e9es.csv", tmp);
	snprintf(b, sizeof b, "%s/data/renamed.csv", tmp);
	cr_assert_eq(rename(a, b), 0);                    /* missing, and an extra */
	tmpdir_put(tmp_fd, "notes.txt", "x", 0644); /* stray top-level entry */
	cr_assert_neq(verify(&fx, true, &r, &d), SL_OK);
	cr_assert(has_problem(r, "data/a%20b.txt: SHA-256"));
	cr_assert(has_problem(r, "data/lib/model@v2: size 5, the manifest says 0"));
	cr_assert(has_problem(r, "data/lib/libstdc++.so: mode 0644 on disk"));
	cr_assert(has_problem(r, "data/extra.txt: not in the manifest"));
	cr_assert(has_problem(r, "data/link: symbolic link"));
	cr_assert(has_problem(r, "data/donn%C3%A9es.csv: missing"));
	cr_assert(has_problem(r, "data/renamed.csv: not in the manifest"));
	cr_assert(has_problem(r, "notes.txt: unexpected entry"));
	cr_assert_eq(r->nproblems, 8, "%zu problems; first: %s", r->nproblems, r->problems[0].what);
	tv_report_free(r);
	release(&fx);
}

Test(transfer, signatures_and_policy_failures)
{
	struct fixture fx;
	struct tv_report *r;
	struct sl_diag d;
	char p[512];
	build(&fx);
	snprintf(p, sizeof p, "%s/manifest.bob.minisig", tmp);
	unlink(p);
	cr_assert_eq(verify(&fx, true, &r, &d), SL_ERR_THRESHOLD, "%s", d.msg);
	tv_report_free(r);
	snprintf(fx.p->enclave, sizeof fx.p->enclave, "other");
	fx.p->threshold = 1;
	cr_assert_eq(verify(&fx, true, &r, &d), SL_ERR_POLICY, "%s", d.msg);
	cr_assert(has_problem(r, "enclave 'e1'"));
	tv_report_free(r);
	/* a symlink on the path of a listed file is never followed */
	snprintf(fx.p->enclave, sizeof fx.p->enclave, "e1");
	char a[512], b[512];
	snprintf(a, sizeof a, "%s/data/lib", tmp);
	snprintf(b, sizeof b, "%s/elsewhere", tmp);
	cr_assert_eq(rename(a, b), 0);
	cr_assert_eq(symlink(b, a), 0);
	cr_assert_neq(verify(&fx, true, &r, &d), SL_OK);
	cr_assert(has_problem(r, "data/lib/model@v2: a symbolic link is on its path"));
	cr_assert(has_problem(r, "elsewhere: unexpected entry"));
	tv_report_free(r);
	release(&fx);
}

static void set_mtime(const char *rel, time_t sec, long nsec)
{
	char p[512];
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { sec, nsec } };
	snprintf(p, sizeof p, "%s/%s", tmp, rel);
	cr_assert_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0, "%s", p);
}

Test(transfer, directories_and_times)
{
	struct fixture fx;
	struct tv_report *r;
	struct tv_opts o = { .now = 2000000100, .threads = 2 };
	struct sl_diag d;
	char p[512];
	build(&fx);
	cr_assert_eq(verify(&fx, false, &r, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(r->dirs_ok, 3);
	tv_report_free(r);

	snprintf(p, sizeof p, "%s/data/empty dir", tmp);
	cr_assert_eq(rmdir(p), 0);                       /* an empty directory lost */
	tmpdir_mkdir(tmp_fd, "data/lib/extra"); /* one not listed (and lib's time changes) */
	set_mtime("data/a b.txt", 1500000000, 1);        /* a file touched */
	cr_assert_neq(verify(&fx, false, &r, &d), SL_OK);
	cr_assert(has_problem(r, "data/empty%20dir/: directory missing"));
	cr_assert(has_problem(r, "data/lib/extra: directory not in the manifest"));
	cr_assert(has_problem(r, "data/lib/: modified "), "lib's time changed with the new entry");
	cr_assert(has_problem(r, "data/a%20b.txt: modified 2017-07-14T02:40:00.000000001Z on disk, the manifest says"));
	cr_assert_eq(r->nproblems, 4, "%zu problems; first: %s", r->nproblems, r->problems[0].what);
	tv_report_free(r);

	/* Times ignored: only the directories are wrong. */
	o.ignore_times = true;
	cr_assert_neq(tv_verify(tmp, NULL, &o, &r, &d), SL_OK);
	cr_assert_eq(r->nproblems, 2, "%zu problems; first: %s", r->nproblems, r->problems[0].what);
	tv_report_free(r);
	snprintf(p, sizeof p, "%s/data/lib/extra", tmp);
	cr_assert_eq(rmdir(p), 0);
	tmpdir_mkdir(tmp_fd, "data/empty dir");
	cr_assert_eq(tv_verify(tmp, NULL, &o, &r, &d), SL_OK, "%s", d.msg);
	tv_report_free(r);

	/* a listed directory replaced by a file */
	snprintf(p, sizeof p, "%s/data/empty dir", tmp);
	cr_assert_eq(rmdir(p), 0);
	tmpdir_put(tmp_fd, "data/empty dir", "x", 0644);
	cr_assert_neq(tv_verify(tmp, NULL, &o, &r, &d), SL_OK);
	cr_assert(has_problem(r, "data/empty%20dir: not in the manifest"));
	cr_assert(has_problem(r, "data/empty%20dir/: directory missing (or not a directory)"));
	tv_report_free(r);
	release(&fx);
}

Test(transfer, version_1_has_no_directories)
{
	struct tv_report *r;
	struct sl_diag d;
	struct sl_manifest *m;
	struct sl_hash_job job = { .path = "a" };
	char p[512], *text;
	size_t len;
	int dfd;
	tmpdir_mkdir(tmp_fd, "data");
	tmpdir_mkdir(tmp_fd, "data/empty");
	tmpdir_put(tmp_fd, "data/a", "x", 0644);
	snprintf(p, sizeof p, "%s/data", tmp);
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(sl_hash_files(dfd, &job, 1, 1, NULL, NULL), SL_OK);
	close(dfd);
	m = new_manifest("c", "v1");
	m->version = 1;
	sl_manifest_add_file(m, "a", job.size, job.sha256, job.mode, (struct timespec){ 0, 0 });
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_manifest_emit(m, &text, &len, NULL), SL_OK);
	cr_assert(!strncmp(text, "sluice-manifest 1\n", 18));
	tmpdir_put(tmp_fd, "manifest", text, 0644);
	free(text);
	sl_manifest_free(m);
	/* the file's time is not compared, an empty directory is not a problem */
	cr_assert_eq(tv_verify(tmp, NULL, NULL, &r, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(r->dirs_ok, 0);
	tv_report_free(r);
}

Test(transfer, missing_directory)
{
	struct tv_report *r;
	struct sl_diag d;
	cr_assert_eq(tv_verify("/nonexistent/sluice", NULL, NULL, &r, &d), SL_ERR_NOTFOUND);
	cr_assert_null(r);
}

/* lc_resolve: inside the tree only, chains followed, loops bounded. */
Test(transfer, links_resolve_inside_the_tree_only)
{
	char p[512], abs[600], *target;
	struct stat st;
	struct sl_diag d;
	int dfd;
	tmpdir_mkdir(tmp_fd, "data");
	tmpdir_mkdir(tmp_fd, "data/d");
	tmpdir_put(tmp_fd, "data/d/f", "x", 0644);
	snprintf(p, sizeof p, "%s/data", tmp);
	cr_assert_not_null(realpath(p, abs));
	dfd = open(p, O_RDONLY | O_DIRECTORY);
#define LINK(to, at) do { char l_[600]; snprintf(l_, sizeof l_, "%s/data/%s", tmp, at); \
		cr_assert_eq(symlink(to, l_), 0, "%s", l_); } while (0)
	LINK("d/f", "rel");
	LINK("rel", "chain");
	LINK("../../data/d", "d/back");
	LINK("loop2", "loop1");
	LINK("loop1", "loop2");
	LINK("../outside", "up");
	LINK("d/f/x", "through");
	LINK("/etc", "etc");
	char inside[700];
	snprintf(inside, sizeof inside, "%s/d/f", abs);
	LINK(inside, "absin");
	cr_assert_eq(lc_resolve(dfd, abs, "chain", &target, &st, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq(target, "d/f");
	cr_assert(S_ISREG(st.st_mode));
	free(target);
	cr_assert_eq(lc_resolve(dfd, abs, "absin", &target, &st, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq(target, "d/f");
	free(target);
	cr_assert_neq(lc_resolve(dfd, abs, "d/back", &target, &st, &d), SL_OK, "../../data leaves the tree, even back into it");
	cr_assert(strstr(d.msg, "leaves the tree"), "%s", d.msg);
	cr_assert_neq(lc_resolve(dfd, abs, "loop1", &target, &st, &d), SL_OK);
	cr_assert(strstr(d.msg, "more than 40 links"), "%s", d.msg);
	cr_assert_neq(lc_resolve(dfd, abs, "up", &target, &st, &d), SL_OK);
	cr_assert(strstr(d.msg, "leaves the tree"), "%s", d.msg);
	cr_assert_neq(lc_resolve(dfd, abs, "through", &target, &st, &d), SL_OK);
	cr_assert(strstr(d.msg, "'d/f' on the way is not a directory"), "%s", d.msg);
	cr_assert_neq(lc_resolve(dfd, abs, "etc", &target, &st, &d), SL_OK);
	cr_assert(strstr(d.msg, "'/etc' is outside the tree"), "%s", d.msg);
	cr_assert_null(target);
#undef LINK
	close(dfd);
}
