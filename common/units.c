/*
 * Parsing and printing of the units flags and specs use: sizes in binary
 * units, tc-style network rates, fractional CPUs, durations and signals.
 * Every parser rejects trailing garbage and overflow, and says which.
 */
#include "common.h"
#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <strings.h>

/* Splits "12.5Mi" into digits and suffix; the number may have a fraction. */
static int split_number(const char *s, uint64_t *whole, uint64_t *frac, unsigned *frac_digits,
			const char **suffix)
{
	const char *p = s;
	uint64_t w = 0, f = 0;
	unsigned fd = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (w > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		w = w * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (fd >= 9)
				return -ERANGE;
			f = f * 10 + (uint64_t)(*p - '0');
			fd++;
		}
	}
	*whole = w;
	*frac = f;
	*frac_digits = fd;
	*suffix = p;
	return 0;
}

static uint64_t pow10u(unsigned n)
{
	uint64_t r = 1;
	while (n--)
		r *= 10;
	return r;
}

/* whole.frac * mult, with overflow detection. */
static int scale(uint64_t whole, uint64_t frac, unsigned frac_digits, uint64_t mult, uint64_t *out)
{
	if (whole && mult > UINT64_MAX / whole)
		return -ERANGE;
	uint64_t v = whole * mult;
	if (frac_digits) {
		/*
		 * frac * mult can exceed 64 bits (frac < 10^9, mult up to 8 * 10^12), so
		 * split mult by the divisor: with frac < p, both terms fit and the sum is
		 * exactly floor(frac * mult / p).
		 */
		uint64_t p = pow10u(frac_digits);
		uint64_t add = frac * (mult / p) + (frac * (mult % p)) / p;
		if (v > UINT64_MAX - add)
			return -ERANGE;
		v += add;
	}
	*out = v;
	return 0;
}

int acre_parse_size(const char *s, uint64_t *out, struct acre_error *err, const char *field)
{
	uint64_t whole, frac;
	unsigned fd;
	const char *suffix;
	if (!s || !*s)
		return acre_error_set(err, EINVAL, field, "%s: empty size", field);
	int r = split_number(s, &whole, &frac, &fd, &suffix);
	if (r == -ERANGE)
		return acre_error_set(err, ERANGE, field, "%s %s: too large", field, s);
	if (r < 0)
		return acre_error_set(err, EINVAL, field, "%s %s: not a size (use e.g. 512M, 2G)",
				      field, s);
	static const struct {
		char c;
		unsigned shift;
	} units[] = {{'B', 0}, {'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};
	uint64_t mult = 1;
	if (*suffix) {
		char u = (char)toupper((unsigned char)*suffix);
		bool found = false;
		for (size_t i = 0; i < ACRE_ARRAY_SIZE(units); i++) {
			if (units[i].c == u) {
				mult = 1ULL << units[i].shift;
				found = true;
			}
		}
		const char *rest = suffix + 1;
		if (found && u != 'B') {
			if (strcmp(rest, "") && strcmp(rest, "i") && strcmp(rest, "iB") &&
			    strcmp(rest, "B"))
				found = false;
		} else if (found && *rest) {
			found = false;
		}
		if (!found)
			return acre_error_set(err, EINVAL, field,
					      "%s %s: unknown unit (use K, M, G or T)", field, s);
	}
	if (fd && mult == 1)
		return acre_error_set(err, EINVAL, field, "%s %s: bytes cannot be fractional",
				      field, s);
	/* Sizes travel as JSON integers (signed 64-bit in jansson): nothing above that. */
	if (scale(whole, frac, fd, mult, out) < 0 || *out > (uint64_t)INT64_MAX)
		return acre_error_set(err, ERANGE, field, "%s %s: too large", field, s);
	return 0;
}

int acre_parse_rate(const char *s, uint64_t *bps, struct acre_error *err, const char *field)
{
	uint64_t whole, frac;
	unsigned fd;
	const char *suffix;
	if (!s || !*s)
		return acre_error_set(err, EINVAL, field, "%s: empty rate", field);
	int r = split_number(s, &whole, &frac, &fd, &suffix);
	if (r == -ERANGE)
		return acre_error_set(err, ERANGE, field, "%s %s: too large", field, s);
	if (r < 0)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: not a rate (use e.g. 100mbit, 1gbit)", field, s);
	/* The units of tc(8): SI multiples; "bit" counts bits, "bps" counts bytes. */
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {
		{"", 1},
		{"bit", 1},
		{"kbit", 1000},
		{"mbit", 1000000},
		{"gbit", 1000000000},
		{"tbit", 1000000000000ULL},
		{"bps", 8},
		{"kbps", 8000},
		{"mbps", 8000000},
		{"gbps", 8000000000ULL},
		{"tbps", 8000000000000ULL},
	};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(units); i++) {
		if (strcasecmp(suffix, units[i].name) == 0) {
			if (scale(whole, frac, fd, units[i].mult, bps) < 0)
				return acre_error_set(err, ERANGE, field, "%s %s: too large", field,
						      s);
			if (*bps == 0)
				return acre_error_set(err, EINVAL, field,
						      "%s %s: must be above zero", field, s);
			return 0;
		}
	}
	return acre_error_set(err, EINVAL, field,
			      "%s %s: unknown unit (use bit, kbit, mbit, gbit or bps, kbps, mbps)",
			      field, s);
}

int acre_parse_cpus(const char *s, uint32_t *millicpus, struct acre_error *err, const char *field)
{
	uint64_t whole, frac, v;
	unsigned fd;
	const char *suffix;
	if (!s || !*s)
		return acre_error_set(err, EINVAL, field, "%s: empty CPU count", field);
	if (split_number(s, &whole, &frac, &fd, &suffix) < 0 || *suffix)
		return acre_error_set(err, EINVAL, field, "%s %s: not a CPU count (e.g. 0.5, 2)",
				      field, s);
	if (fd > 3)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: at most three decimals (a thousandth of a CPU)",
				      field, s);
	if (whole > 100000 || scale(whole, frac, fd, 1000, &v) < 0)
		return acre_error_set(err, ERANGE, field, "%s %s: too large", field, s);
	if (v == 0)
		return acre_error_set(err, EINVAL, field, "%s %s: must be above zero", field, s);
	*millicpus = (uint32_t)v;
	return 0;
}

