/* status.h — what `sluice status` and `sluice status --json` share: the
 * fields of STATE/status (format in sluice-rx(8), STATUS FILE) and the
 * judgements both views make, so the two show the same facts. */
#ifndef SL_TOOLS_STATUS_H
#define SL_TOOLS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "audit.h"

/* The value after "key" (e.g. "state=") up to the next space, in out. */
const char *status_field(const char *line, const char *key, char *out, size_t cap);
/* The number a value spells (decimal, as sluice-rx writes it), else 0:
 * for counter lines "KEY N" (status_value(line + strlen("KEY "))). */
unsigned long long status_value(const char *s);
/* The number of "key" in *v: true, or false when the line lacks it or it is
 * no number (-1 stands for none: an unknown free space, no heartbeat yet). */
bool status_get(const char *line, const char *key, unsigned long long *v);
/* status_get's number, or 0. */
unsigned long long status_num(const char *line, const char *key);
/* "A/B" of "key" (done/total): a and b, each 0 when it is no number. */
void status_pair(const char *line, const char *key, unsigned long long *a, unsigned long long *b);
/* sluice-rx alive: its pid exists and the status file is fresh. */
bool status_alive(unsigned long long pid, long age_s);
/* The staging line: used near its byte quota (90%) or at its transfer count. */
bool status_staging_near(const char *line);
/* The quota line: a quota refused data. */
bool status_quota_refused(const char *line);
/* A session line: the sender says it is sending, no heartbeat for over 5 s. */
bool status_session_silent(const char *line);
/* The audit events `recent` lists (outcomes, not starts and stops). */
bool status_recent_event(const char *event);

/* --json: the same facts as the human view, one JSON object on stdout
 * (schema in sluice-status(1)); returns the same exit status. */
int status_json(int statefd, const char *dir, unsigned recent, const struct sl_audit_head *given);

#endif
