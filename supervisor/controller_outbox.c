/*
 * What the link keeps on disk, in the state directory:
 *
 *   controller-node.json    {"id", "secret"}: who this node is to the pool.
 *                           The id is chosen once; the secret proves to the
 *                           controller that a later registration under the
 *                           id comes from the same node.
 *   controller-outbox.json  {"next_seq", "updates": [...]}: slice changes the
 *                           controller has not acknowledged yet, each with
 *                           its sequence number, resent after a reconnection.
 *
 * (partition.c keeps controller-grace.json beside them.)
 *
 * Both are replaced atomically (write-temp, fsync, rename).  The outbox is
 * written once per loop pass, before its new updates are sent; an
 * acknowledgement only trims memory, so after a crash a few acknowledged
 * updates may be sent again, which the controller ignores as duplicates.
 */
#include "controller_link.h"

#include <ctype.h>

#define IDENTITY_FILE "controller-node.json"
#define OUTBOX_FILE   "controller-outbox.json"
/* Past this many unacknowledged updates (a long partition), keep the newest per slice. */
#define OUTBOX_COALESCE 20000

static int random_hex(char *buf, size_t nbytes)
{
	unsigned char raw[64];
	if (nbytes > sizeof(raw) || acre_random_bytes(raw, nbytes) < 0)
		return -EIO;
	acre_hex_encode(raw, nbytes, buf);
	return 0;
}

/* A readable id: the hostname's safe characters and a random suffix. */
int node_identity_new(char id[ACRE_NAME_MAX + 1], char secret[65])
{
	char host[256] = "", base[41];
	gethostname(host, sizeof(host) - 1);
	size_t n = 0;
	for (const char *p = host; *p && n < sizeof(base) - 1; p++)
		if (isalnum((unsigned char)*p) || *p == '-')
			base[n++] = (char)tolower((unsigned char)*p);
	base[n] = '\0';
	char suffix[9];
	if (random_hex(suffix, 4) < 0 || random_hex(secret, 32) < 0)
		return -EIO;
	snprintf(id, ACRE_NAME_MAX + 1, "%s-%s",
		 n && isalnum((unsigned char)base[0]) ? base : "node", suffix);
	return 0;
}

int node_identity_write(int dir, const char *id, const char *secret, struct acre_error *err)
{
	_cleanup_json_ json_t *j = json_pack("{s:s,s:s}", "id", id, "secret", secret);
	_cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	return acre_file_write_atomic(dir, IDENTITY_FILE, s, strlen(s), err);
}

int node_identity_read(int dir, char id[ACRE_NAME_MAX + 1], char secret[65], struct acre_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = acre_file_read(dir, IDENTITY_FILE, &text, &len, 4096);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "reading %s: %s", IDENTITY_FILE,
				      strerror(-rc));
	const char *i, *s;
	_cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
	if (!j || json_unpack(j, "{s:s,s:s}", "id", &i, "secret", &s) < 0 ||
	    !acre_slice_name_valid(i) || strlen(s) != 64)
		return acre_error_set(err, EINVAL, NULL,
				      "%s in the state directory is damaged; remove it to join "
				      "as a new node",
				      IDENTITY_FILE);
	snprintf(id, ACRE_NAME_MAX + 1, "%s", i);
	snprintf(secret, 65, "%s", s);
	return 0;
}

int outbox_identity(struct controller_link *l, struct acre_error *err)
{
	int dir = l->sv->state_fd;
	int rc = node_identity_read(dir, l->node_id, l->secret, err);
	if (rc != -ENOENT)
		return rc;
	if (node_identity_new(l->node_id, l->secret) < 0)
		return acre_error_set(err, EIO, NULL, "choosing a node id: no randomness");
	rc = node_identity_write(dir, l->node_id, l->secret, err);
	if (rc == 0)
		acre_log(ACRE_LOG_INFO, "event=node_id_created node=%s", l->node_id);
	return rc;
}

