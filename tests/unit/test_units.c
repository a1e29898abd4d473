/*
 * Unit parsing and printing: what `--memory 256M`, `--net-rate 100mbit`,
 * `--cpus 0.5`, `--timeout 10s` and `--signal TERM` turn into, what a user
 * reads when the value is wrong, and how the tables print the numbers back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>

#include "common/common.h"

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));          \
	} while (0)

static uint64_t size_ok(const char *s)
{
	struct acre_error err = {0};
	uint64_t v = 0;
	int r = acre_parse_size(s, &v, &err, "--memory");
	if (r != 0)
		fail_msg("parsing size \"%s\": %d %s", s, r, err.message);
	return v;
}

/* Parses a size that must fail with `code`; returns the error for further checks. */
static struct acre_error size_bad(const char *s, int code)
{
	struct acre_error err = {0};
	uint64_t v = 0;
	assert_int_equal(acre_parse_size(s, &v, &err, "resources.memory"), -code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.field, "resources.memory");
	assert_contains(err.message, "resources.memory");
	return err;
}

static void test_size_binary_units(void **state)
{
	(void)state;
	assert_int_equal(size_ok("64M"), 67108864);
	assert_int_equal(size_ok("1G"), 1073741824);
	assert_int_equal(size_ok("1.5G"), 1610612736);
	assert_int_equal(size_ok("10K"), 10240);
	assert_int_equal(size_ok("2T"), 2199023255552ULL);
	assert_int_equal(size_ok("512"), 512);
	assert_int_equal(size_ok("0"), 0);
	assert_int_equal(size_ok("1B"), 1);
	assert_int_equal(size_ok("0.5K"), 512);
}

static void test_size_suffix_spellings(void **state)
{
	(void)state;
	assert_int_equal(size_ok("64Mi"), 67108864);
	assert_int_equal(size_ok("64MiB"), 67108864);
	assert_int_equal(size_ok("64MB"), 67108864);
	assert_int_equal(size_ok("64m"), 67108864);
	assert_int_equal(size_ok("1GiB"), 1073741824);
}

static void test_size_unknown_unit(void **state)
{
	(void)state;
	struct acre_error err = size_bad("12Q", EINVAL);
	assert_contains(err.message, "unknown unit");
	assert_contains(err.message, "12Q");

	err = size_bad("64Mx", EINVAL);
	assert_contains(err.message, "unknown unit");
	err = size_bad("64MiBs", EINVAL);
	assert_contains(err.message, "unknown unit");
	err = size_bad("64BB", EINVAL);
	assert_contains(err.message, "unknown unit");
	err = size_bad("64 M", EINVAL);
	assert_contains(err.message, "unknown unit");
}

static void test_size_field_named_in_message(void **state)
{
	(void)state;
	struct acre_error err = {0};
	uint64_t v;
	assert_int_equal(acre_parse_size("12Q", &v, &err, "--memory"), -EINVAL);
	assert_string_equal(err.field, "--memory");
	assert_string_equal(err.message, "--memory 12Q: unknown unit (use K, M, G or T)");
}

static void test_size_empty(void **state)
{
	(void)state;
	struct acre_error err = size_bad("", EINVAL);
	assert_contains(err.message, "empty");
	err = size_bad(NULL, EINVAL);
	assert_contains(err.message, "empty");
}

static void test_size_overflow(void **state)
{
	(void)state;
	struct acre_error err = size_bad("99999999999T", ERANGE);
	assert_contains(err.message, "too large");
	err = size_bad("99999999999999999999", ERANGE);
	assert_contains(err.message, "too large");
	/* Sizes are JSON integers (signed 64-bit): 2^23 T is 2^63, one past the largest. */
	size_bad("16777216T", ERANGE);
	size_bad("8388608T", ERANGE);
	size_bad("00000010044655764G", ERANGE);
	assert_int_equal(size_ok("8388607T"), 8388607ULL << 40);
}

