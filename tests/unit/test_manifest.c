/* Unit tests for the manifest format (common/trust/manifest.c, common/trust/pathname.c):
 * round trips, and a hostile-manifest corpus where each case is refused with
 * its own reason. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "pathname.h"

#define H64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEAD(files, bytes) \
	"sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\n" \
	"created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\n" \
	"purpose test data\nenclave e1\nlink l1\nfiles " files "\nbytes " bytes "\n"
#define FILE_LINE(size, mode, path) "file " H64 " " size " " mode " " path "\n"
/* version 2 */
#define HEAD2(dirs, files, bytes) \
	"sluice-manifest 2\nid 00112233445566778899aabbccddeeff\nsequence 7\n" \
	"created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\n" \
	"purpose test data\nenclave e1\nlink l1\ndirs " dirs "\nfiles " files "\nbytes " bytes "\n"
#define DIR2(mtime, path) "dir 0755 " mtime " " path "\n"
#define FILE2(size, mode, mtime, path) "file " H64 " " size " " mode " " mtime " " path "\n"
#define T0 "1767225600.000000000"
/* version 3: a delta on base 99..99 */
#define BASE_ID "99999999999999999999999999999999"
#define HEAD3(dirs, files, bytes, taken, tbytes) \
	"sluice-manifest 3\nid 00112233445566778899aabbccddeeff\nsequence 7\n" \
	"created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\n" \
	"purpose test data\nenclave e1\nlink l1\nbase " BASE_ID " " H64 "\ndirs " dirs "\nfiles " files \
	"\nbytes " bytes "\ntaken " taken "\ntaken-bytes " tbytes "\n"
#define TAKE3(size, mode, mtime, path) "take " H64 " " size " " mode " " mtime " " path "\n"

static int parse_text(const char *t, struct sl_manifest **m, struct sl_diag *d)
{
	return sl_manifest_parse((const uint8_t *)t, strlen(t), NULL, m, d);
}

/* m emits exactly the text t. */
static void expect_emits(const struct sl_manifest *m, const char *t)
{
	struct sl_diag d = { "" };
	char *out;
	size_t len;
	cr_assert_eq(sl_manifest_emit(m, &out, &len, &d), SL_OK, "%s", d.msg);
	cr_assert(len == strlen(t) && !memcmp(out, t, len), "emitted:\n%.*s\nexpected:\n%s", (int)len, out, t);
	free(out);
}

Test(manifest, parses_a_valid_manifest)
{
	const char *t = HEAD("3", "6") FILE_LINE("1", "0644", "a%20b.txt") FILE_LINE("2", "0755", "bin/tool")
		FILE_LINE("3", "0644", "donn%C3%A9es.csv") "end\n";
	struct sl_manifest *m;
	struct sl_diag d;
	int rc = parse_text(t, &m, &d);
	cr_assert_eq(rc, SL_OK, "%s", d.msg);
	cr_assert_str_eq(m->id_hex, "00112233445566778899aabbccddeeff");
	cr_assert_eq(m->id[0], 0x00);
	cr_assert_eq(m->id[15], 0xff);
	cr_assert_eq(m->sequence, 7);
	cr_assert_eq(m->created, 1767225600);
	cr_assert_eq(m->expires, 1767225600 + 7 * 86400);
	cr_assert_str_eq(m->purpose, "test data");
	cr_assert_eq(m->nfiles, 3);
	cr_assert_str_eq(m->files[0].path, "a b.txt");
	cr_assert_str_eq(m->files[2].path, "donn\u00e9es.csv");
	cr_assert_eq(m->files[1].mode, 0755);
	cr_assert_eq(m->files[0].offset, 0);
	cr_assert_eq(m->files[1].offset, 1);
	cr_assert_eq(m->files[2].offset, 3);
	cr_assert_eq(m->total_bytes, 6);
	cr_assert_eq(sl_manifest_find(m, "bin/tool"), 1);
	cr_assert_eq(sl_manifest_find(m, "bin"), -1);
	expect_emits(m, t);
	sl_manifest_free(m);
}

Test(manifest, build_emit_parse_round_trip)
{
	static const char *const names[] = {
		"libstdc++.so", "model@v2", "a b.txt", "donn\u00e9es.csv", "x/y/z%.bin", "tab#hash$&;'\"!",
		"\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80.txt", "Index.html", "index.html", "-leading-dash", ".hidden",
	};
	struct sl_manifest *m, *m2;
	struct sl_diag d;
	uint8_t h[32];
	char *t1, *t2;
	size_t l1, l2;

	cr_assert_eq(sl_manifest_new(&m), SL_OK);
	snprintf(m->submitter, sizeof m->submitter, "carol");
	snprintf(m->enclave, sizeof m->enclave, "train-a");
	snprintf(m->link, sizeof m->link, "diode-1");
	cr_assert_eq(sl_manifest_set_purpose(m, "Weekly refresh: 50% of \"all\" data, données", &d), SL_OK, "%s", d.msg);
	m->sequence = 42;
	m->created = 1700000000;
	m->expires = 1700604800;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		memset(h, (int)i, sizeof h);
		cr_assert_eq(sl_manifest_add_file(m, names[i], i * 1000, h, i % 2 ? 0755 : 0644,
						  (struct timespec){ 1700000000 + (time_t)i, (long)i * 11111111 }), SL_OK);
	}
	cr_assert_eq(sl_manifest_add_dir(m, "empty dir", 0755, (struct timespec){ 1600000000, 999999999 }), SL_OK);
	cr_assert_eq(sl_manifest_add_parent_dirs(m, (struct timespec){ 1690000000, 5 }), SL_OK);
	cr_assert_eq(m->ndirs, 4, "x, x/y, the CJK directory and the empty one");
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_OK, "%s", d.msg);
	for (size_t i = 1; i < m->nfiles; i++)
		cr_assert(strcmp(m->files[i - 1].path, m->files[i].path) < 0);
	cr_assert_eq(sl_manifest_emit(m, &t1, &l1, &d), SL_OK);
	for (size_t i = 0; i < l1; i++)
		cr_assert(t1[i] == '\n' || (t1[i] >= 0x20 && t1[i] < 0x7f), "non-ASCII byte in the manifest");
	cr_assert_eq(sl_manifest_parse((uint8_t *)t1, l1, NULL, &m2, &d), SL_OK, "%s\n%s", d.msg, t1);
	cr_assert_str_eq(m2->id_hex, m->id_hex);
	cr_assert_str_eq(m2->purpose, m->purpose);
	cr_assert_eq(m2->version, 2);
	cr_assert_eq(m2->nfiles, m->nfiles);
	cr_assert_eq(m2->ndirs, m->ndirs);
	for (size_t i = 0; i < m->ndirs; i++) {
		cr_assert_str_eq(m2->dirs[i].path, m->dirs[i].path);
		cr_assert_eq(m2->dirs[i].mode, 0755);
		cr_assert_eq(m2->dirs[i].mtime.tv_sec, m->dirs[i].mtime.tv_sec);
		cr_assert_eq(m2->dirs[i].mtime.tv_nsec, m->dirs[i].mtime.tv_nsec);
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		cr_assert_eq(m2->files[i].mtime.tv_sec, m->files[i].mtime.tv_sec);
		cr_assert_eq(m2->files[i].mtime.tv_nsec, m->files[i].mtime.tv_nsec);
		cr_assert_str_eq(m2->files[i].path, m->files[i].path);
		cr_assert_eq(m2->files[i].size, m->files[i].size);
		cr_assert_eq(m2->files[i].offset, m->files[i].offset);
		cr_assert_eq(m2->files[i].mode, m->files[i].mode);
		cr_assert(!memcmp(m2->files[i].sha256, m->files[i].sha256, 32));
	}
	cr_assert_eq(sl_manifest_emit(m2, &t2, &l2, &d), SL_OK);
	cr_assert_eq(l1, l2);
	cr_assert(!memcmp(t1, t2, l1));
	free(t1);
	free(t2);
	sl_manifest_free(m);
	sl_manifest_free(m2);
}

