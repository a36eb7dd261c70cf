/* splitmix.h — splitmix64, a small deterministic 64-bit generator.
 *
 * Contract: sl_splitmix64 advances *state and returns the next value; the
 * same seed gives the same sequence on every machine. For simulations,
 * seeds of other generators and tests only: never for keys, nonces or
 * anything an attacker must not predict (use libsodium's randombytes_buf).
 */
#ifndef SL_SPLITMIX_H
#define SL_SPLITMIX_H
#include <stdint.h>

static inline uint64_t sl_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
#endif
