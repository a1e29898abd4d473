/*
 * Labels as data: every label key=value of the pool's slices has a set of
 * the slices that carry it, in creation order, found by the label in one
 * hash lookup.  A slice's labels are one allocation, each an entry of its
 * set's list, so adding and removing a slice are O(its labels) and a
 * query walks only the smallest of the sets it names.  Whoever needs the
 * slices of a label — the API's ?label=K=V, later the removal of what an
 * app or a job made — asks here.
 *
 * The blocks of a million slices' labels live long among the short-lived
 * JSON of every request: taken from chunks of their own, and kept on a
 * free list per size when given back, they do not fragment the heap (one
 * malloc per slice here costs the placement rate a third).
 */
#include "internal.h"
#include "common/jsonw.h"

#define MAX_LABELS  64 /* what a spec may have (common/spec.c) */
#define CHUNK_BYTES (256u << 10)

struct chunk {
	struct chunk *next;
	size_t used;
	max_align_t data[];
};

struct label_blocks {
	struct chunk *chunks;
	void *free[MAX_LABELS + 1]; /* blocks given back, by their number of labels */
};

static size_t block_size(unsigned n)
{
	size_t sz = sizeof(struct pool_labels) + n * sizeof(struct pool_label);
	return (sz + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
}

static struct pool_labels *block_alloc(struct label_blocks *b, unsigned n)
{
	if (n > MAX_LABELS)
		return calloc(1, block_size(n));
	size_t sz = block_size(n);
	void *blk = b->free[n];
	if (blk) {
		b->free[n] = *(void **)blk;
	} else {
		struct chunk *c = b->chunks;
		if (!c || c->used + sz > CHUNK_BYTES - sizeof(*c)) {
			if (!(c = malloc(CHUNK_BYTES)))
				return NULL;
			c->next = b->chunks;
			c->used = 0;
			b->chunks = c;
		}
		blk = (char *)c->data + c->used;
		c->used += sz;
	}
	memset(blk, 0, sz);
	return blk;
}

static void block_free(struct label_blocks *b, struct pool_labels *ls, unsigned n)
{
	if (n > MAX_LABELS) {
		free(ls);
		return;
	}
	*(void **)ls = b->free[n];
	b->free[n] = ls;
}

int pool_labels_init(struct pool *p)
{
	if (!(p->labels = acre_map_new()) ||
	    !(p->label_blocks = calloc(1, sizeof(*p->label_blocks))))
		return -ENOMEM;
	return 0;
}

void pool_labels_free(struct pool *p)
{
	if (p->labels)
		acre_map_free(p->labels); /* empty: each slice left its sets */
	p->labels = NULL;
	struct label_blocks *b = p->label_blocks;
	while (b && b->chunks) {
		struct chunk *c = b->chunks;
		b->chunks = c->next;
		free(c);
	}
	free(b);
	p->label_blocks = NULL;
}

struct pool_label_set {
	char *key, *value;
	struct pool_label *head, *tail; /* through set_prev, set_next */
	size_t count;
};

#define KEY_MAX	      63
#define VALUE_MAX     255
#define INDEX_KEY_MAX (2 + KEY_MAX + VALUE_MAX + 1)

/*
 * The index's key: the key's length in two hex digits, the key, the value
 * (a key may hold any character, so no separator would do).  Made once a
 * slice is created or loaded: no printf.  false when too long to be a label.
 */
static bool index_key(char buf[INDEX_KEY_MAX], const char *key, size_t klen, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	size_t vlen = strlen(value);
	if (klen > KEY_MAX || vlen > VALUE_MAX)
		return false;
	buf[0] = hex[klen >> 4];
	buf[1] = hex[klen & 15];
	memcpy(buf + 2, key, klen);
	memcpy(buf + 2 + klen, value, vlen + 1);
	return true;
}

static struct pool_label_set *set_find(struct pool *p, const char *key, size_t klen,
				       const char *value)
{
	char k[INDEX_KEY_MAX];
	return index_key(k, key, klen, value) ? acre_map_get(p->labels, k) : NULL;
}

static struct pool_label_set *set_get(struct pool *p, const char *key, const char *value)
{
	char k[INDEX_KEY_MAX];
	if (!index_key(k, key, strlen(key), value))
		return NULL;
	struct pool_label_set *s = acre_map_get(p->labels, k);
	if (s)
		return s;
	if (!(s = calloc(1, sizeof(*s))) || !(s->key = strdup(key)) ||
	    !(s->value = strdup(value)) || acre_map_put(p->labels, k, s) < 0) {
		if (s) {
			free(s->key);
			free(s->value);
		}
		free(s);
		return NULL;
	}
	return s;
}

static void set_drop(struct pool *p, struct pool_label_set *s)
{
	char k[INDEX_KEY_MAX];
	if (index_key(k, s->key, strlen(s->key), s->value))
		acre_map_remove(p->labels, k);
	free(s->key);
	free(s->value);
	free(s);
}

int pool_labels_attach(struct pool *p, struct pool_slice *sl, const json_t *labels)
{
	size_t n = json_object_size(labels);
	if (n == 0)
		return 0;
	struct pool_labels *ls = block_alloc(p->label_blocks, (unsigned)n);
	if (!ls)
		return -ENOMEM;
	ls->cap = (unsigned)n;
	sl->labels = ls;
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)labels, k, v) {
		const char *value = json_string_value(v);
		struct pool_label_set *s = value ? set_get(p, k, value) : NULL;
		if (!s) {
			pool_labels_detach(p, sl);
			return -ENOMEM;
		}
		struct pool_label *l = &ls->l[ls->n++];
		l->set = s;
		l->slice = sl;
		ACRE_QUEUE_APPEND(set, s->head, s->tail, l);
		s->count++;
	}
	return 0;
}