static void test_size_not_a_number(void **state)
{
	(void)state;
	struct acre_error err = size_bad("-1", EINVAL);
	assert_contains(err.message, "not a size");
	err = size_bad("M", EINVAL);
	assert_contains(err.message, "not a size");
	err = size_bad("1.", EINVAL);
	assert_contains(err.message, "not a size");
	err = size_bad(".5G", EINVAL);
	assert_contains(err.message, "not a size");
}

static void test_size_fractional_bytes(void **state)
{
	(void)state;
	struct acre_error err = size_bad("1.5", EINVAL);
	assert_contains(err.message, "fractional");
	err = size_bad("1.5B", EINVAL);
	assert_contains(err.message, "fractional");
}

static void test_size_long_fraction_exact(void **state)
{
	(void)state;
	/* 1e-8 T is 10995.116 bytes: the fraction must not overflow on the way. */
	assert_int_equal(size_ok("1.00000001T"), 1099511627776ULL + 10995);
	assert_int_equal(size_ok("1.999999999T"), 1099511627776ULL + 1099511626676ULL);
}

static void test_size_without_error_struct(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(acre_parse_size("12Q", &v, NULL, "x"), -EINVAL);
	assert_int_equal(acre_parse_size("99999999999T", &v, NULL, "x"), -ERANGE);
}

static uint64_t rate_ok(const char *s)
{
	struct acre_error err = {0};
	uint64_t v = 0;
	int r = acre_parse_rate(s, &v, &err, "--net-rate");
	if (r != 0)
		fail_msg("parsing rate \"%s\": %d %s", s, r, err.message);
	return v;
}

static struct acre_error rate_bad(const char *s, int code)
{
	struct acre_error err = {0};
	uint64_t v = 0;
	assert_int_equal(acre_parse_rate(s, &v, &err, "--net-rate"), -code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.field, "--net-rate");
	return err;
}

static void test_rate_units(void **state)
{
	(void)state;
	assert_int_equal(rate_ok("100mbit"), 100000000);
	assert_int_equal(rate_ok("1gbit"), 1000000000);
	assert_int_equal(rate_ok("500kbit"), 500000);
	assert_int_equal(rate_ok("1.5mbit"), 1500000);
	assert_int_equal(rate_ok("100MBit"), 100000000);
	assert_int_equal(rate_ok("2tbit"), 2000000000000ULL);
	assert_int_equal(rate_ok("100"), 100);
	assert_int_equal(rate_ok("100bit"), 100);
}

static void test_rate_bytes_per_second(void **state)
{
	(void)state;
	assert_int_equal(rate_ok("10mbps"), 80000000);
	assert_int_equal(rate_ok("1bps"), 8);
	assert_int_equal(rate_ok("3kbps"), 24000);
	assert_int_equal(rate_ok("1gbps"), 8000000000ULL);
	assert_int_equal(rate_ok("1.999999999tbps"), 15999999992000ULL);
}

static void test_rate_errors(void **state)
{
	(void)state;
	struct acre_error err = rate_bad("0", EINVAL);
	assert_contains(err.message, "above zero");
	err = rate_bad("0mbit", EINVAL);
	assert_contains(err.message, "above zero");
	err = rate_bad("fast", EINVAL);
	assert_contains(err.message, "not a rate");
	err = rate_bad("10furlongs", EINVAL);
	assert_contains(err.message, "unknown unit");
	assert_contains(err.message, "10furlongs");
	err = rate_bad("", EINVAL);
	assert_contains(err.message, "empty");
	err = rate_bad("99999999999tbps", ERANGE);
	assert_contains(err.message, "too large");
}

static uint32_t cpus_ok(const char *s)
{
	struct acre_error err = {0};
	uint32_t v = 0;
	int r = acre_parse_cpus(s, &v, &err, "--cpus");
	if (r != 0)
		fail_msg("parsing cpus \"%s\": %d %s", s, r, err.message);
	return v;
}

static struct acre_error cpus_bad(const char *s, int code)
{
	struct acre_error err = {0};
	uint32_t v = 0;
	assert_int_equal(acre_parse_cpus(s, &v, &err, "--cpus"), -code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.field, "--cpus");
	return err;
}

