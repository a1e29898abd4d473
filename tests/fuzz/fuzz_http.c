/*
 * The controller's HTTP API, handlers and all: each input is one request
 * to a real API over a real store (in a temporary directory), read by
 * libevent's HTTP server as a client's would be.  The first byte picks the route
 * (and method), the rest is its body or, for a GET, its query string.
 * Whatever comes in, the answer is a complete HTTP response whose status
 * is one the API documents and whose body is JSON.  The requests arrive
 * on a Unix socket that the API's own server accepts on.
 */
#include "controller/api/api.h"
#include "controller/api/internal.h"
#include "controller/pool/pool.h"
#include "controller/store/store.h"

#include <event2/event.h>
#include <event2/http.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-token"

static struct event_base *base;
static struct pool *pool;
static struct api *api;
static struct sockaddr_un door = {.sun_family = AF_UNIX};

static char dir[] = "/tmp/acre-fuzz-http.XXXXXX";

/* The store's files and the door's socket go with the process (a run ends in exit()). */
static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static void setup(void)
{
	struct acre_error err = {0};
	struct store *st;
	acre_log_set_level(ACRE_LOG_ERROR);
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	if (!(base = event_base_new()) || store_open(dir, &st, &err) < 0)
		abort();
	struct pool_options po = {.node_timeout_ms = 5000, .lost_after_ms = 30000};
	if (pool_open(st, &po, &pool, &err) < 0)
		abort();
	/* The API listens somewhere; the requests come over socketpairs. */
	for (int i = 0; i < 50 && !api; i++) {
		char listen[64];
		snprintf(listen, sizeof(listen), "127.0.0.1:%d",
			 20000 + (int)(acre_monotonic_ns() % 12000));
		struct api_options o = {.listen = listen, .token = TOKEN, .max_batch = 100};
		if (api_start(base, pool, &o, &api, &err) < 0)
			api = NULL;
	}
	if (!api)
		abort();
	/* Requests come in on a Unix socket of its own, accepted by the same server. */
	snprintf(door.sun_path, sizeof(door.sun_path), "%s/http.sock", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&door, sizeof(door)) < 0 || listen(fd, 16) < 0 ||
	    evhttp_accept_socket(api->http, fd) < 0)
		abort();
}

struct route {
	const char *method, *path;
	bool query; /* the input is the query string, not the body */
};

static const struct route routes[] = {
	{"POST", "/v1/slices", false},
	{"POST", "/v1/slices/fuzz-1/kill", false},
	{"DELETE", "/v1/slices/fuzz-1", true},
	{"GET", "/v1/slices", true},
	{"GET", "/v1/slices/fuzz-1", true},
	{"GET", "/v1/nodes", true},
	{"GET", "/v1/pool", true},
	{"PUT", "/v1/slices", false},
};

static bool status_documented(int status)
{
	static const int ok[] = {200, 201, 202, 400, 404, 405, 409, 413, 422};
	for (size_t i = 0; i < ACRE_ARRAY_SIZE(ok); i++)
		if (status == ok[i])
			return true;
	return false;
}

/* A query string of the input's printable bytes only: the rest the client would escape. */
static size_t query_of(const uint8_t *d, size_t n, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++)
		if (d[i] > 0x20 && d[i] < 0x7f && d[i] != '#')
			out[o++] = (char)d[i];
	out[o] = '\0';
	return o;
}

/* Headers and as many body bytes as Content-Length says: no need to wait for the close. */
static bool response_complete(char *resp, size_t got)
{
	resp[got] = '\0';
	const char *end = strstr(resp, "\r\n\r\n");
	const char *cl = strcasestr(resp, "\r\nContent-Length:");
	if (!end || !cl || cl > end)
		return false;
	return got - (size_t)(end + 4 - resp) >= strtoul(cl + 17, NULL, 10);
}

static void exchange(const char *head, const uint8_t *body, size_t blen)
{
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&door, sizeof(door)) < 0)
		abort();
	if (write(c, head, strlen(head)) < 0 || (blen && write(c, body, blen) < 0))
		abort();
	fcntl(c, F_SETFL, O_NONBLOCK);
	char resp[65536];
	size_t got = 0;
	for (int pass = 0; pass < 10000; pass++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		pool_commit(pool);
		api_flush(api);
		ssize_t r = read(c, resp + got, sizeof(resp) - 1 - got);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
		if (got == sizeof(resp) - 1 || response_complete(resp, got))
			break;
	}
	close(c);
	resp[got] = '\0';
	int status = 0;
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1 || !status_documented(status))
		abort();
	const char *b = strstr(resp, "\r\n\r\n");
	if (!b)
		abort();
	json_error_t jerr;
	json_t *j = json_loads(b + 4, JSON_DECODE_ANY, &jerr);
	if (!j)
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base)
		setup();
	if (size < 1 || size > 60000)
		return 0;
	const struct route *r = &routes[data[0] % ACRE_ARRAY_SIZE(routes)];
	data++;
	size--;
	char head[8192], query[4096] = "";
	if (r->query)
		query_of(data, size, query, sizeof(query));
	snprintf(head, sizeof(head),
		 "%s %s%s%s HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer " TOKEN
		 "\r\nConnection: close\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 r->method, r->path, query[0] ? "?" : "", query, r->query ? 0 : size);
	exchange(head, data, r->query ? 0 : size);
	return 0;
}