Test(manifest, fresh_ids_are_random)
{
	struct sl_manifest *a, *b;
	uint8_t id[16];
	cr_assert_eq(sl_manifest_new(&a), SL_OK);
	cr_assert_eq(sl_manifest_new(&b), SL_OK);
	cr_assert_neq(memcmp(a->id, b->id, 16), 0);
	cr_assert_eq(strlen(a->id_hex), 32);
	sl_manifest_id_bytes(a, id);
	cr_assert(!memcmp(id, a->id, 16));
	sl_manifest_free(a);
	sl_manifest_free(b);
}

/* A new manifest with every header field set and no entries. */
static struct sl_manifest *minimal_manifest(void)
{
	struct sl_manifest *m;
	cr_assert_eq(sl_manifest_new(&m), SL_OK);
	snprintf(m->submitter, sizeof m->submitter, "s");
	snprintf(m->enclave, sizeof m->enclave, "e");
	snprintf(m->link, sizeof m->link, "l");
	cr_assert_eq(sl_manifest_set_purpose(m, "p", NULL), SL_OK);
	m->created = 1;
	m->expires = 2;
	return m;
}

Test(manifest, seal_refuses_prefix_and_duplicate)
{
	struct sl_manifest *m;
	struct sl_diag d;
	uint8_t h[32] = { 0 };
	m = minimal_manifest();
	sl_manifest_add_file(m, "a/b", 1, h, 0644, (struct timespec){ 0, 0 });
	sl_manifest_add_file(m, "a", 1, h, 0644, (struct timespec){ 0, 0 });
	m->version = 1;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_NAME);
	cr_assert(strstr(d.msg, "also a directory"), "%s", d.msg);
	m->version = 2;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_NAME, "version 2 lists the directory a");
	cr_assert(strstr(d.msg, "'a/b': the directory of this file is not listed"), "%s", d.msg);
	cr_assert_eq(sl_manifest_add_parent_dirs(m, (struct timespec){ 0, 0 }), SL_OK);
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_NAME);
	cr_assert(strstr(d.msg, "'a': also listed as a directory"), "%s", d.msg);
	sl_manifest_free(m);
}

Test(manifest, seal_refuses_what_the_version_cannot_carry)
{
	struct sl_manifest *m;
	struct sl_diag d;
	uint8_t h[32] = { 0 };
	m = minimal_manifest();
	cr_assert_eq(m->version, 2);
	sl_manifest_add_file(m, "d/f", 1, h, 0644, (struct timespec){ 5, 0 });
	sl_manifest_add_dir(m, "d", 0700, (struct timespec){ 5, 0 });
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "directories are 0755"), "%s", d.msg);
	m->dirs[0].mode = 0755;
	m->dirs[0].mtime.tv_nsec = 1000000000;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_RANGE);
	m->dirs[0].mtime.tv_nsec = 0;
	m->files[0].mtime.tv_sec = -1;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_RANGE);
	cr_assert(strstr(d.msg, "1970..9999"), "%s", d.msg);
	m->files[0].mtime.tv_sec = 5;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_OK, "%s", d.msg);
	m->version = 1;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "no directories"), "%s", d.msg);
	m->version = 3; /* without a base */
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "version 3, and only it"), "%s", d.msg);
	m->version = 4;
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_UNSUPPORTED);
	sl_manifest_free(m);
}