static void test_cpus(void **state)
{
	(void)state;
	assert_int_equal(cpus_ok("0.5"), 500);
	assert_int_equal(cpus_ok("2"), 2000);
	assert_int_equal(cpus_ok("1.25"), 1250);
	assert_int_equal(cpus_ok("0.001"), 1);
	assert_int_equal(cpus_ok("100000"), 100000000);
}

static void test_cpus_errors(void **state)
{
	(void)state;
	struct acre_error err = cpus_bad("0.0001", EINVAL);
	assert_contains(err.message, "three decimals");
	err = cpus_bad("0", EINVAL);
	assert_contains(err.message, "above zero");
	err = cpus_bad("0.000", EINVAL);
	assert_contains(err.message, "above zero");
	err = cpus_bad("abc", EINVAL);
	assert_contains(err.message, "not a CPU count");
	cpus_bad("1.5x", EINVAL);
	cpus_bad("-1", EINVAL);
	cpus_bad("", EINVAL);
	err = cpus_bad("100001", ERANGE);
	assert_contains(err.message, "too large");
}

static uint64_t duration_ok(const char *s)
{
	struct acre_error err = {0};
	uint64_t v = 0;
	int r = acre_parse_duration(s, &v, &err, "--timeout");
	if (r != 0)
		fail_msg("parsing duration \"%s\": %d %s", s, r, err.message);
	return v;
}

static void test_duration(void **state)
{
	(void)state;
	assert_int_equal(duration_ok("10"), 10000);
	assert_int_equal(duration_ok("10s"), 10000);
	assert_int_equal(duration_ok("500ms"), 500);
	assert_int_equal(duration_ok("2m"), 120000);
	assert_int_equal(duration_ok("1h"), 3600000);
	assert_int_equal(duration_ok("1.5s"), 1500);
	assert_int_equal(duration_ok("0"), 0);
}

static void test_duration_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {"10d", "", "s", "-5s", "10 s", "1.5.s"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		struct acre_error err = {0};
		uint64_t v;
		assert_int_equal(acre_parse_duration(bad[i], &v, &err, "--timeout"), -EINVAL);
		assert_string_equal(err.field, "--timeout");
		assert_contains(err.message, "--timeout");
	}
	struct acre_error err = {0};
	uint64_t v;
	acre_parse_duration("10d", &v, &err, "--timeout");
	assert_contains(err.message, "unknown unit");
	assert_int_equal(acre_parse_duration(NULL, &v, &err, "--timeout"), -EINVAL);
}

static int signal_ok(const char *s)
{
	struct acre_error err = {0};
	int sig = 0;
	int r = acre_parse_signal(s, &sig, &err, "--signal");
	if (r != 0)
		fail_msg("parsing signal \"%s\": %d %s", s, r, err.message);
	return sig;
}

static void test_signal(void **state)
{
	(void)state;
	assert_int_equal(signal_ok("TERM"), SIGTERM);
	assert_int_equal(signal_ok("SIGKILL"), SIGKILL);
	assert_int_equal(signal_ok("sigterm"), SIGTERM);
	assert_int_equal(signal_ok("hup"), SIGHUP);
	assert_int_equal(signal_ok("9"), 9);
	assert_int_equal(signal_ok("15"), 15);
	assert_int_equal(signal_ok("USR1"), SIGUSR1);
}

static void test_signal_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {"NOPE", "0", "65", "9x", "", "SIG", "SIGNOPE", "-9"};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(bad); i++) {
		struct acre_error err = {0};
		int sig = 0;
		assert_int_equal(acre_parse_signal(bad[i], &sig, &err, "--signal"), -EINVAL);
		assert_int_equal(err.code, EINVAL);
		assert_string_equal(err.field, "--signal");
	}
	struct acre_error err = {0};
	int sig;
	acre_parse_signal("NOPE", &sig, &err, "--signal");
	assert_string_equal(err.message, "--signal NOPE: no such signal");
}