int outbox_load(struct controller_link *l, struct acre_error *err)
{
	struct outbox *ob = &l->ob;
	ob->next_seq = 1;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = acre_file_read(l->sv->state_fd, OUTBOX_FILE, &text, &len, 256 << 20);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return acre_error_set(err, -rc, NULL, "reading %s: %s", OUTBOX_FILE, strerror(-rc));
	json_t *updates = NULL;
	json_int_t next = 0;
	_cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
	if (!j || json_unpack(j, "{s:I,s:o}", "next_seq", &next, "updates", &updates) < 0 ||
	    !json_is_array(updates) || next < 1) {
		/* The slices themselves are checkpointed: the next sync reports their state. */
		acre_log(ACRE_LOG_WARN, "event=outbox_damaged action=discard file=%s", OUTBOX_FILE);
		return 0;
	}
	ob->next_seq = next;
	size_t i;
	json_t *u;
	json_array_foreach (updates, i, u) {
		json_t *seq = json_object_get(u, "seq");
		struct outbox_entry e = {.seq = json_integer_value(seq), .update = u};
		if (json_is_integer(seq) && acre_vec_push(&ob->entries, e) == 0)
			json_incref(u);
	}
	acre_log(ACRE_LOG_INFO, "event=outbox_loaded updates=%zu next_seq=%lld", ob->entries.n,
		 (long long)ob->next_seq);
	return 0;
}

/* Keeps only the newest update of each slice: each carries the whole state. */
static void coalesce(struct outbox *ob)
{
	struct outbox_entry *v = ob->entries.v;
	struct acre_map *newest = acre_map_new();
	if (!newest)
		return;
	for (size_t i = 0; i < ob->entries.n; i++) {
		const char *name = json_string_value(json_object_get(v[i].update, "slice"));
		acre_map_put(newest, name, &v[i]);
	}
	size_t k = 0;
	for (size_t i = 0; i < ob->entries.n; i++) {
		const char *name = json_string_value(json_object_get(v[i].update, "slice"));
		if (acre_map_get(newest, name) == &v[i])
			v[k++] = v[i];
		else
			json_decref(v[i].update);
	}
	acre_log(ACRE_LOG_WARN, "event=outbox_coalesced from=%zu to=%zu", ob->entries.n, k);
	ob->entries.n = k;
	acre_map_free(newest);
}

int outbox_push(struct controller_link *l, json_t *update)
{
	struct outbox *ob = &l->ob;
	if (ob->entries.n >= OUTBOX_COALESCE)
		coalesce(ob);
	struct outbox_entry e = {.seq = ob->next_seq, .update = update};
	if (acre_vec_push(&ob->entries, e) < 0) {
		json_decref(update);
		return -ENOMEM;
	}
	ob->next_seq++;
	json_object_set_new(update, "seq", json_integer(e.seq));
	ob->dirty = ob->must_write = true;
	return 0;
}

void outbox_ack(struct controller_link *l, int64_t seq)
{
	struct outbox *ob = &l->ob;
	struct outbox_entry *v = ob->entries.v;
	size_t k = 0;
	while (k < ob->entries.n && v[k].seq <= seq)
		json_decref(v[k++].update);
	if (k == 0)
		return;
	memmove(v, v + k, (ob->entries.n - k) * sizeof(*v));
	ob->entries.n -= k;
	ob->dirty = true; /* written with the next new update, or at exit */
}

int outbox_write(struct controller_link *l, bool all)
{
	struct outbox *ob = &l->ob;
	if (!(all ? ob->dirty : ob->must_write))
		return 0;
	json_t *list = json_array();
	for (size_t i = 0; i < ob->entries.n; i++)
		json_array_append(list, ob->entries.v[i].update);
	_cleanup_json_ json_t *j = json_pack("{s:i,s:I,s:o}", "version", 1, "next_seq",
					     (json_int_t)ob->next_seq, "updates", list);
	_cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct acre_error err = {0};
	int rc = s ? acre_file_write_atomic(l->sv->state_fd, OUTBOX_FILE, s, strlen(s), &err)
		   : -ENOMEM;
	if (rc < 0) {
		acre_log(ACRE_LOG_ERROR, "event=outbox_write_failed error=\"%s\"",
			 err.message[0] ? err.message : strerror(-rc));
		return rc;
	}
	ob->dirty = ob->must_write = false;
	return 0;
}

void outbox_unsend_all(struct controller_link *l)
{
	for (size_t i = 0; i < l->ob.entries.n; i++)
		l->ob.entries.v[i].sent = false;
}

void outbox_free(struct controller_link *l)
{
	for (size_t i = 0; i < l->ob.entries.n; i++)
		json_decref(l->ob.entries.v[i].update);
	acre_vec_free(&l->ob.entries);
	memset(&l->ob, 0, sizeof(l->ob));
}
