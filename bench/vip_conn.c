/*
 * Short TCP connections as fast as one thread makes them, for bench/vip.sh: the cost of a
 * VIP is paid at connect(2) only, so a client that does nothing but connect and close shows
 * it best.  The client closes with SO_LINGER 0 (a reset, no TIME_WAIT) so a run never runs
 * out of ports; the server accepts and closes.
 *
 *   acre-bench-vip-conn server PORT
 *   acre-bench-vip-conn client ADDR PORT SECONDS     prints connections/s
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int server(int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0) {
		perror("server");
		return 1;
	}
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			close(c);
		else if (errno != ECONNABORTED && errno != EINTR)
			perror("accept");
	}
}

static int client(const char *addr, int port, double secs)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "client: bad address %s\n", addr);
		return 1;
	}
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	unsigned long n = 0, failed = 0;
	double t0 = now(), end = t0 + secs, t;
	while ((t = now()) < end) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			perror("socket");
			return 1;
		}
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			n++;
		else if (++failed > 100) {
			perror("connect");
			return 1;
		}
		close(s);
	}
	printf("%.0f\n", (double)n / (t - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: %s server PORT | client ADDR PORT SECONDS\n", argv[0]);
	return 2;
}
