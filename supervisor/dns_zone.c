/*
 * The `.acre` zone's records, as net.names messages leave them: each
 * message is checked whole into new records first and only then applied,
 * so a bad one changes nothing.  Records are keyed by their lower-case name;
 * a full message swaps the whole table.
 */
#include "dns_zone_internal.h"

#include "proto/proto.h"

#include <arpa/inet.h>
#include <ctype.h>

struct dns_zone *dns_zone_new(void)
{
	struct dns_zone *z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	z->records = acre_map_new();
	z->fixed = acre_map_new();
	if (!z->records || !z->fixed) {
		acre_map_free(z->records);
		acre_map_free(z->fixed);
		free(z);
		return NULL;
	}
	return z;
}

static void record_free(struct dns_record *r)
{
	if (!r)
		return;
	free(r->addrs);
	free(r->srv);
	free(r);
}

static void free_cb(const char *key, void *value, void *ud)
{
	(void)key;
	(void)ud;
	record_free(value);
}

static void records_free(struct acre_map *m)
{
	if (!m)
		return;
	acre_map_foreach(m, free_cb, NULL);
	acre_map_free(m);
}

void dns_zone_free(struct dns_zone *z)
{
	if (!z)
		return;
	records_free(z->records);
	records_free(z->fixed);
	cache_free(z);
	free(z);
}

size_t dns_zone_size(const struct dns_zone *z)
{
	return acre_map_size(z->records);
}

const struct dns_record *dns_zone_get(const struct dns_zone *z, const char *name)
{
	char key[DNS_LABEL_MAX + 1];
	size_t n = strlen(name);
	if (n == 0 || n > DNS_LABEL_MAX)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	const struct dns_record *r = acre_map_get(z->records, key);
	return r ? r : acre_map_get(z->fixed, key);
}

struct dns_record *zone_lookup_label(struct dns_zone *z, const uint8_t *label, size_t len)
{
	char key[DNS_LABEL_MAX + 1];
	if (len == 0 || len > DNS_LABEL_MAX)
		return NULL;
	for (size_t i = 0; i < len; i++)
		key[i] = (char)tolower(label[i]);
	key[len] = '\0';
	struct dns_record *r = acre_map_get(z->records, key);
	return r ? r : acre_map_get(z->fixed, key);
}

void dns_zone_set_reverse(struct dns_zone *z, uint32_t network, unsigned prefix)
{
	z->reverse_net = network;
	z->reverse_prefix = prefix > 32 ? 32 : prefix;
	z->reverse_on = true;
	z->gen++;
}

bool dns_label_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DNS_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool service_valid(const char *s)
{
	size_t n = strlen(s);
	return n <= DNS_SERVICE_MAX && dns_label_valid(s);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int parse_addrs(json_t *list, struct dns_record *r, const char *field,
		       struct acre_error *err)
{
	if (!json_is_array(list) || json_array_size(list) > DNS_ADDRS_MAX)
		return acre_error_set(err, EINVAL, field,
				      "%s: must be an array of at most %d IPv4 addresses", field,
				      DNS_ADDRS_MAX);
	size_t n = json_array_size(list);
	r->addrs = calloc(n ? n : 1, sizeof(*r->addrs));
	if (!r->addrs)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(list, i));
		struct in_addr a;
		if (!s || inet_pton(AF_INET, s, &a) != 1)
			return acre_error_set(err, EINVAL, field, "%s[%zu]: not an IPv4 address",
					      field, i);
		r->addrs[r->naddrs++] = a.s_addr;
	}
	return 0;
}

static int parse_srv_one(json_t *j, struct dns_srv *s, const char *field, size_t i,
			 struct acre_error *err)
{
	const char *service, *proto, *target;
	json_int_t port;
	json_error_t jerr;
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s,s:s,s:I,s:s}", "service", &service, "proto",
			   &proto, "port", &port, "target", &target) < 0)
		return acre_error_set(err, EINVAL, field, "%s[%zu]: %s", field, i, jerr.text);
	if (!service_valid(service))
		return acre_error_set(err, EINVAL, field,
				      "%s[%zu].service: a label of 1 to 15 characters", field, i);
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return acre_error_set(err, EINVAL, field, "%s[%zu].proto: tcp or udp", field, i);
	if (port < 1 || port > 65535)
		return acre_error_set(err, EINVAL, field, "%s[%zu].port: 1 to 65535", field, i);
	if (!dns_label_valid(target))
		return acre_error_set(err, EINVAL, field, "%s[%zu].target: not a DNS label", field,
				      i);
	snprintf(s->service, sizeof(s->service), "%s", service);
	snprintf(s->proto, sizeof(s->proto), "%s", proto);
	snprintf(s->target, sizeof(s->target), "%s", target);
	lower(s->service);
	lower(s->target);
	s->port = (uint16_t)port;
	return 0;
}

