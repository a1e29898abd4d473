/*
 * One logging call for every daemon: one line per event, key=value fields.
 */
#ifndef ACRE_COMMON_LOG_H
#define ACRE_COMMON_LOG_H

enum acre_log_level { ACRE_LOG_DEBUG, ACRE_LOG_INFO, ACRE_LOG_WARN, ACRE_LOG_ERROR };

void acre_log_set_level(enum acre_log_level level);
int acre_log_parse_level(const char *s, enum acre_log_level *out);
void acre_log(enum acre_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
