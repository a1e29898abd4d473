/*
 * A new slice's spec as text, encoded once when the slice is made and
 * shared by what needs it until the store holds it: the store's row and
 * the assign message to its node copy the same bytes, where each used to
 * encode the spec again (at a million slices, two encodings of each spec
 * were a fifth of the controller's time).  The labels' text rides along
 * for the row's label column.  Immutable once made; counted references.
 */
#include "internal.h"
#include "common/jsonw.h"

static struct pool_spec_text *alloc_text(const char *spec, size_t spec_len, const char *labels,
					 size_t labels_len)
{
	struct pool_spec_text *t =
		malloc(sizeof(*t) + spec_len + 1 + (labels ? labels_len + 1 : 0));
	if (!t)
		return NULL;
	t->refs = 1;
	t->len = spec_len;
	memcpy(t->text, spec, spec_len);
	t->text[spec_len] = '\0';
	t->labels = NULL;
	if (labels) {
		t->labels = t->text + spec_len + 1;
		memcpy(t->labels, labels, labels_len);
		t->labels[labels_len] = '\0';
	}
	return t;
}

struct pool_spec_text *pool_spec_text_encode(struct acre_jsonw *scratch, const json_t *spec)
{
	acre_jsonw_reset(scratch);
	acre_jsonw_json(scratch, spec);
	const char *text = acre_jsonw_text(scratch);
	if (!text)
		return NULL;
	size_t spec_len = scratch->len;
	/* The labels follow the spec in the same buffer: one allocation for both. */
	const json_t *labels = json_object_get(spec, "labels");
	if (!json_object_size(labels))
		return alloc_text(text, spec_len, NULL, 0);
	acre_jsonw_json(scratch, labels); /* after a comma the writer puts between them */
	text = acre_jsonw_text(scratch);
	if (!text)
		return NULL;
	size_t labels_at = spec_len + 1;
	return alloc_text(text, spec_len, text + labels_at, scratch->len - labels_at);
}

struct pool_spec_text *pool_spec_text_of(const char *spec)
{
	return alloc_text(spec, strlen(spec), NULL, 0);
}

struct pool_spec_text *pool_spec_text_ref(struct pool_spec_text *t)
{
	if (t)
		t->refs++;
	return t;
}

void pool_spec_text_unref(struct pool_spec_text *t)
{
	if (t && --t->refs == 0)
		free(t);
}
