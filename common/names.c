/*
 * The names the spec and its users share: namespaces, network modes,
 * restart policies, capabilities (through libcap), slice names, valid
 * and generated, and the names of apps and of their ports.
 */
#include "common.h"
#include <ctype.h>
#include <strings.h>
#include <sys/capability.h>

static const struct {
	const char *name;
	enum acre_namespace ns;
} namespace_names[] = {
	{"pid", ACRE_NS_PID}, {"mount", ACRE_NS_MOUNT}, {"uts", ACRE_NS_UTS},
	{"ipc", ACRE_NS_IPC}, {"net", ACRE_NS_NET},	{"cgroup", ACRE_NS_CGROUP},
};

const char *acre_namespace_name(enum acre_namespace ns)
{
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(namespace_names); i++)
		if (namespace_names[i].ns == ns)
			return namespace_names[i].name;
	return "?";
}

enum acre_namespace acre_namespace_from_name(const char *name)
{
	for (size_t i = 0; name && i < ACRE_ARRAY_SIZE(namespace_names); i++)
		if (strcmp(name, namespace_names[i].name) == 0)
			return namespace_names[i].ns;
	return 0;
}

const char *acre_net_mode_name(enum acre_net_mode m)
{
	return m == ACRE_NET_HOST ? "host" : m == ACRE_NET_BRIDGE ? "bridge" : "none";
}

const char *acre_restart_name(enum acre_restart r)
{
	return r == ACRE_RESTART_ALWAYS	      ? "always"
	       : r == ACRE_RESTART_ON_FAILURE ? "on-failure"
					      : "never";
}

bool acre_app_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > ACRE_APP_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool acre_port_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool letter = false;
	if (n == 0 || n > ACRE_PORT_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-' && s[i + 1] == '-')
			return false;
		if (islower((unsigned char)s[i]))
			letter = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return letter;
}

void acre_port_env_name(const char *port, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "PORT_");
	for (; *port && o + 1 < len; port++)
		buf[o++] = *port == '-' ? '_' : (char)toupper((unsigned char)*port);
	if (o < len)
		buf[o] = '\0';
}

bool acre_slice_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > ACRE_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

void acre_slice_name_generate(char *buf, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[8];
	if (acre_random_bytes(rnd, sizeof(rnd)) < 0) {
		uint64_t t = acre_monotonic_ns() ^ (uint64_t)getpid();
		memcpy(rnd, &t, sizeof(rnd));
	}
	char suffix[9];
	for (size_t i = 0; i < 8; i++)
		suffix[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	suffix[8] = '\0';
	snprintf(buf, len, "slice-%s", suffix);
}

int acre_cap_from_name(const char *name)
{
	char lower[64];
	const char *n = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
	if (strlen(n) + 5 > sizeof(lower) || !*n)
		return -1;
	strcpy(lower, "cap_");
	for (size_t i = 0; n[i]; i++)
		lower[4 + i] = (char)tolower((unsigned char)n[i]), lower[5 + i] = '\0';
	cap_value_t v;
	if (cap_from_name(lower, &v) < 0 || v < 0 || v >= 64)
		return -1;
	return v;
}

const char *acre_cap_name(int cap)
{
	/* libcap allocates; keep one static copy per capability number. */
	static char names[64][32];
	if (cap < 0 || cap >= 64)
		return "?";
	if (!names[cap][0]) {
		char *n = cap_to_name((cap_value_t)cap);
		const char *s = n && strncmp(n, "cap_", 4) == 0 ? n + 4 : n;
		size_t i = 0;
		for (; s && s[i] && i < sizeof(names[cap]) - 1; i++)
			names[cap][i] = (char)toupper((unsigned char)s[i]);
		names[cap][i] = '\0';
		cap_free(n);
	}
	return names[cap];
}
