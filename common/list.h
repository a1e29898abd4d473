/*
 * Intrusive doubly linked lists, as systemd's list.h: an item carries the
 * links of every list it can be on (`ACRE_LIST_FIELDS(struct slice,
 * node)` gives node_prev and node_next), so membership costs no
 * allocation and an item unlinks itself in O(1).  A list is a head
 * pointer; a queue is a head and a tail pointer, for FIFO order.
 */
#ifndef ACRE_COMMON_LIST_H
#define ACRE_COMMON_LIST_H

#include <stddef.h>

#define ACRE_LIST_FIELDS(type, name) type *name##_prev, *name##_next

/* Puts `item` first. */
#define ACRE_LIST_PREPEND(name, head, item)                                                        \
	do {                                                                                       \
		__typeof__(*(head)) **_head = &(head), *_item = (item);                            \
		_item->name##_prev = NULL;                                                         \
		_item->name##_next = *_head;                                                       \
		if (*_head)                                                                        \
			(*_head)->name##_prev = _item;                                             \
		*_head = _item;                                                                    \
	} while (0)

/* Takes `item` out of the list that starts at `head`. */
#define ACRE_LIST_REMOVE(name, head, item)                                                         \
	do {                                                                                       \
		__typeof__(*(head)) **_head = &(head), *_item = (item);                            \
		if (_item->name##_next)                                                            \
			_item->name##_next->name##_prev = _item->name##_prev;                      \
		if (_item->name##_prev)                                                            \
			_item->name##_prev->name##_next = _item->name##_next;                      \
		else                                                                               \
			*_head = _item->name##_next;                                               \
		_item->name##_prev = _item->name##_next = NULL;                                    \
	} while (0)

/* Puts `item` last in the queue (head, tail). */
#define ACRE_QUEUE_APPEND(name, head, tail, item)                                                  \
	do {                                                                                       \
		__typeof__(*(head)) **_head = &(head), **_tail = &(tail), *_item = (item);         \
		_item->name##_next = NULL;                                                         \
		_item->name##_prev = *_tail;                                                       \
		if (*_tail)                                                                        \
			(*_tail)->name##_next = _item;                                             \
		else                                                                               \
			*_head = _item;                                                            \
		*_tail = _item;                                                                    \
	} while (0)

/* Takes `item` out of the queue (head, tail). */
#define ACRE_QUEUE_REMOVE(name, head, tail, item)                                                  \
	do {                                                                                       \
		__typeof__(*(head)) **_tail = &(tail), *_qitem = (item);                           \
		if (*_tail == _qitem)                                                              \
			*_tail = _qitem->name##_prev;                                              \
		ACRE_LIST_REMOVE(name, head, _qitem);                                              \
	} while (0)

/* Visits every item; `i` may not be removed inside (use _SAFE for that). */
#define ACRE_LIST_FOREACH(name, i, head) for ((i) = (head); (i); (i) = (i)->name##_next)

/* Visits every item; `i` may be removed, `n` holds the next one. */
#define ACRE_LIST_FOREACH_SAFE(name, i, n, head)                                                   \
	for ((i) = (head); (i) && (((n) = (i)->name##_next), 1); (i) = (n))

#endif
