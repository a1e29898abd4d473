/*
 * Sizes, rates, CPUs, durations and signals as users write them, parsed
 * strictly (errors name the flag or field) and formatted for tables.
 */
#ifndef ACRE_COMMON_UNITS_H
#define ACRE_COMMON_UNITS_H

#include <stdint.h>
#include <stddef.h>
#include "common/error.h"

/* "64M" -> 67108864: binary units K, M, G, T (optional trailing "i"/"iB"/"B"); plain digits are
 * bytes. */
int acre_parse_size(const char *s, uint64_t *out, struct acre_error *err, const char *field);
/* tc-style rates: "100mbit", "1gbit", "500kbit", "10mbps" (bytes), plain digits are bit/s. */
int acre_parse_rate(const char *s, uint64_t *bits_per_second, struct acre_error *err,
		    const char *field);
/* "0.5" -> 500 millicpus; at most three decimals. */
int acre_parse_cpus(const char *s, uint32_t *millicpus, struct acre_error *err, const char *field);
/* "10", "10s", "500ms", "2m", "1h" -> milliseconds. */
int acre_parse_duration(const char *s, uint64_t *ms, struct acre_error *err, const char *field);
/* Signal names and numbers: "TERM", "SIGTERM", "15". */
int acre_parse_signal(const char *s, int *sig, struct acre_error *err, const char *field);
const char *acre_signal_name(int sig);

/* Human forms for tables: "256M", "1.5G", "100mbit", "3m20s". */
void acre_format_size(uint64_t bytes, char *buf, size_t len);
void acre_format_rate(uint64_t bits_per_second, char *buf, size_t len);
void acre_format_duration(uint64_t ms, char *buf, size_t len);

#endif
