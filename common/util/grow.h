/* grow.h — the growing array: room for one more element.
 *
 * sl_grow(&arr, n, &cap, sizeof *arr) makes sure *arr (holding n of *cap
 * elements) has room for element n: when full, it doubles the capacity
 * (16 to start) with realloc. Returns SL_OK, or SL_ERR_NOMEM with *arr and
 * *cap unchanged (also when the doubled size would overflow size_t).
 */
#ifndef SL_GROW_H
#define SL_GROW_H

#include <stddef.h>

int sl_grow(void *arr, size_t n, size_t *cap, size_t size);

#endif