int acre_parse_duration(const char *s, uint64_t *ms, struct acre_error *err, const char *field)
{
	uint64_t whole, frac;
	unsigned fd;
	const char *suffix;
	if (!s || !*s || split_number(s, &whole, &frac, &fd, &suffix) < 0)
		return acre_error_set(err, EINVAL, field,
				      "%s %s: not a duration (e.g. 500ms, 10s, 2m)", field,
				      s ? s : "");
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000}, {"h", 3600000}};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(units); i++) {
		if (strcmp(suffix, units[i].name) == 0) {
			if (scale(whole, frac, fd, units[i].mult, ms) < 0)
				return acre_error_set(err, ERANGE, field, "%s %s: too large", field,
						      s);
			return 0;
		}
	}
	return acre_error_set(err, EINVAL, field, "%s %s: unknown unit (use ms, s, m or h)", field,
			      s);
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{"HUP", SIGHUP},       {"INT", SIGINT},	  {"QUIT", SIGQUIT},   {"ILL", SIGILL},
	{"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
	{"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
	{"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
	{"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
	{"TTOU", SIGTTOU},     {"URG", SIGURG},	  {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
	{"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
	{"PWR", SIGPWR},       {"SYS", SIGSYS},
};

int acre_parse_signal(const char *s, int *sig, struct acre_error *err, const char *field)
{
	if (!s || !*s)
		return acre_error_set(err, EINVAL, field, "%s: empty signal", field);
	if (isdigit((unsigned char)*s)) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end || v < 1 || v > SIGRTMAX)
			return acre_error_set(err, EINVAL, field, "%s %s: no such signal", field,
					      s);
		*sig = (int)v;
		return 0;
	}
	const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(signals); i++) {
		if (strcasecmp(n, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	return acre_error_set(err, EINVAL, field, "%s %s: no such signal", field, s);
}

const char *acre_signal_name(int sig)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(signals); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

void acre_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGT";
	unsigned u = 0;
	uint64_t v = bytes;
	/* Exact when the value is a whole number of the unit, one decimal otherwise. */
	while (u < 4 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (v < 1024 || u == 4) {
		if (u == 0)
			snprintf(buf, len, "%" PRIu64 "B", v);
		else
			snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
		return;
	}
	double d = (double)bytes;
	u = 0;
	while (u < 4 && d >= 1024) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", d, units[u]);
}

void acre_format_rate(uint64_t bps, char *buf, size_t len)
{
	static const char *const names[] = {"bit", "kbit", "mbit", "gbit", "tbit"};
	unsigned u = 0;
	double d = (double)bps;
	while (u < 4 && d >= 1000) {
		d /= 1000;
		u++;
	}
	if (d == (double)(uint64_t)d)
		snprintf(buf, len, "%" PRIu64 "%s", (uint64_t)d, names[u]);
	else
		snprintf(buf, len, "%.1f%s", d, names[u]);
}

void acre_format_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;
	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, (s % 3600) / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, (s % 86400) / 3600);
}
