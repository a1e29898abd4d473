/*
 * One string-keyed hash map.
 */
#ifndef ACRE_COMMON_MAP_H
#define ACRE_COMMON_MAP_H

#include <stddef.h>

/* A string-keyed hash map of borrowed pointers; keys are copied. */
struct acre_map;
struct acre_map *acre_map_new(void);
/*
 * The same map with borrowed keys: each key is a string inside its value
 * (a name field) that stays put and unchanged while the entry is in the
 * map; nothing is copied or allocated per entry.  Putting a key again
 * takes the new value and its key.  The controller's million slices.
 */
struct acre_map *acre_map_new_borrowed(void);
void acre_map_free(struct acre_map *m);
void *acre_map_get(const struct acre_map *m, const char *key);
int acre_map_put(struct acre_map *m, const char *key, void *value);
/* The same for a key that must be new: -EEXIST (the map unchanged) when it is there. */
int acre_map_add(struct acre_map *m, const char *key, void *value);
void *acre_map_remove(struct acre_map *m, const char *key);
size_t acre_map_size(const struct acre_map *m);
/* Visits entries in no particular order; the callback must not modify the map. */
void acre_map_foreach(const struct acre_map *m, void (*fn)(const char *key, void *value, void *ud),
		      void *ud);
/* Keys sorted, NULL-terminated; the strings belong to the map. */
const char **acre_map_sorted_keys(const struct acre_map *m);

#endif
