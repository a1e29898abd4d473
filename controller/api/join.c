/*
 * GET /v1/join: what a new host needs to join the pool, as `kubeadm token
 * create --print-join-command` prints it: the node port's address, the
 * join token, and the hash of the pool's CA (the host fetches the CA over
 * the node port and trusts it only if the hash matches).  Behind the API
 * token like every route that is not /healthz: the join token is a secret.
 * ?address=HOST:PORT names the node port as new hosts reach it (default:
 * --node-listen's, this host's name for a wildcard address).
 */
#include "internal.h"

/*
 * The address hosts dial: --node-listen's, with this host's name for an
 * address that means "every interface" (what the controller's certificate
 * names, see debian/acre-controller-setup).
 */
static void dial_address(const char *listen, char *out, size_t len)
{
	const char *colon = strrchr(listen, ':');
	const char *port = colon ? colon + 1 : "7470";
	size_t hlen = colon ? (size_t)(colon - listen) : strlen(listen);
	char host[256];
	snprintf(host, sizeof(host), "%.*s", (int)hlen, listen);
	if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "[::]") || !strcmp(host, "::")) {
		if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
	}
	snprintf(out, len, "%s:%s", host, port);
}

/* ?address=HOST:PORT, as the new host reaches the node port: no spaces, no shell characters. */
static bool address_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t n = strlen(s);
	if (!colon || colon == s || n > 255 || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]") ==
	       n;
}

/* A word the shell reads back as it is: safe characters bare, anything else single-quoted. */
static void shell_word(const char *s, char *out, size_t len)
{
	if (*s &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+=/") ==
		    strlen(s)) {
		snprintf(out, len, "%s", s);
		return;
	}
	size_t n = 0;
	out[n++] = '\'';
	for (; *s && n + 5 < len; s++) {
		if (*s == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *s;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
}

API_HANDLER(api_join_show)
{
	(void)p;
	const struct api_join *j = &a->opt.join;
	struct acre_error err = {0};
	if (!j->ca_hash || !j->token) {
		acre_error_set(&err, EOPNOTSUPP, NULL,
			       "this controller signs no node certificates: start it with --tls-ca "
			       "and --tls-ca-key (the pool's CA and its key) for nodes to join");
		api_reply_error(a, req, 409, &err);
		return;
	}
	char addr[300];
	const char *given = api_query(q, "address");
	if (given && !address_valid(given)) {
		acre_error_set(&err, EINVAL, "address",
			       "address: HOST:PORT, the node port as the new host reaches it");
		api_reply_error(a, req, 400, &err);
		return;
	}
	if (given)
		snprintf(addr, sizeof(addr), "%s", given);
	else
		dial_address(j->node_listen, addr, sizeof(addr));
	char command[2048], token[1024];
	shell_word(j->token, token, sizeof(token));
	snprintf(command, sizeof(command),
		 "acre-supervisor join --controller %s --token %s --ca-hash %s", addr, token,
		 j->ca_hash);
	api_reply_json(a, req, 200,
		       json_pack("{s:s,s:s,s:s,s:s}", "controller", addr, "token", j->token,
				 "ca_hash", j->ca_hash, "command", command));
}
