/* Fuzz harness: configuration files (common/util/conf.c over libinih), with
 * sluice-rx's and sluice-tx's real option tables and value checks. An
 * accepted file must be accepted again with the same settings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "rx_options.h"
#include "tx_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rx_opts a, b;
	struct tx_opts t;
	struct tx_send_cfg defaults = { 0 };
	struct sl_diag d;
	unsigned line;
	int r;

	if (size > SL_CONF_MAX_BYTES)
		return 0;
	rx_opts_init(&a);
	r = rx_opts_config(&a, "fuzz.conf", (const char *)data, size, &line, &d);
	if (r && (strncmp(d.msg, "fuzz.conf:", 10) || strlen(d.msg) >= sizeof d.msg))
		abort(); /* every refusal names the file */
	if (!r) {
		rx_opts_init(&b);
		if (rx_opts_config(&b, "fuzz.conf", (const char *)data, size, NULL, &d) != SL_OK ||
		    a.cfg.window != b.cfg.window || a.cfg.max_staging != b.cfg.max_staging ||
		    (a.cfg.link_uri == NULL) != (b.cfg.link_uri == NULL) ||
		    (a.cfg.link_uri && strcmp(a.cfg.link_uri, b.cfg.link_uri)))
			abort();
		rx_opts_free(&b);
	}
	rx_opts_free(&a);
	tx_opts_init(&t, &defaults, 0);
	tx_opts_config(&t, "fuzz.conf", (const char *)data, size, NULL, &d);
	tx_opts_free(&t);
	return 0;
}
