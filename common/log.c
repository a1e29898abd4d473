/*
 * One logger for every acre binary: one line per event on stderr, with a
 * timestamp and level, so systemd's journal or a log file keeps it whole.
 */
#include "common.h"
#include <time.h>

static enum acre_log_level min_level = ACRE_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void acre_log_set_level(enum acre_log_level level)
{
	min_level = level;
}

int acre_log_parse_level(const char *s, enum acre_log_level *out)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum acre_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void acre_log(enum acre_log_level level, const char *fmt, ...)
{
	if (level < min_level)
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	line[len++] = '\n';
	/* One write per line so concurrent writers never interleave inside a line. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