int pool_labels_attach_same(struct pool *p, struct pool_slice *sl, const struct pool_slice *like)
{
	const struct pool_labels *from = like->labels;
	if (!from)
		return 0;
	struct pool_labels *ls = block_alloc(p->label_blocks, from->n);
	if (!ls)
		return -ENOMEM;
	ls->cap = from->n;
	sl->labels = ls;
	for (unsigned i = 0; i < from->n; i++) {
		struct pool_label_set *s = from->l[i].set;
		struct pool_label *l = &ls->l[ls->n++];
		l->set = s;
		l->slice = sl;
		ACRE_QUEUE_APPEND(set, s->head, s->tail, l);
		s->count++;
	}
	return 0;
}

void pool_labels_detach(struct pool *p, struct pool_slice *sl)
{
	struct pool_labels *ls = sl->labels;
	if (!ls)
		return;
	for (unsigned i = 0; i < ls->n; i++) {
		struct pool_label_set *s = ls->l[i].set;
		ACRE_QUEUE_REMOVE(set, s->head, s->tail, &ls->l[i]);
		if (--s->count == 0)
			set_drop(p, s);
	}
	block_free(p->label_blocks, ls, ls->cap);
	sl->labels = NULL;
}

int pool_label_filter_add(struct pool_label_filter *f, const char *kv, struct acre_error *err)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0;
	if (!eq || klen == 0 || klen > 63 || strlen(eq + 1) > 255)
		return acre_error_set(
			err, EINVAL, "label",
			"label %.80s: KEY=VALUE, a key of 1 to 63 bytes and a value of "
			"at most 255",
			kv);
	if (f->n == POOL_LABEL_FILTER_MAX)
		return acre_error_set(err, EINVAL, "label", "label: at most %d at once",
				      POOL_LABEL_FILTER_MAX);
	f->l[f->n].key = kv;
	f->l[f->n].key_len = klen;
	f->l[f->n].value = eq + 1;
	f->n++;
	return 0;
}

static bool carries(const struct pool_slice *sl, const char *key, size_t klen, const char *value)
{
	for (unsigned i = 0; sl->labels && i < sl->labels->n; i++) {
		const struct pool_label_set *s = sl->labels->l[i].set;
		if (strlen(s->key) == klen && !memcmp(s->key, key, klen) &&
		    !strcmp(s->value, value))
			return true;
	}
	return false;
}

bool pool_slice_has_labels(const struct pool_slice *sl, const struct pool_label_filter *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (!carries(sl, f->l[i].key, f->l[i].key_len, f->l[i].value))
			return false;
	return true;
}

int pool_slices_labelled(struct pool *p, const struct pool_label_filter *f,
			 int (*fn)(struct pool_slice *sl, void *ud), void *ud)
{
	const struct pool_label_set *smallest = NULL;
	for (unsigned i = 0; i < f->n; i++) {
		const struct pool_label_set *s =
			set_find(p, f->l[i].key, f->l[i].key_len, f->l[i].value);
		if (!s)
			return 0; /* nothing carries that one */
		if (!smallest || s->count < smallest->count)
			smallest = s;
	}
	if (!smallest)
		return -EINVAL;
	struct pool_label *l, *next;
	ACRE_LIST_FOREACH_SAFE (set, l, next, smallest->head) {
		if (!pool_slice_has_labels(l->slice, f))
			continue;
		int rc = fn(l->slice, ud);
		if (rc)
			return rc;
	}
	return 0;
}

const char *pool_slice_label(const struct pool_slice *sl, const char *key)
{
	for (unsigned i = 0; sl->labels && i < sl->labels->n; i++)
		if (!strcmp(sl->labels->l[i].set->key, key))
			return sl->labels->l[i].set->value;
	return NULL;
}

json_t *pool_slice_labels_json(const struct pool_slice *sl)
{
	json_t *j = json_object();
	for (unsigned i = 0; j && sl->labels && i < sl->labels->n; i++)
		json_object_set_new(j, sl->labels->l[i].set->key,
				    json_string(sl->labels->l[i].set->value));
	return j;
}

json_t *pool_change_labels(const struct pool_change *ch)
{
	if (ch->kind == POOL_CHANGE_OBJECT)
		return ch->labels ? json_deep_copy(ch->labels) : json_object();
	if (ch->kind == POOL_CHANGE_NODE)
		return json_incref(ch->node->attributes);
	return pool_slice_labels_json(ch->slice);
}

void pool_change_write_labels(struct acre_jsonw *w, const struct pool_change *ch)
{
	if (ch->kind == POOL_CHANGE_OBJECT) {
		if (ch->labels)
			acre_jsonw_json(w, ch->labels);
		else {
			acre_jsonw_object(w);
			acre_jsonw_end_object(w);
		}
		return;
	}
	if (ch->kind == POOL_CHANGE_NODE) {
		acre_jsonw_json(w, ch->node->attributes);
		return;
	}
	const struct pool_labels *ls = ch->slice->labels;
	acre_jsonw_object(w);
	for (unsigned i = 0; ls && i < ls->n; i++) {
		acre_jsonw_key(w, ls->l[i].set->key);
		acre_jsonw_string(w, ls->l[i].set->value);
	}
	acre_jsonw_end_object(w);
}

bool pool_change_has_label(const struct pool_change *ch, const char *key, const char *value)
{
	if (ch->kind == POOL_CHANGE_SLICE)
		return carries(ch->slice, key, strlen(key), value);
	const json_t *from = ch->kind == POOL_CHANGE_OBJECT ? ch->labels : ch->node->attributes;
	const char *v = json_string_value(json_object_get(from, key));
	return v && !strcmp(v, value);
}
