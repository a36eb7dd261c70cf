/* Fuzz harness: the policy parser. An accepted policy must emit and parse
 * again to the same settings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_policy *p, *p2;
	char *out;
	size_t len;

	if (sl_policy_parse(data, size, &p, NULL) != SL_OK)
		return 0;
	if (sl_policy_emit(p, &out, &len, NULL) != SL_OK)
		abort();
	if (sl_policy_parse((const uint8_t *)out, len, &p2, NULL) != SL_OK)
		abort();
	if (p2->threshold != p->threshold || p2->nofficers != p->nofficers || p2->nsubmitters != p->nsubmitters ||
	    strcmp(p2->enclave, p->enclave) || p2->limits.max_files != p->limits.max_files)
		abort();
	free(out);
	sl_policy_free(p);
	sl_policy_free(p2);
	return 0;
}
