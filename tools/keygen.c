/* keygen.c — `sluice keygen`: officer/submitter signing keys (minisign
 * format) and link keys for the wire AEAD. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "cli.h"
#include "cmds.h"
#include "safefs.h"
#include "minisign.h"
#include "pathname.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice keygen --officer NAME -o PREFIX [--unencrypted] [--passphrase-file FILE]\n"
		"       sluice keygen --submitter NAME -o PREFIX [--unencrypted] [--passphrase-file FILE]\n"
		"       sluice keygen --link -o FILE\n\n"
		"Writes PREFIX.pub and PREFIX.key (mode 0600), a minisign-compatible key pair;\n"
		"the secret key is encrypted with a passphrase (asked on the terminal, or\n"
		"--passphrase-file, or $SLUICE_PASSPHRASE) unless --unencrypted.\n"
		"With --link, writes FILE (mode 0600): a random 32-byte link key.\n"
		"Existing files are never overwritten. See sluice-keygen(1).\n");
}

static int link_key(const char *out)
{
	uint8_t *k = sodium_malloc(32);
	struct sl_diag d;
	int rc;
	if (!k)
		return cli_fail("keygen", SL_ERR_NOMEM, "out of memory");
	randombytes_buf(k, 32);
	rc = sl_write_file(out, k, 32, 0600, true, &d);
	sodium_free(k);
	if (rc)
		return cli_fail("keygen", rc, "%s", d.msg);
	printf("wrote link key %s (32 bytes, mode 0600): copy it to both sides of the link\n", out);
	return EXIT_OK;
}

/* What `keygen` was asked for. */
struct keygen_args {
	const char *name, *role, *prefix, *passfile;
	bool link, unencrypted;
};

/* The options into *a; 0, or an exit status (0 after --help: *done). */
static int parse_args(int argc, char **argv, struct keygen_args *a, int *done)
{
	static const struct option opts[] = {
		{ "officer", required_argument, NULL, 'O' },
		{ "submitter", required_argument, NULL, 'S' },
		{ "link", no_argument, NULL, 'L' },
		{ "unencrypted", no_argument, NULL, 'U' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
		case 'S':
			if (a->role)
				return cli_usage_error("keygen", "give one of --officer NAME or --submitter NAME");
			a->role = c == 'O' ? "officer" : "submitter";
			a->name = optarg;
			break;
		case 'L': a->link = true; break;
		case 'U': a->unencrypted = true; break;
		case 'P': a->passfile = optarg; break;
		case 'o': a->prefix = optarg; break;
		case 'h': usage(stdout); *done = 1; return EXIT_OK;
		default: return cli_usage_error("keygen", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (!a->prefix)
		return cli_usage_error("keygen", "-o is required");
	return EXIT_OK;
}

/* The secret key file's text (encrypted under PASS unless NULL) into keytext[1024]. */
static int format_secret(const struct keygen_args *a, struct sl_ms_seckey *sk, const char *pass,
			 const char *kid, char *keytext, size_t *klen)
{
	struct sl_diag d;
	char comment[160];
	int rc;

	snprintf(comment, sizeof comment, "sluice %s %s: minisign %ssecret key %s", a->role, a->name,
		 a->unencrypted ? "" : "encrypted ", kid);
	if (!a->unencrypted && isatty(STDERR_FILENO))
		fprintf(stderr, "deriving the key encryption key (scrypt, 1 GiB)...\n");
	rc = sl_ms_seckey_format(sk, pass, SL_MS_KDF_OPSLIMIT, SL_MS_KDF_MEMLIMIT, comment,
				 keytext, 1024, klen, &d);
	return rc ? cli_fail("keygen", rc, "%s", d.msg) : EXIT_OK;
}

/* Both files, the secret first: if it cannot be written, no orphan public key appears. */
static int write_pair(const struct keygen_args *a, const struct sl_ms_pubkey *pk, const char *kid,
		      const char *keytext, size_t klen)
{
	size_t plen = strlen(a->prefix) + 5;
	char *pubpath = malloc(plen), *keypath = malloc(plen);
	char comment[160], pubtext[512];
	struct sl_diag d;
	int rc = EXIT_OK;

	if (!pubpath || !keypath) {
		rc = cli_fail("keygen", SL_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(pubpath, plen, "%s.pub", a->prefix);
	snprintf(keypath, plen, "%s.key", a->prefix);
	snprintf(comment, sizeof comment, "sluice %s %s: minisign public key %s", a->role, a->name, kid);
	if (sl_ms_pubkey_format(pk, comment, pubtext, sizeof pubtext) < 0) {
		rc = cli_fail("keygen", SL_ERR_INVAL, "public key formatting failed");
		goto out;
	}
	if ((rc = sl_write_file(keypath, keytext, klen, 0600, true, &d))) {
		rc = cli_fail("keygen", rc, "%s", d.msg);
		goto out;
	}
	if ((rc = sl_write_file(pubpath, pubtext, strlen(pubtext), 0644, true, &d))) {
		rc = cli_fail("keygen", rc, "%s (the secret key %s was written)", d.msg, keypath);
		goto out;
	}
	printf("%s %s: key id %s\n  public key  %s (give this to whoever writes the policy)\n"
	       "  secret key  %s (mode 0600, %s)\n", a->role, a->name, kid, pubpath, keypath,
	       a->unencrypted ? "NOT encrypted" : "passphrase-encrypted");
out:
	free(pubpath);
	free(keypath);
	return rc;
}

/* An officer's or submitter's minisign key pair. */
static int signing_pair(const struct keygen_args *a)
{
	struct sl_ms_pubkey pk;
	struct sl_ms_seckey *sk = NULL;
	char *pass = NULL, *keytext = NULL, kid[17];
	size_t klen = 0;
	int rc;

	if (!a->unencrypted) {
		pass = cli_passphrase("keygen", a->passfile, "Passphrase for the new secret key: ", true);
		if (!pass)
			return EXIT_REFUSED;
	}
	if ((rc = sl_ms_keygen(&pk, &sk))) {
		rc = cli_fail("keygen", rc, "key generation failed");
		goto out;
	}
	sl_ms_keyid_hex(pk.keyid, kid);
	keytext = sodium_malloc(1024);
	if (!keytext) {
		rc = cli_fail("keygen", SL_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = format_secret(a, sk, pass, kid, keytext, &klen);
	if (!rc)
		rc = write_pair(a, &pk, kid, keytext, klen);
out:
	sl_ms_seckey_free(sk);
	if (keytext)
		sodium_free(keytext);
	cli_passphrase_free(pass);
	return rc;
}

int keygen_main(int argc, char **argv)
{
	struct keygen_args a = { 0 };
	int done = 0, rc;

	rc = parse_args(argc, argv, &a, &done);
	if (rc || done)
		return rc;
	if (sodium_init() < 0)
		return cli_fail("keygen", SL_ERR_CRYPTO, "libsodium failed to initialise");
	if (a.link) {
		if (a.role || a.unencrypted || a.passfile)
			return cli_usage_error("keygen", "--link takes only -o FILE");
		return link_key(a.prefix);
	}
	if (!a.role)
		return cli_usage_error("keygen", "give --officer NAME, --submitter NAME or --link");
	if (!sl_label_ok(a.name))
		return cli_usage_error("keygen", "'%s' is not a name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 64)",
				       a.name);
	return signing_pair(&a);
}