Test(manifest, delta_round_trip)
{
	static const char t[] = HEAD3("1", "1", "5", "2", "7") DIR2(T0, "d") TAKE3("3", "0755", T0, "a")
		FILE2("5", "0644", T0, "b") TAKE3("4", "0644", T0, "d/c") "end\n";
	struct sl_manifest *m = NULL;
	struct sl_diag d = { "" };

	cr_assert_eq(parse_text(t, &m, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(m->version, 3);
	cr_assert(m->has_base);
	cr_assert_str_eq(m->base_hex, BASE_ID);
	cr_assert_eq(m->nfiles, 1);
	cr_assert_eq(m->ntaken, 2);
	cr_assert_eq(m->total_bytes, 5);
	cr_assert_eq(m->taken_bytes, 7);
	cr_assert_eq(m->files[0].offset, 0);
	cr_assert_str_eq(m->taken[1].path, "d/c");
	cr_assert_eq(sl_manifest_lookup(m, "a"), &m->taken[0]);
	cr_assert_eq(sl_manifest_lookup(m, "b"), &m->files[0]);
	cr_assert_null(sl_manifest_lookup(m, "d"));
	expect_emits(m, t);
	sl_manifest_free(m);
}

Test(manifest, delta_built_like_parsed)
{
	static const char t[] = HEAD3("0", "1", "5", "1", "3") TAKE3("3", "0755", T0, "a") FILE2("5", "0644", T0, "b") "end\n";
	struct sl_manifest *m = NULL;
	struct sl_diag d = { "" };
	uint8_t base[16], h[32];
	struct timespec t0 = { 1767225600, 0 };

	memset(base, 0x99, sizeof base);
	memset(h, 0xaa, sizeof h);
	cr_assert_eq(sl_manifest_new(&m), SL_OK);
	memset(m->id, 0, sizeof m->id); /* the fixed id of the text */
	for (int i = 0; i < 16; i++)
		m->id[i] = (uint8_t)(i * 0x11);
	snprintf(m->id_hex, sizeof m->id_hex, "00112233445566778899aabbccddeeff");
	m->sequence = 7;
	m->created = 1767225600;
	m->expires = 1767225600 + 7 * 86400;
	strcpy(m->submitter, "carol");
	strcpy(m->enclave, "e1");
	strcpy(m->link, "l1");
	cr_assert_eq(sl_manifest_set_purpose(m, "test data", &d), SL_OK);
	sl_manifest_set_base(m, base, h);
	cr_assert_eq(sl_manifest_add_file(m, "b", 5, h, 0644, t0), SL_OK);
	cr_assert_eq(sl_manifest_take_file(m, "a", 3, h, 0755, t0), SL_OK);
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_OK, "%s", d.msg);
	expect_emits(m, t);
	cr_assert_eq(sl_manifest_take_file(m, "b", 5, h, 0644, t0), SL_OK); /* sent and taken */
	cr_assert_eq(sl_manifest_seal(m, NULL, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "duplicate path"), "%s", d.msg);
	sl_manifest_free(m);
}

Test(manifest, parses_version_2)
{
	struct sl_manifest *m = NULL;
	struct sl_diag d;
	const char *ok = HEAD2("4", "3", "6") DIR2("0.000000000", "bin") DIR2("253402300799.999999999", "bin/empty")
		DIR2(T0, "donn%C3%A9es") DIR2("1767225600.000000005", "x")
		FILE2("1", "0644", "1767225600.123456789", "a%20b.txt") FILE2("2", "0755", T0, "bin/tool")
		FILE2("3", "0644", "0.000000000", "x/y") "end\n";
	cr_assert_eq(parse_text(ok, &m, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(m->version, 2);
	cr_assert_eq(m->ndirs, 4);
	cr_assert_str_eq(m->dirs[1].path, "bin/empty");
	cr_assert_eq(m->dirs[1].mtime.tv_sec, 253402300799);
	cr_assert_eq(m->dirs[1].mtime.tv_nsec, 999999999);
	cr_assert_str_eq(m->dirs[2].path, "donn\u00e9es");
	cr_assert_eq(m->dirs[3].mtime.tv_nsec, 5);
	cr_assert_eq(m->files[0].mtime.tv_sec, 1767225600);
	cr_assert_eq(m->files[0].mtime.tv_nsec, 123456789);
	cr_assert_eq(m->files[1].mode, 0755);
	cr_assert_eq(m->files[2].offset, 3);
	cr_assert_eq(sl_manifest_find_dir(m, "bin/empty"), 1);
	cr_assert_eq(sl_manifest_find_dir(m, "bin/tool"), -1);
	cr_assert_eq(sl_manifest_find(m, "x/y"), 2);
	expect_emits(m, ok);
	sl_manifest_free(m);
}

Test(manifest, mtimes)
{
	static const struct {
		const char *text;
		int err;
	} refused[] = {
		{ "253402300800.000000000", SL_ERR_RANGE },
		{ "01.000000000", SL_ERR_PARSE },
		{ "1.00000000", SL_ERR_PARSE },
		{ "1.0000000000", SL_ERR_PARSE },
		{ "1", SL_ERR_PARSE },
		{ "-1.000000000", SL_ERR_PARSE },
		{ ".000000000", SL_ERR_PARSE },
		{ "1.00000000a", SL_ERR_PARSE },
	};
	struct timespec t;
	char b[SL_MTIME_BUF], u[SL_MTIME_UTC_BUF];
	cr_assert_eq(sl_mtime_parse("0.000000000", 11, &t), SL_OK);
	cr_assert_eq(t.tv_sec, 0);
	cr_assert_eq(sl_mtime_parse("1700000000.000000001", 20, &t), SL_OK);
	cr_assert_eq(t.tv_nsec, 1);
	cr_assert_str_eq(sl_mtime_format(t, b, sizeof b), "1700000000.000000001");
	cr_assert_str_eq(sl_mtime_format_utc(t, u, sizeof u), "2023-11-14T22:13:20.000000001Z");
	cr_assert_eq(sl_mtime_parse("253402300799.999999999", 22, &t), SL_OK);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		cr_assert_eq(sl_mtime_parse(refused[i].text, strlen(refused[i].text), &t), refused[i].err, "'%s'",
			     refused[i].text);
}

Test(manifest, times)
{
	char b[32];
	int64_t t;
	cr_assert_str_eq(sl_time_format(0, b, sizeof b), "1970-01-01T00:00:00Z");
	cr_assert_str_eq(sl_time_format(951782400, b, sizeof b), "2000-02-29T00:00:00Z");
	cr_assert_eq(sl_time_parse("2000-02-29T00:00:00Z", 20, &t), SL_OK);
	cr_assert_eq(t, 951782400);
	cr_assert_neq(sl_time_parse("2001-02-29T00:00:00Z", 20, &t), SL_OK);
	cr_assert_neq(sl_time_parse("2001-01-01T24:00:00Z", 20, &t), SL_OK);
	cr_assert_neq(sl_time_parse("2001-01-01 00:00:00Z", 20, &t), SL_OK);
	cr_assert_neq(sl_time_parse("2001-01-01T00:00:00+", 20, &t), SL_OK);
}

/* ---- a stream offset's file ------------------------------------------------ */

/* sl_manifest_file_at by a linear scan: the first non-empty file holding off. */
static size_t file_at_by_scan(const struct sl_manifest_file *f, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].size && f[i].offset <= off && off < f[i].offset + f[i].size)
			return i;
	return n;
}

Test(manifest, file_at_finds_the_file_of_a_stream_offset)
{
	/* empty files at the start, in the middle (two) and at the end */
	const char *t = HEAD("6", "5") FILE_LINE("0", "0644", "a") FILE_LINE("3", "0644", "b")
		FILE_LINE("0", "0644", "c") FILE_LINE("0", "0644", "d") FILE_LINE("2", "0644", "e")
		FILE_LINE("0", "0644", "f") "end\n";
	struct sl_manifest *m;
	struct sl_diag d;
	cr_assert_eq(parse_text(t, &m, &d), SL_OK, "%s", d.msg);
	const struct sl_manifest_file *f = m->files;
	size_t n = m->nfiles;
	cr_assert_eq(sl_manifest_file_at(f, n, 0), 1, "b's first byte, not the empty a before it");
	cr_assert_eq(sl_manifest_file_at(f, n, 1), 1);
	cr_assert_eq(sl_manifest_file_at(f, n, 2), 1, "b's last byte");
	cr_assert_eq(sl_manifest_file_at(f, n, 3), 4, "e's first byte, not the empty c or d at its offset");
	cr_assert_eq(sl_manifest_file_at(f, n, 4), 4, "e's last byte");
	cr_assert_eq(sl_manifest_file_at(f, n, 5), n, "the end of the stream: not the empty f there");
	cr_assert_eq(sl_manifest_file_at(f, n, 6), n);
	cr_assert_eq(sl_manifest_file_at(f, n, UINT64_MAX), n);
	cr_assert_eq(sl_manifest_file_at(f, 0, 0), 0, "no files");
	sl_manifest_free(m);
}

Test(manifest, file_at_with_only_empty_files)
{
	struct sl_manifest_file f[3] = { { .path = "a" }, { .path = "b" }, { .path = "c" } };
	cr_assert_eq(sl_manifest_file_at(f, 3, 0), 3);
	cr_assert_eq(sl_manifest_file_at(f, 3, 1), 3);
	cr_assert_eq(sl_manifest_file_at(f, 1, 0), 1);
}

/* Every offset of tables of 1 to 9 files, each of size 0, 1 or 2 (3^9 of
 * them at the most), against the linear scan. */
Test(manifest, file_at_agrees_with_a_scan)
{
	struct sl_manifest_file f[9];
	for (size_t n = 1; n <= 9; n++) {
		size_t combos = 1;
		for (size_t i = 0; i < n; i++)
			combos *= 3;
		for (size_t c = 0; c < combos; c++) {
			uint64_t at = 0;
			for (size_t i = 0, v = c; i < n; i++, v /= 3) {
				f[i] = (struct sl_manifest_file){ .path = "x", .size = v % 3, .offset = at };
				at += f[i].size;
			}
			for (uint64_t off = 0; off <= at + 1; off++)
				cr_assert_eq(sl_manifest_file_at(f, n, off), file_at_by_scan(f, n, off),
					     "n %zu, sizes %zu (base 3), offset %llu", n, c, (unsigned long long)off);
		}
	}
}

/* ---- the hostile corpus ---------------------------------------------------- */

#define LONGNAME "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

struct hostile {
	const char *name;
	const char *text;
	int code;
	const char *reason; /* substring of the diagnostic */
};

static struct hostile cases[] = {
	{ "absolute path", HEAD("1", "1") FILE_LINE("1", "0644", "/etc/passwd") "end\n", SL_ERR_NAME, "absolute path" },
	{ "dot-dot", HEAD("1", "1") FILE_LINE("1", "0644", "a/../b") "end\n", SL_ERR_NAME, "'..'" },
	{ "dot", HEAD("1", "1") FILE_LINE("1", "0644", "a/./b") "end\n", SL_ERR_NAME, "component '.'" },
	{ "dot-git", HEAD("1", "1") FILE_LINE("1", "0644", "x/.GiT/config") "end\n", SL_ERR_NAME, ".git in any case" },
	{ "NUL escaped", HEAD("1", "1") FILE_LINE("1", "0644", "a%00b") "end\n", SL_ERR_NAME, "NUL byte" },
	{ "C0 control", HEAD("1", "1") FILE_LINE("1", "0644", "a%01b") "end\n", SL_ERR_NAME, "control character U+0001" },
	{ "DEL", HEAD("1", "1") FILE_LINE("1", "0644", "a%7Fb") "end\n", SL_ERR_NAME, "control character U+007F" },
	{ "C1 control", HEAD("1", "1") FILE_LINE("1", "0644", "a%C2%85b") "end\n", SL_ERR_NAME, "control character U+0085" },
	{ "newline escaped", HEAD("1", "1") FILE_LINE("1", "0644", "a%0Ab") "end\n", SL_ERR_NAME, "U+000A" },
	{ "raw tab", HEAD("1", "1") "file " H64 " 1 0644 a\tb\n" "end\n", SL_ERR_PARSE, "byte 0x09" },
	{ "raw high byte", HEAD("1", "1") "file " H64 " 1 0644 a\xc3\xa9\n" "end\n", SL_ERR_PARSE, "byte 0xC3" },
	{ "CRLF", "sluice-manifest 1\r\n", SL_ERR_PARSE, "carriage return" },
	{ "CRLF in file line", HEAD("1", "1") "file " H64 " 1 0644 a\r\nend\n", SL_ERR_PARSE, "carriage return" },
	{ "duplicate", HEAD("2", "2") FILE_LINE("1", "0644", "a") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_PARSE, "duplicate path" },
	{ "unsorted", HEAD("2", "2") FILE_LINE("1", "0644", "b") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_PARSE, "bytewise order" },
	{ "prefix collision", HEAD("2", "2") FILE_LINE("1", "0644", "a") FILE_LINE("1", "0644", "a/b") "end\n", SL_ERR_NAME, "also a directory" },
	{ "prefix collision, not adjacent", HEAD("3", "3") FILE_LINE("1", "0644", "a") FILE_LINE("1", "0644", "a%20b") FILE_LINE("1", "0644", "a/b") "end\n", SL_ERR_NAME, "also a directory" },
	{ "huge file count", HEAD("99999999999", "1") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_RANGE, "files 99999999999 exceeds" },
	{ "count beyond text", HEAD("1000", "1") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_PARSE, "cannot hold" },
	{ "fewer lines than count", HEAD("2", "1") FILE_LINE("1", "0644", LONGNAME) "end\n", SL_ERR_PARSE, "'end' after 1 file lines" },
	{ "more lines than count", HEAD("1", "1") FILE_LINE("1", "0644", "a") FILE_LINE("1", "0644", "b") "end\n", SL_ERR_PARSE, "more file lines" },
	{ "size overflows u64", HEAD("1", "1") FILE_LINE("18446744073709551616", "0644", "a") "end\n", SL_ERR_RANGE, "size exceeds" },
	{ "size above the limit", HEAD("1", "1") FILE_LINE("17592186044417", "0644", "a") "end\n", SL_ERR_RANGE, "size exceeds" },
	{ "sizes add up past the limit", HEAD("2", "1") FILE_LINE("17592186044416", "0644", "a") FILE_LINE("1", "0644", "b") "end\n", SL_ERR_RANGE, "add up" },
	{ "bytes mismatch", HEAD("1", "2") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_PARSE, "add up to 1" },
	{ "bytes overflow", HEAD("1", "99999999999999999999") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_RANGE, "bytes" },
	{ "leading zero", HEAD("1", "1") FILE_LINE("01", "0644", "a") "end\n", SL_ERR_PARSE, "canonical decimal" },
	{ "negative size", HEAD("1", "1") FILE_LINE("-1", "0644", "a") "end\n", SL_ERR_PARSE, "canonical decimal" },
	{ "mode 0777", HEAD("1", "1") FILE_LINE("1", "0777", "a") "end\n", SL_ERR_PARSE, "0644 or 0755" },
	{ "mode 4755 (setuid)", HEAD("1", "1") FILE_LINE("1", "4755", "a") "end\n", SL_ERR_PARSE, "0644 or 0755" },
	{ "mode 2755 (setgid)", HEAD("1", "1") FILE_LINE("1", "2755", "a") "end\n", SL_ERR_PARSE, "0644 or 0755" },
	{ "uppercase hash", HEAD("1", "1") "file AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1 0644 a\nend\n", SL_ERR_PARSE, "SHA-256" },
	{ "short hash", HEAD("1", "1") "file aaaa 1 0644 " LONGNAME "\nend\n", SL_ERR_PARSE, "SHA-256" },
	{ "space in path", HEAD("1", "1") FILE_LINE("1", "0644", "a b") "end\n", SL_ERR_PARSE, "space in path" },
	{ "double space", HEAD("1", "1") "file " H64 "  1 0644 a\nend\n", SL_ERR_PARSE, "double space" },
	{ "lowercase escape", HEAD("1", "1") FILE_LINE("1", "0644", "a%c3%a9") "end\n", SL_ERR_PARSE, "uppercase hex" },
	{ "non-canonical escape", HEAD("1", "1") FILE_LINE("1", "0644", "%41") "end\n", SL_ERR_PARSE, "non-canonical" },
	{ "escaped slash", HEAD("1", "1") FILE_LINE("1", "0644", "a%2Fb") "end\n", SL_ERR_PARSE, "escaped '/'" },
	{ "truncated escape", HEAD("1", "1") FILE_LINE("1", "0644", "a%4") "end\n", SL_ERR_PARSE, "truncated" },
	{ "unescaped unsafe", HEAD("1", "1") FILE_LINE("1", "0644", "a#b") "end\n", SL_ERR_PARSE, "unescaped '#'" },
	{ "invalid UTF-8", HEAD("1", "1") FILE_LINE("1", "0644", "a%C3%28") "end\n", SL_ERR_NAME, "invalid UTF-8" },
	{ "overlong UTF-8", HEAD("1", "1") FILE_LINE("1", "0644", "%C0%AF") "end\n", SL_ERR_NAME, "invalid UTF-8" },
	{ "surrogate", HEAD("1", "1") FILE_LINE("1", "0644", "%ED%A0%80") "end\n", SL_ERR_NAME, "invalid UTF-8" },
	{ "empty component", HEAD("1", "1") FILE_LINE("1", "0644", "a//b") "end\n", SL_ERR_NAME, "empty component" },
	{ "trailing slash", HEAD("1", "1") FILE_LINE("1", "0644", "a/") "end\n", SL_ERR_NAME, "trailing '/'" },
	{ "too deep", HEAD("1", "1") FILE_LINE("1", "0644", "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a") "end\n", SL_ERR_NAME, "deeper than 32" },
	{ "no files", HEAD("0", "0") "end\n", SL_ERR_RANGE, "at least one file" },
	{ "data after end", HEAD("1", "1") FILE_LINE("1", "0644", "a") "end\nx", SL_ERR_PARSE, "after the 'end'" },
	{ "no end", HEAD("1", "1") FILE_LINE("1", "0644", "a"), SL_ERR_PARSE, "ends early" },
	{ "version 4", "sluice-manifest 4\n", SL_ERR_UNSUPPORTED, "version '4' (this sluice reads versions 1, 2 and 3)" },
	/* version 3: deltas */
	{ "v3 without base line", "sluice-manifest 3\nid 00112233445566778899aabbccddeeff\nsequence 7\n"
	  "created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\npurpose p\nenclave e1\nlink l1\ndirs 0\n",
	  SL_ERR_PARSE, "expected 'base'" },
	{ "v3 base without hash", "sluice-manifest 3\nid 00112233445566778899aabbccddeeff\nsequence 7\n"
	  "created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\npurpose p\nenclave e1\nlink l1\nbase " BASE_ID "\n",
	  SL_ERR_PARSE, "base is not a transfer id" },
	{ "v3 base is itself", "sluice-manifest 3\nid 00112233445566778899aabbccddeeff\nsequence 7\n"
	  "created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\npurpose p\nenclave e1\nlink l1\n"
	  "base 00112233445566778899aabbccddeeff " H64 "\n", SL_ERR_PARSE, "its own base" },
	{ "v3 without taken count", "sluice-manifest 3\nid 00112233445566778899aabbccddeeff\nsequence 7\n"
	  "created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\npurpose p\nenclave e1\nlink l1\n"
	  "base " BASE_ID " " H64 "\ndirs 0\nfiles 1\nbytes 1\n" FILE2("1", "0644", T0, "a") "end\n", SL_ERR_PARSE, "expected 'taken'" },
	{ "v3 taken and sent paths collide", HEAD3("0", "1", "1", "1", "1") FILE2("1", "0644", T0, "a") TAKE3("1", "0644", T0, "a") "end\n",
	  SL_ERR_PARSE, "line 17: duplicate path" },
	{ "v3 take before file out of order", HEAD3("0", "1", "1", "1", "1") TAKE3("1", "0644", T0, "b") FILE2("1", "0644", T0, "a") "end\n",
	  SL_ERR_PARSE, "line 17: not in bytewise order" },
	{ "v3 more take lines than taken", HEAD3("0", "1", "1", "1", "1") TAKE3("1", "0644", T0, "a") TAKE3("1", "0644", T0, "b") "end\n",
	  SL_ERR_PARSE, "more take lines than the header's taken 1" },
	{ "v3 taken-bytes wrong", HEAD3("0", "1", "1", "1", "2") FILE2("1", "0644", T0, "a") TAKE3("1", "0644", T0, "b") "end\n",
	  SL_ERR_PARSE, "taken-bytes 2, but the sizes of the take lines add up to 1" },
	{ "v3 take in an unlisted directory", HEAD3("0", "0", "0", "1", "1") TAKE3("1", "0644", T0, "d/a") "end\n",
	  SL_ERR_NAME, "the directory of this file is not listed" },
	{ "v3 take that is a directory", HEAD3("1", "0", "0", "1", "1") DIR2(T0, "a") TAKE3("1", "0644", T0, "a") "end\n",
	  SL_ERR_NAME, "also listed as a directory" },
	{ "v3 take escaping with ..", HEAD3("0", "0", "0", "1", "1") TAKE3("1", "0644", T0, "../x") "end\n", SL_ERR_NAME, "'..'" },
	{ "v3 nothing at all", HEAD3("0", "0", "0", "0", "0") "end\n", SL_ERR_RANGE, "at least one file" },
	{ "v2 with a take line", HEAD2("0", "1", "1") TAKE3("1", "0644", T0, "a") "end\n", SL_ERR_PARSE, "expected a 'file' line" },
	{ "v3 take-bytes above the limit", HEAD3("0", "1", "1", "1", "17592186044416") FILE2("1", "0644", T0, "a")
	  TAKE3("1", "0644", T0, "b") "end\n", SL_ERR_RANGE, "add up to more than the limit" },
	{ "version 10", "sluice-manifest 10\n", SL_ERR_UNSUPPORTED, "version '10'" },
	{ "version 02", "sluice-manifest 02\n", SL_ERR_UNSUPPORTED, "version '02'" },
	{ "no version", "sluice-manifest \n", SL_ERR_PARSE, "not a sluice manifest (expected 'sluice-manifest 2')" },
	/* names: invisible characters (libunistring: default-ignorable, Cf, Zl, Zp) */
	{ "U+034F combining grapheme joiner", HEAD("1", "1") FILE_LINE("1", "0644", "a%CD%8Fb") "end\n", SL_ERR_NAME, "invisible character U+034F" },
	{ "U+115F Hangul choseong filler", HEAD("1", "1") FILE_LINE("1", "0644", "%E1%85%9F") "end\n", SL_ERR_NAME, "invisible character U+115F" },
	{ "U+3164 Hangul filler", HEAD("1", "1") FILE_LINE("1", "0644", "a%E3%85%A4") "end\n", SL_ERR_NAME, "invisible character U+3164" },
	{ "U+FE00 variation selector 1", HEAD("1", "1") FILE_LINE("1", "0644", "a%EF%B8%80") "end\n", SL_ERR_NAME, "invisible character U+FE00" },
	{ "U+FE0F variation selector 16", HEAD("1", "1") FILE_LINE("1", "0644", "a%EF%B8%8F") "end\n", SL_ERR_NAME, "invisible character U+FE0F" },
	{ "U+FFA0 halfwidth Hangul filler", HEAD("1", "1") FILE_LINE("1", "0644", "a%EF%BE%A0") "end\n", SL_ERR_NAME, "invisible character U+FFA0" },
	{ "U+200B zero width space", HEAD("1", "1") FILE_LINE("1", "0644", "a%E2%80%8Bb") "end\n", SL_ERR_NAME, "invisible character U+200B" },
	{ "U+202E right-to-left override", HEAD("1", "1") FILE_LINE("1", "0644", "a%E2%80%AEtxt.exe") "end\n", SL_ERR_NAME, "invisible character U+202E" },
	{ "U+2028 line separator", HEAD("1", "1") FILE_LINE("1", "0644", "a%E2%80%A8b") "end\n", SL_ERR_NAME, "invisible character U+2028" },
	{ "U+00AD soft hyphen in a directory", HEAD("1", "1") FILE_LINE("1", "0644", "a%C2%ADb/c") "end\n", SL_ERR_NAME, "invisible character U+00AD" },
	{ "U+E0041 tag", HEAD("1", "1") FILE_LINE("1", "0644", "a%F3%A0%81%81") "end\n", SL_ERR_NAME, "invisible character U+E0041" },
	{ "purpose with U+FE0F",
	  "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\ncreated 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter c\npurpose ok%EF%B8%8F\n",
	  SL_ERR_PARSE, "invisible character U+FE0F in purpose" },
	{ "purpose with U+3164",
	  "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\ncreated 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter c\npurpose a%E3%85%A4b\n",
	  SL_ERR_PARSE, "invisible character U+3164 in purpose" },
	/* version 2: directories and times */
	{ "v2 without dirs line", "sluice-manifest 2\nid 00112233445566778899aabbccddeeff\nsequence 7\n"
	  "created 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter carol\npurpose p\nenclave e1\nlink l1\nfiles 1\n",
	  SL_ERR_PARSE, "expected 'dirs'" },
	{ "v2 file without mtime", HEAD2("0", "1", "1") FILE_LINE("1", "0644", "a") "end\n", SL_ERR_PARSE, "five fields" },
	{ "v1 file with mtime", HEAD("1", "1") FILE2("1", "0644", T0, "a") "end\n", SL_ERR_PARSE, "space in path" },
	{ "v2 mtime leading zero", HEAD2("0", "1", "1") FILE2("1", "0644", "01.000000000", "a") "end\n", SL_ERR_PARSE, "SECONDS.NNNNNNNNN" },
	{ "v2 mtime short nanoseconds", HEAD2("0", "1", "1") FILE2("1", "0644", "1.5", "a") "end\n", SL_ERR_PARSE, "SECONDS.NNNNNNNNN" },
	{ "v2 mtime integer", HEAD2("0", "1", "1") FILE2("1", "0644", "1767225600", "a") "end\n", SL_ERR_PARSE, "SECONDS.NNNNNNNNN" },
	{ "v2 mtime negative", HEAD2("0", "1", "1") FILE2("1", "0644", "-1.000000000", "a") "end\n", SL_ERR_PARSE, "SECONDS.NNNNNNNNN" },
	{ "v2 mtime after 9999", HEAD2("0", "1", "1") FILE2("1", "0644", "253402300800.000000000", "a") "end\n", SL_ERR_RANGE, "after the year 9999" },
	{ "v2 file in an unlisted directory", HEAD2("0", "1", "1") FILE2("1", "0644", T0, "d/a") "end\n", SL_ERR_NAME, "line 13: the directory of this file is not listed" },
	{ "v2 directory with unlisted parent", HEAD2("1", "1", "1") DIR2(T0, "d/e") FILE2("1", "0644", T0, "a") "end\n", SL_ERR_NAME, "line 13: its parent directory is not listed" },
	{ "v2 file that is a directory", HEAD2("1", "1", "1") DIR2(T0, "a") FILE2("1", "0644", T0, "a") "end\n", SL_ERR_NAME, "line 14: also listed as a directory" },
	{ "v2 directories unsorted", HEAD2("2", "1", "1") DIR2(T0, "b") DIR2(T0, "a") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "line 14: not in bytewise order" },
	{ "v2 directory twice", HEAD2("2", "1", "1") DIR2(T0, "a") DIR2(T0, "a") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "duplicate path" },
	{ "v2 directory mode 0700", HEAD2("1", "1", "1") "dir 0700 " T0 " a\n" FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "directory mode must be 0755" },
	{ "v2 directory mode 0644", HEAD2("1", "1", "1") "dir 0644 " T0 " a\n" FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "directory mode must be 0755" },
	{ "v2 directory '..'", HEAD2("1", "1", "1") DIR2(T0, "..") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_NAME, "'..'" },
	{ "v2 directory with invisible name", HEAD2("1", "1", "1") DIR2(T0, "%E2%80%8B") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_NAME, "U+200B" },
	{ "v2 fewer dir lines than dirs", HEAD2("2", "1", "1") DIR2(T0, "a") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "a 'file' line after 1 dir lines" },
	{ "v2 more dir lines than dirs", HEAD2("1", "1", "1") DIR2(T0, "a") DIR2(T0, "b") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "a 'dir' line among the file lines" },
	{ "v2 dir after files", HEAD2("1", "2", "2") DIR2(T0, "a") FILE2("1", "0644", T0, LONGNAME) DIR2(T0, "z" LONGNAME) "end\n", SL_ERR_PARSE, "a 'dir' line among the file lines" },
	{ "v2 dirs count beyond the text", HEAD2("1000", "1", "1") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "dirs 1000, but the rest" },
	{ "v2 dirs count above the limit", HEAD2("1000001", "1", "1") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_RANGE, "dirs 1000001 exceeds" },
	{ "v2 dir line with two fields", HEAD2("1", "1", "1") "dir 0755 a\n" FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "three fields" },
	{ "v2 dir line double space", HEAD2("1", "1", "1") "dir 0755  " T0 " a\n" FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "double space" },
	{ "v2 dir path with space", HEAD2("1", "1", "1") "dir 0755 " T0 " a b\n" FILE2("1", "0644", T0, "f") "end\n", SL_ERR_PARSE, "space in path" },
	{ "v2 dir trailing slash", HEAD2("1", "1", "1") DIR2(T0, "a/") FILE2("1", "0644", T0, "f") "end\n", SL_ERR_NAME, "trailing '/'" },
	{ "v2 no files, only a directory", HEAD2("1", "0", "0") DIR2(T0, "a") "end\n", SL_ERR_RANGE, "at least one file" },
	{ "not a manifest", "hello\n", SL_ERR_PARSE, "not a sluice manifest" },
	{ "empty", "", SL_ERR_PARSE, "ends early" },
	{ "header out of order", "sluice-manifest 1\nsequence 7\n", SL_ERR_PARSE, "expected 'id'" },
	{ "bad id", "sluice-manifest 1\nid 00112233445566778899AABBCCDDEEFF\n", SL_ERR_PARSE, "lowercase hex" },
	{ "expires before created",
	  "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\ncreated 2026-01-08T00:00:00Z\nexpires 2026-01-01T00:00:00Z\n",
	  SL_ERR_RANGE, "not after created" },
	{ "bad date", "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\ncreated 2026-02-30T00:00:00Z\n", SL_ERR_PARSE, "UTC time" },
	{ "sequence too big", "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 9223372036854775808\n", SL_ERR_RANGE, "sequence" },
	{ "bad submitter",
	  "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\ncreated 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter -x\n",
	  SL_ERR_PARSE, "not a name" },
	{ "purpose with control",
	  "sluice-manifest 1\nid 00112233445566778899aabbccddeeff\nsequence 7\ncreated 2026-01-01T00:00:00Z\nexpires 2026-01-08T00:00:00Z\nsubmitter c\npurpose a%1Bb\n",
	  SL_ERR_PARSE, "control character in purpose" },
};

#define NCASES (sizeof cases / sizeof cases[0])

/* Parameters are indices: pointers in the table do not survive Criterion's
 * re-execution of the test binary. */
ParameterizedTestParameters(hostile, refused)
{
	static size_t idx[NCASES];
	for (size_t i = 0; i < NCASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NCASES);
}

ParameterizedTest(size_t *ip, hostile, refused)
{
	const struct hostile *h = &cases[*ip];
	struct sl_manifest *m = NULL;
	struct sl_diag d = { "" };
	int rc = parse_text(h->text, &m, &d);
	cr_assert_eq(rc, h->code, "%s: code %d (%s), want %d; message: %s", h->name, rc, sl_strerror(rc), h->code, d.msg);
	cr_assert(strstr(d.msg, h->reason) != NULL, "%s: message '%s' lacks '%s'", h->name, d.msg, h->reason);
	cr_assert_null(m);
}

Test(hostile, path_longer_than_1024)
{
	char path[1100], *t;
	memset(path, 'x', sizeof path);
	for (int i = 200; i < 1100; i += 201)
		path[i] = '/';
	path[1099] = '\0';
	cr_assert(asprintf(&t, "%sfile " H64 " 1 0644 %s\nend\n", HEAD("1", "1"), path) > 0);
	struct sl_manifest *m;
	struct sl_diag d;
	cr_assert_eq(parse_text(t, &m, &d), SL_ERR_NAME);
	cr_assert(strstr(d.msg, "limit 1024"), "%s", d.msg);
	free(t);
}

Test(hostile, manifest_size_cap)
{
	const char *t = HEAD("1", "1") FILE_LINE("1", "0644", "a") "end\n";
	struct sl_manifest_limits lim;
	struct sl_manifest *m;
	struct sl_diag d;
	sl_manifest_default_limits(&lim);
	lim.max_manifest_bytes = 100;
	cr_assert_eq(sl_manifest_parse((const uint8_t *)t, strlen(t), &lim, &m, &d), SL_ERR_TOOBIG);
	lim.max_manifest_bytes = 1 << 20;
	lim.max_files = 0;
	cr_assert_eq(sl_manifest_parse((const uint8_t *)t, strlen(t), &lim, &m, &d), SL_ERR_RANGE);
}

/* ---- names ----------------------------------------------------------------- */

Test(names, percent_encoding_is_canonical)
{
	const char *raw = "a b+c@d,e=f:g~h_i.j-k%l/m\xc3\xa9";
	char enc[200];
	uint8_t dec[200];
	size_t n;
	cr_assert_neq(sl_pct_encode((const uint8_t *)raw, strlen(raw), SL_PCT_PATH, enc, sizeof enc), (size_t)-1);
	cr_assert_str_eq(enc, "a%20b+c@d,e=f:g~h_i.j-k%25l/m%C3%A9");
	cr_assert_eq(sl_pct_decode(enc, strlen(enc), SL_PCT_PATH, dec, sizeof dec, &n, NULL), SL_OK);
	cr_assert_eq(n, strlen(raw));
	cr_assert(!memcmp(dec, raw, n));
	cr_assert_eq(sl_pct_encode((const uint8_t *)"50% off", 7, SL_PCT_TEXT, enc, sizeof enc), 9);
	cr_assert_str_eq(enc, "50%25 off");
	cr_assert_eq(sl_pct_decode("50%20off", 8, SL_PCT_TEXT, dec, sizeof dec, &n, NULL), SL_ERR_PARSE);
}

Test(names, portable_and_labels)
{
	cr_assert_eq(sl_path_portable("dir/file-1.0_x.tar", NULL), SL_OK);
	cr_assert_eq(sl_path_portable("dir/-x", NULL), SL_ERR_NAME);
	cr_assert_eq(sl_path_portable("a b", NULL), SL_ERR_NAME);
	cr_assert_eq(sl_path_portable("libstdc++.so", NULL), SL_ERR_NAME);
	cr_assert(sl_label_ok("train-a"));
	cr_assert(!sl_label_ok("-x"));
	cr_assert(!sl_label_ok(""));
	cr_assert(!sl_label_ok("a b"));
}

Test(names, casefold_collisions)
{
	const char *a[] = { "doc/index.html", "doc/Index.html" };
	const char *b[] = { "Doc/a", "doc/b" };
	const char *c[] = { "doc/a", "doc/b", "x/\xc3\x89t\xc3\xa9" };
	const char *e[] = { "x/\xc3\x89t\xc3\xa9", "x/\xc3\xa9t\xc3\xa9" };
	struct sl_diag d;
	cr_assert_eq(sl_casefold_collision(a, 2, &d), SL_ERR_NAME);
	cr_assert(strstr(d.msg, "case folding"), "%s", d.msg);
	cr_assert_eq(sl_casefold_collision(b, 2, &d), SL_ERR_NAME);
	cr_assert_eq(sl_casefold_collision(c, 3, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_casefold_collision(e, 2, &d), SL_ERR_NAME, "Unicode letters fold too");
}

Test(names, normalisation_collisions)
{
	const char *nfc_nfd[] = { "caf\xc3\xa9.txt", "cafe\xcc\x81.txt" };        /* U+00E9 vs e U+0301 */
	const char *dirs[] = { "Caf\xc3\xa9/a", "cafe\xcc\x81/b" };              /* case and form, as directories */
	const char *sharp_s[] = { "Stra\xc3\x9f" "e", "STRASSE" };                 /* full case folding */
	const char *angstrom[] = { "\xe2\x84\xab", "\xc3\xa5" };                 /* U+212B vs U+00E5 */
	const char *distinct[] = { "caf\xc3\xa9", "cafe", "caf\xc3\xa8" };
	struct sl_diag d;
	cr_assert_eq(sl_casefold_collision(nfc_nfd, 2, &d), SL_ERR_NAME, "NFC and NFD of one name");
	cr_assert(strstr(d.msg, "case folding and Unicode normalisation"), "%s", d.msg);
	cr_assert_eq(sl_casefold_collision(dirs, 2, &d), SL_ERR_NAME);
	cr_assert_eq(sl_casefold_collision(sharp_s, 2, &d), SL_ERR_NAME);
	cr_assert_eq(sl_casefold_collision(angstrom, 2, &d), SL_ERR_NAME);
	cr_assert_eq(sl_casefold_collision(distinct, 3, &d), SL_OK, "%s", d.msg);
}

Test(names, invisible_code_points)
{
	static const uint32_t refused[] = { 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x180E, 0x200B, 0x200D,
					    0x202A, 0x202E, 0x2028, 0x2029, 0x2060, 0x2066, 0x3164, 0xFE00, 0xFE0F,
					    0xFEFF, 0xFFA0, 0xFFF9, 0x1D173, 0xE0001, 0xE0100 };
	static const uint32_t allowed[] = { 'a', 0x00A0, 0x00E9, 0x0301, 0x2013, 0x3000, 0x4E2D, 0xFFFD, 0x1F600 };
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		cr_assert(sl_cp_invisible(refused[i]), "U+%04X should be refused", refused[i]);
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		cr_assert(!sl_cp_invisible(allowed[i]), "U+%04X should be allowed", allowed[i]);
	uint32_t cp = 0;
	cr_assert_eq(sl_find_invisible((const uint8_t *)"ab\xef\xbe\xa0", 5, &cp), 2);
	cr_assert_eq(cp, 0xFFA0);
	cr_assert_eq(sl_find_invisible((const uint8_t *)"ab\xc3\xa9", 4, &cp), (size_t)-1);
	cr_assert_eq(sl_component_check((const uint8_t *)"x\xe3\x85\xa4", 4, NULL), SL_ERR_NAME);
}