static int parse_srv(json_t *list, struct dns_record *r, const char *field, struct acre_error *err)
{
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > DNS_SRV_MAX)
		return acre_error_set(err, EINVAL, field, "%s: must be an array of at most %d",
				      field, DNS_SRV_MAX);
	size_t n = json_array_size(list);
	r->srv = calloc(n ? n : 1, sizeof(*r->srv));
	if (!r->srv)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++, r->nsrv++)
		if (parse_srv_one(json_array_get(list, i), &r->srv[i], field, i, err) < 0)
			return -EINVAL;
	return 0;
}

static int parse_record(json_t *j, size_t i, struct dns_record **out, struct acre_error *err)
{
	char field[48];
	const char *name;
	json_t *addrs, *srv = NULL;
	json_error_t jerr;
	snprintf(field, sizeof(field), "set[%zu]", i);
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s,s:o,s?o}", "name", &name, "addresses",
			   &addrs, "srv", &srv) < 0)
		return acre_error_set(err, EINVAL, field, "%s: %s", field, jerr.text);
	if (!dns_label_valid(name))
		return acre_error_set(err, EINVAL, field, "%s.name: \"%.64s\" is not a DNS label",
				      field, name);
	struct dns_record *r = calloc(1, sizeof(*r));
	if (!r)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	snprintf(r->name, sizeof(r->name), "%s", name);
	lower(r->name);
	char sub[64];
	snprintf(sub, sizeof(sub), "%s.addresses", field);
	int rc = parse_addrs(addrs, r, sub, err);
	snprintf(sub, sizeof(sub), "%s.srv", field);
	if (rc == 0)
		rc = parse_srv(srv, r, sub, err);
	if (rc < 0) {
		record_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The set entries, parsed into a map of their own (a later entry of a name wins). */
static int parse_set(json_t *set, struct acre_map *into, struct acre_error *err)
{
	if (!set)
		return 0;
	if (!json_is_array(set))
		return acre_error_set(err, EINVAL, "set", "set: must be an array");
	size_t i;
	json_t *j;
	json_array_foreach (set, i, j) {
		struct dns_record *r = NULL;
		int rc = parse_record(j, i, &r, err);
		if (rc < 0)
			return rc;
		record_free(acre_map_remove(into, r->name));
		if (acre_map_put(into, r->name, r) < 0) {
			record_free(r);
			return acre_error_set(err, ENOMEM, NULL, "out of memory");
		}
	}
	return 0;
}

static int check_gone(json_t *gone, struct acre_error *err)
{
	if (!gone)
		return 0;
	if (!json_is_array(gone))
		return acre_error_set(err, EINVAL, "gone", "gone: must be an array of names");
	size_t i;
	json_t *j;
	json_array_foreach (gone, i, j) {
		const char *s = json_string_value(j);
		if (!s || !dns_label_valid(s))
			return acre_error_set(err, EINVAL, "gone", "gone[%zu]: not a DNS label", i);
	}
	return 0;
}

struct move {
	struct acre_map *to;
	int rc;
};

static void move_cb(const char *key, void *value, void *ud)
{
	struct move *m = ud;
	record_free(acre_map_remove(m->to, key));
	if (acre_map_put(m->to, key, value) < 0) {
		record_free(value);
		m->rc = -ENOMEM;
	}
}

int dns_zone_apply(struct dns_zone *z, const json_t *msg, struct acre_error *err)
{
	int full = 0;
	json_t *set = NULL, *gone = NULL;
	json_error_t jerr;
	if (json_unpack_ex((json_t *)msg, &jerr, 0, "{s?b,s?o,s?o}", "full", &full, "set", &set,
			   "gone", &gone) < 0)
		return acre_error_set(err, EINVAL, NULL, "net.names: %s", jerr.text);
	struct acre_map *fresh = acre_map_new();
	if (!fresh)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = parse_set(set, fresh, err);
	if (rc == 0)
		rc = check_gone(gone, err);
	if (rc < 0) {
		records_free(fresh);
		return acre_error_prefix(err, "net.names");
	}
	z->gen++;
	if (full) {
		/* The whole zone anew: what the message does not name is gone. */
		records_free(z->records);
		z->records = fresh;
		return 0;
	}
	for (size_t i = 0; gone && i < json_array_size(gone); i++) {
		char key[DNS_LABEL_MAX + 1];
		snprintf(key, sizeof(key), "%s", json_string_value(json_array_get(gone, i)));
		lower(key);
		record_free(acre_map_remove(z->records, key));
	}
	struct move m = {.to = z->records};
	acre_map_foreach(fresh, move_cb, &m);
	acre_map_free(fresh); /* its records now belong to the zone */
	if (m.rc < 0)
		return acre_error_set(err, ENOMEM, NULL, "net.names: out of memory");
	return 0;
}

struct reverse_walk {
	uint32_t addr;
	const struct dns_record *best;
};

/*
 * A slice's own record (one address) names its address before any group
 * that holds it; among equals the first name in order, so that the answer
 * is the same every time.
 */
static void reverse_cb(const char *key, void *value, void *ud)
{
	(void)key;
	struct reverse_walk *w = ud;
	const struct dns_record *r = value;
	bool has = false;
	for (size_t i = 0; i < r->naddrs && !has; i++)
		has = r->addrs[i] == w->addr;
	if (!has)
		return;
	const struct dns_record *b = w->best;
	if (!b || (r->naddrs == 1 && b->naddrs != 1) ||
	    ((r->naddrs == 1) == (b->naddrs == 1) && strcmp(r->name, b->name) < 0))
		w->best = r;
}

const struct dns_record *zone_lookup_addr(const struct dns_zone *z, uint32_t addr)
{
	struct reverse_walk w = {.addr = addr};
	acre_map_foreach(z->records, reverse_cb, &w);
	if (!w.best)
		acre_map_foreach(z->fixed, reverse_cb, &w);
	return w.best;
}

/* One more address of a fixed name. */
static int add_fixed(struct dns_zone *z, const char *name, uint32_t addr)
{
	struct dns_record *r = acre_map_get(z->fixed, name);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		snprintf(r->name, sizeof(r->name), "%s", name);
		if (acre_map_put(z->fixed, r->name, r) < 0) {
			free(r);
			return -ENOMEM;
		}
	}
	if (r->naddrs >= DNS_ADDRS_MAX)
		return -E2BIG;
	uint32_t *a = realloc(r->addrs, (r->naddrs + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	r->addrs = a;
	r->addrs[r->naddrs++] = addr;
	return 0;
}

/* NAME or NAME.acre (any case) -> "name"; NULL for a name of another domain. */
static bool hosts_name(const char *tok, char *out, size_t len)
{
	size_t n = strlen(tok), zl = strlen("." ACRE_DNS_ZONE);
	if (n > zl && strcasecmp(tok + n - zl, "." ACRE_DNS_ZONE) == 0)
		n -= zl;
	if (n == 0 || n >= len)
		return false;
	memcpy(out, tok, n);
	out[n] = '\0';
	lower(out);
	return dns_label_valid(out);
}

int dns_zone_load_hosts(struct dns_zone *z, char *text, size_t *loaded, size_t *skipped)
{
	*loaded = *skipped = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *tsave = NULL, *addr = strtok_r(line, " \t\r", &tsave);
		struct in_addr a;
		if (!addr)
			continue;
		bool v4 = inet_pton(AF_INET, addr, &a) == 1;
		for (char *tok = strtok_r(NULL, " \t\r", &tsave); tok;
		     tok = strtok_r(NULL, " \t\r", &tsave)) {
			char name[DNS_LABEL_MAX + 1];
			if (!v4 || !hosts_name(tok, name, sizeof(name))) {
				(*skipped)++;
				continue;
			}
			z->gen++;
			int rc = add_fixed(z, name, a.s_addr);
			if (rc < 0)
				return rc;
			(*loaded)++;
		}
	}
	return 0;
}
