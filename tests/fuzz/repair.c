/* Fuzz harness: a repair code as a person types it (sl_repair_decode), and
 * for every code it accepts, encoding what it said gives a code that
 * decodes to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], code[SL_REPAIR_MAX_CHARS + 1];
	struct sl_repair r, r2;
	struct sl_diag d = { "" };
	uint8_t id[16] = { 0 };

	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sl_repair_decode(text, &r, &d) != SL_OK)
		return 0;
	if (r.n > SL_REPAIR_MAX_ENTRIES || (r.full && r.n))
		abort();
	for (size_t i = 0; i < r.n; i++)
		if (r.e[i].need > 254 || r.e[i].block > SL_REPAIR_MAX_BLOCK ||
		    (i && r.e[i].block <= r.e[i - 1].block))
			abort();
	id[0] = (uint8_t)(r.tag >> 12);
	id[1] = (uint8_t)(r.tag >> 4);
	id[2] = (uint8_t)(r.tag << 4);
	if (!sl_repair_matches(&r, id))
		abort();
	if (sl_repair_encode(id, r.pass, r.full, r.e, r.n, code) != !r.full)
		abort();
	if (strlen(code) > SL_REPAIR_MAX_CHARS || sl_repair_decode(code, &r2, &d) != SL_OK)
		abort();
	if (r2.full != r.full || r2.pass != r.pass || r2.n != r.n || r2.tag != r.tag)
		abort();
	for (size_t i = 0; i < r.n; i++)
		if (r2.e[i].block != r.e[i].block || r2.e[i].need != r.e[i].need)
			abort();
	return 0;
}
