/* Fuzz harness: the .minisig parser and the policy's signature counting
 * over a fixed manifest and a policy with one known key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minisign.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] =
	"sluice-policy 1\nenclave e\nlink l\nthreshold 1\n"
	"officer alice RWSxPrtda5l2qpVcicXR5SIO2/NMhYjkiCTU8BcVvHla8Xhqu5BD+OAm\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t manifest[] = "sluice-manifest 1\n";
	struct sl_ms_sig *s;
	struct sl_policy *p;
	struct sl_sig_result r;
	struct sl_sigfile f = { "manifest.x.minisig", data, size };

	if (sl_ms_sig_parse(data, size, &s, NULL) == SL_OK) {
		if (!s->trusted_comment || !s->untrusted_comment)
			abort();
		sl_ms_sig_free(s);
	}
	if (sl_policy_parse((const uint8_t *)policy_text, sizeof policy_text - 1, &p, NULL) != SL_OK)
		abort();
	if (sl_policy_verify_signatures(p, manifest, sizeof manifest - 1, NULL, &f, 1, &r, NULL) == SL_OK)
		abort(); /* nobody holds alice's key here */
	sl_sig_result_clear(&r);
	sl_policy_free(p);
	return 0;
}
