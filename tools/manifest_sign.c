/* manifest_sign.c — `sluice manifest sign`: a prehashed minisign signature
 * over a manifest, verifiable with `minisign -V -H`. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmds.h"
#include "safefs.h"
#include "manifest.h"
#include "minisign.h"
#include "pathname.h"
#include "policy.h"
#include "units.h"
#include <sodium.h>

#define P "manifest sign"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice manifest sign MANIFEST --key KEY [-o SIG] [--passphrase-file FILE]\n"
		"                            [--trusted-comment TEXT]\n\n"
		"Checks that MANIFEST is a valid manifest, then signs it (minisign, prehashed\n"
		"ED) with the secret KEY. The signature goes to SIG, by default\n"
		"manifest.NAME.minisig next to MANIFEST, NAME being the key file's name\n"
		"without .key. The passphrase comes from --passphrase-file, $SLUICE_PASSPHRASE\n"
		"or the terminal. Existing signatures are never overwritten. See sluice-manifest(1).\n");
}

static char *default_sig(const char *manifest, const char *key, const char *keyid)
{
	char *mc = strdup(manifest), *kc = strdup(key), *out = NULL, *kb;
	size_t l;
	if (!mc || !kc)
		goto done;
	kb = basename(kc);
	l = strlen(kb);
	if (l > 4 && !strcmp(kb + l - 4, ".key"))
		kb[l - 4] = '\0';
	if (!sl_label_ok(kb))
		kb = (char *)keyid;
	if (asprintf(&out, "%s/manifest.%s.minisig", dirname(mc), kb) < 0)
		out = NULL;
done:
	free(mc);
	free(kc);
	return out;
}

int manifest_sign_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "trusted-comment", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *passfile = NULL, *tc = NULL;
	char *out = NULL, *pass = NULL, *sig = NULL, kid[17], comment[1100], untrusted[200], b[32];
	uint8_t *text = NULL, *keytext = NULL;
	size_t len, klen, slen;
	struct sl_manifest *m = NULL;
	struct sl_ms_seckey *sk = NULL;
	struct sl_ms_pubkey pk;
	struct sl_diag d;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'P': passfile = optarg; break;
		case 't': tc = optarg; break;
		case 'o': free(out); out = strdup(optarg); break;
		case 'h': usage(stdout); free(out); return EXIT_OK;
		default: free(out); return cli_usage_error(P, "unknown option");
		}
	}
	if (optind + 1 != argc || !key) {
		free(out);
		return cli_usage_error(P, "expected MANIFEST and --key KEY");
	}
	const char *mpath = argv[optind];
	if ((rc = sl_read_file(mpath, SL_MANIFEST_DEFAULT_MAX_BYTES, &text, &len, &d))) {
		rc = cli_fail(P, rc, "%s", d.msg);
		goto done;
	}
	if ((rc = sl_manifest_parse(text, len, NULL, &m, &d))) {
		rc = cli_fail(P, rc, "%s: %s (refusing to sign an invalid manifest)", mpath, d.msg);
		goto done;
	}
	if ((rc = sl_read_file(key, 4096, &keytext, &klen, &d))) {
		rc = cli_fail(P, rc, "%s", d.msg);
		goto done;
	}
	if (sl_ms_seckey_encrypted(keytext, klen)) {
		pass = cli_passphrase(P, passfile, "Passphrase: ", false);
		if (!pass) {
			rc = EXIT_REFUSED;
			goto done;
		}
	}
	rc = sl_ms_seckey_parse(keytext, klen, pass, &sk, &d);
	if (keytext)
		sodium_memzero(keytext, klen);
	if (rc) {
		rc = cli_fail(P, rc, "%s: %s", key, d.msg);
		goto done;
	}
	sl_ms_seckey_pubkey(sk, &pk);
	sl_ms_keyid_hex(pk.keyid, kid);
	if (!out && !(out = default_sig(mpath, key, kid))) {
		rc = cli_fail(P, SL_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (tc)
		snprintf(comment, sizeof comment, "%s", tc);
	else
		snprintf(comment, sizeof comment, "timestamp:%lld\tfile:manifest\thashed\tsluice-transfer:%s",
			 (long long)time(NULL), m->id_hex);
	snprintf(untrusted, sizeof untrusted, "signature from sluice, key %s", kid);
	if ((rc = sl_ms_sign(sk, text, len, untrusted, comment, &sig, &slen, &d))) {
		rc = cli_fail(P, rc, "%s", d.msg);
		goto done;
	}
	if ((rc = sl_write_file(out, sig, slen, 0644, true, &d))) {
		rc = cli_fail(P, rc, "%s", d.msg);
		goto done;
	}
	if ((int64_t)time(NULL) > m->expires)
		fprintf(stderr, "sluice %s: warning: this manifest has already expired; the receiver will refuse it\n", P);
	printf("signed transfer %s (%zu files, %s) with key %s: %s\n", m->id_hex, m->nfiles,
	       sl_fmt_bytes(m->total_bytes, b, sizeof b), kid, out);
	rc = EXIT_OK;
done:
	free(keytext);
	free(text);
	free(sig);
	free(out);
	cli_passphrase_free(pass);
	sl_ms_seckey_free(sk);
	sl_manifest_free(m);
	return rc;
}