static void test_signal_name(void **state)
{
	(void)state;
	assert_string_equal(acre_signal_name(SIGTERM), "TERM");
	assert_string_equal(acre_signal_name(SIGKILL), "KILL");
	assert_null(acre_signal_name(0));
	assert_null(acre_signal_name(SIGRTMIN + 1));
}

static const char *fmt_size(uint64_t v, char *buf, size_t len)
{
	acre_format_size(v, buf, len);
	return buf;
}

static void test_format_size(void **state)
{
	(void)state;
	char b[32];
	/* Exact when a whole number of the unit... */
	assert_string_equal(fmt_size(268435456, b, sizeof(b)), "256M");
	assert_string_equal(fmt_size(1073741824, b, sizeof(b)), "1G");
	assert_string_equal(fmt_size(10240, b, sizeof(b)), "10K");
	assert_string_equal(fmt_size(512, b, sizeof(b)), "512B");
	assert_string_equal(fmt_size(1000, b, sizeof(b)), "1000B");
	assert_string_equal(fmt_size(0, b, sizeof(b)), "0B");
	assert_string_equal(fmt_size(1ULL << 50, b, sizeof(b)), "1024T");
	/* ...one decimal otherwise, rounded. */
	assert_string_equal(fmt_size(1610612736, b, sizeof(b)), "1.5G");
	assert_string_equal(fmt_size(1536, b, sizeof(b)), "1.5K");
	assert_string_equal(fmt_size(1025, b, sizeof(b)), "1.0K");
	assert_string_equal(fmt_size((4ULL << 20) + 1, b, sizeof(b)), "4.0M");
	assert_string_equal(fmt_size(1288490189, b, sizeof(b)), "1.2G");
}

static void test_format_size_parses_back(void **state)
{
	(void)state;
	static const uint64_t values[] = {1,	    512,       1024,	   10240,
					  67108864, 268435456, 3ULL << 30, 5ULL << 40};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(values); i++) {
		char b[32];
		acre_format_size(values[i], b, sizeof(b));
		assert_int_equal(size_ok(b), values[i]);
	}
}

static void test_format_rate(void **state)
{
	(void)state;
	char b[32];
	acre_format_rate(100000000, b, sizeof(b));
	assert_string_equal(b, "100mbit");
	acre_format_rate(1500000000, b, sizeof(b));
	assert_string_equal(b, "1.5gbit");
	acre_format_rate(999, b, sizeof(b));
	assert_string_equal(b, "999bit");
	acre_format_rate(1234567, b, sizeof(b));
	assert_string_equal(b, "1.2mbit");
	acre_format_rate(1000000000000ULL, b, sizeof(b));
	assert_string_equal(b, "1tbit");
	acre_format_rate(80000000, b, sizeof(b));
	assert_int_equal(rate_ok(b), 80000000);
}

static void test_format_duration(void **state)
{
	(void)state;
	char b[32];
	acre_format_duration(0, b, sizeof(b));
	assert_string_equal(b, "0s");
	acre_format_duration(59999, b, sizeof(b));
	assert_string_equal(b, "59s");
	acre_format_duration(200000, b, sizeof(b));
	assert_string_equal(b, "3m20s");
	acre_format_duration(3600000, b, sizeof(b));
	assert_string_equal(b, "1h00m");
	acre_format_duration(90061000, b, sizeof(b));
	assert_string_equal(b, "1d01h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_binary_units),
		cmocka_unit_test(test_size_suffix_spellings),
		cmocka_unit_test(test_size_unknown_unit),
		cmocka_unit_test(test_size_field_named_in_message),
		cmocka_unit_test(test_size_empty),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_not_a_number),
		cmocka_unit_test(test_size_fractional_bytes),
		cmocka_unit_test(test_size_long_fraction_exact),
		cmocka_unit_test(test_size_without_error_struct),
		cmocka_unit_test(test_rate_units),
		cmocka_unit_test(test_rate_bytes_per_second),
		cmocka_unit_test(test_rate_errors),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_cpus_errors),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_signal_errors),
		cmocka_unit_test(test_signal_name),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_format_size_parses_back),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_format_duration),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
