/* Fuzz harness: minisign public and secret key parsers. Secret keys are
 * parsed without a passphrase, so an encrypted key stops before scrypt
 * (whose cost the file itself declares). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_ms_pubkey pk, pk2;
	struct sl_ms_seckey *sk;
	char comment[128], text[512];

	if (sl_ms_pubkey_parse(data, size, &pk, comment, sizeof comment, NULL) == SL_OK) {
		if (sl_ms_pubkey_format(&pk, "c", text, sizeof text) < 0)
			abort();
		if (sl_ms_pubkey_parse((const uint8_t *)text, strlen(text), &pk2, NULL, 0, NULL) != SL_OK ||
		    memcmp(&pk, &pk2, sizeof pk))
			abort();
	}
	(void)sl_ms_seckey_encrypted(data, size);
	if (sl_ms_seckey_parse(data, size, NULL, &sk, NULL) == SL_OK)
		sl_ms_seckey_free(sk);
	return 0;
}
