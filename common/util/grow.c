/* grow.c — the growing array (grow.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "grow.h"

int sl_grow(void *arr, size_t n, size_t *cap, size_t size)
{
	void *old, *na;
	size_t nc;

	if (n < *cap)
		return SL_OK;
	nc = *cap ? *cap * 2 : 16;
	if (nc < *cap || !size || nc > SIZE_MAX / size)
		return SL_ERR_NOMEM;
	memcpy(&old, arr, sizeof old);
	na = realloc(old, nc * size);
	if (!na)
		return SL_ERR_NOMEM;
	memcpy(arr, &na, sizeof na);
	*cap = nc;
	return SL_OK;
}
