/*
 * The node's cache of artifacts (layout in fetch_internal.h): what is
 * ready, the read-only trees a launch mounts, the listing and the pruning
 * of `acre node artifacts`.  Each entry is keyed by its checksum alone, so
 * two slices, or two URIs, with the same SHA-256 share one download.
 */
#include "fetch_internal.h"
#include "slice.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

bool artifact_path(const struct fetcher *f, const char *sha256, const char *leaf, char *buf,
		   size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s%s%s", f->dir, sha256, leaf ? "/" : "",
				leaf ? leaf : "") < len;
}

static bool is_sum(const char *s)
{
	if (strlen(s) != ACRE_SHA256_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

void artifact_key(const struct acre_artifact *a, char key[FETCH_KEY_LEN + 1])
{
	if (!a->sum_from) {
		snprintf(key, FETCH_KEY_LEN + 1, "%s", a->sha256);
		return;
	}
	/* The same file by the same list: any of the three changed is another artifact. */
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "%s\n%s\n%s", a->uri, a->sum_from, a->sha512 ? "sha512" : "sha256") <
		    0 ||
	    EVP_Digest(what, strlen(what), raw, &n, EVP_sha256(), NULL) != 1) {
		snprintf(key, FETCH_KEY_LEN + 1, "from-unknown");
		return;
	}
	memcpy(key, "from-", 5);
	acre_hex_encode(raw, n, key + 5);
}

bool artifact_sum(const struct fetcher *f, const struct acre_artifact *a,
		  char sum[ACRE_SHA256_HEX_LEN + 1])
{
	if (!a->sum_from) {
		snprintf(sum, ACRE_SHA256_HEX_LEN + 1, "%s", a->sha256);
		return true;
	}
	char key[FETCH_KEY_LEN + 1], alias[PATH_MAX];
	artifact_key(a, key);
	if (!artifact_path(f, key, NULL, alias, sizeof(alias)))
		return false;
	ssize_t n = readlink(alias, sum, ACRE_SHA256_HEX_LEN + 1);
	if (n != ACRE_SHA256_HEX_LEN)
		return false;
	sum[n] = '\0';
	return is_sum(sum);
}

int artifact_alias_write(const struct fetcher *f, const struct acre_artifact *a, const char *sum)
{
	char key[FETCH_KEY_LEN + 1], alias[PATH_MAX], tmp[PATH_MAX];
	artifact_key(a, key);
	if (!artifact_path(f, key, NULL, alias, sizeof(alias)) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-alias-%s-%d", f->dir, key, (int)getpid()) >=
		    sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (symlink(sum, tmp) < 0 || rename(tmp, alias) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
}

bool artifact_view(const struct fetcher *f, const struct acre_artifact *a, char *buf, size_t len)
{
	char sum[ACRE_SHA256_HEX_LEN + 1];
	return artifact_sum(f, a, sum) &&
	       artifact_path(f, sum, a->extract ? "tree" : "plain", buf, len);
}

bool artifact_ready(const struct fetcher *f, const struct acre_artifact *a)
{
	char path[PATH_MAX], name[256], sum[ACRE_SHA256_HEX_LEN + 1];
	if (!artifact_sum(f, a, sum))
		return false;
	if (a->extract) {
		if (!artifact_path(f, sum, "tree", path, sizeof(path)))
			return false;
	} else {
		char plain[PATH_MAX];
		if (!artifact_path(f, sum, "plain", plain, sizeof(plain)) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", plain,
				     acre_artifact_file_name(a, name, sizeof(name))) >=
			    sizeof(path))
			return false;
	}
	return access(path, F_OK) == 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
	return rc < 0 && errno != ENOENT ? -errno : 0;
}

int artifact_remove_tree(const char *path)
{
	int rc = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return rc < 0 ? (errno == ENOENT ? 0 : -errno) : rc;
}

void artifact_handles_close(struct artifact_handles *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	h->n = 0;
}

/* The entry's last use: a launch mounted it now. */
static void mark_used(const struct fetcher *f, const char *sha256)
{
	char used[PATH_MAX];
	if (!artifact_path(f, sha256, "used", used, sizeof(used)))
		return;
	int fd = open(used, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
}

int artifacts_open(struct supervisor *sv, const struct acre_slice_spec *spec,
		   struct artifact_handles *h, struct acre_error *err)
{
	h->n = 0;
	for (size_t i = 0; i < spec->nartifacts; i++) {
		const struct acre_artifact *a = &spec->artifacts[i];
		char view[PATH_MAX];
		/* Pruned since it was fetched: `acre node artifacts --prune` spares what slices
		 * name. */
		if (!artifact_view(sv->fetcher, a, view, sizeof(view)) ||
		    !artifact_ready(sv->fetcher, a)) {
			artifact_handles_close(h);
			return acre_error_set(err, ENOENT, NULL,
					      "artifact %s: not in the node's cache any more",
					      a->uri);
		}
		int fd = acre_readonly_tree(view, err);
		if (fd < 0) {
			artifact_handles_close(h);
			return acre_error_prefix(err, "artifact %s", a->uri);
		}
		h->fds[h->n] = fd;
		h->paths[h->n++] = a->path;
		char sum[ACRE_SHA256_HEX_LEN + 1];
		if (artifact_sum(sv->fetcher, a, sum))
			mark_used(sv->fetcher, sum);
	}
	return 0;
}

struct users {
	const struct fetcher *f;
	const char *sha256;
	json_t *names; /* slices that name it */
};

static void find_users(const char *key, void *value, void *ud)
{
	struct users *u = ud;
	const struct slice *s = value;
	char sum[ACRE_SHA256_HEX_LEN + 1];
	for (size_t i = 0; i < s->rec.spec.nartifacts; i++)
		if (artifact_sum(u->f, &s->rec.spec.artifacts[i], sum) && !strcmp(sum, u->sha256)) {
			json_array_append_new(u->names, json_string(key));
			return;
		}
}

static json_t *users_of(struct supervisor *sv, const char *sha256)
{
	struct users u = {.f = sv->fetcher, .sha256 = sha256, .names = json_array()};
	if (u.names)
		acre_map_foreach(sv->slices, find_users, &u);
	return u.names;
}

static int64_t mtime_ms(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

struct listing {
	struct supervisor *sv;
	json_t *out;
};

static int list_one(int dfd, const char *name, unsigned char type, void *ud)
{
	(void)dfd;
	(void)type;
	struct listing *l = ud;
	const struct fetcher *f = l->sv->fetcher;
	if (!is_sum(name))
		return 0;
	char meta_path[PATH_MAX], used[PATH_MAX];
	if (!artifact_path(f, name, "meta.json", meta_path, sizeof(meta_path)) ||
	    !artifact_path(f, name, "used", used, sizeof(used)))
		return 0;
	_cleanup_json_ json_t *meta = json_load_file(meta_path, 0, NULL);
	json_t *e = json_pack(
		"{s:s,s:I,s:I,s:I,s:o}", "sha256", name, "size",
		(json_int_t)json_integer_value(json_object_get(meta, "size")), "fetched_at",
		(json_int_t)json_integer_value(json_object_get(meta, "fetched_at")), "last_used",
		(json_int_t)mtime_ms(used), "slices", users_of(l->sv, name));
	json_t *uri = json_object_get(meta, "uri");
	if (e && json_is_string(uri))
		json_object_set(e, "uri", uri);
	if (e)
		json_array_append_new(l->out, e);
	return 0;
}

json_t *artifacts_list(struct supervisor *sv)
{
	struct listing l = {.sv = sv, .out = json_array()};
	if (l.out && sv->fetcher)
		acre_dir_foreach(AT_FDCWD, sv->fetcher->dir, list_one, &l);
	return l.out;
}

struct pruning {
	struct supervisor *sv;
	json_t *removed;
	int rc;
};

static int prune_one(int dfd, const char *name, unsigned char type, void *ud)
{
	(void)dfd;
	(void)type;
	struct pruning *p = ud;
	const struct fetcher *f = p->sv->fetcher;
	if (!is_sum(name))
		return 0;
	_cleanup_json_ json_t *users = users_of(p->sv, name);
	if (!users || json_array_size(users) > 0)
		return 0;
	char entry[PATH_MAX], gone[PATH_MAX];
	if (!artifact_path(f, name, NULL, entry, sizeof(entry)) ||
	    (size_t)snprintf(gone, sizeof(gone), "%s/.tmp-rm-%s", f->dir, name) >= sizeof(gone))
		return 0;
	/* Out of sight at once (a fetch of it may start meanwhile), then removed. */
	if (rename(entry, gone) < 0 || artifact_remove_tree(gone) < 0) {
		p->rc = -errno;
		return 0;
	}
	acre_log(ACRE_LOG_INFO, "artifact=%s event=artifact_pruned", name);
	json_array_append_new(p->removed, json_string(name));
	return 0;
}

/* An alias whose entry is gone: the artifact is fetched, and verified, again. */
static int prune_alias(int dfd, const char *name, unsigned char type, void *ud)
{
	(void)type;
	(void)ud;
	char sum[ACRE_SHA256_HEX_LEN + 2];
	if (strncmp(name, "from-", 5))
		return 0;
	ssize_t n = readlinkat(dfd, name, sum, sizeof(sum) - 1);
	sum[n > 0 ? n : 0] = '\0';
	if (!is_sum(sum) || faccessat(dfd, sum, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		unlinkat(dfd, name, 0);
	return 0;
}

int artifacts_prune(struct supervisor *sv, json_t **removed, struct acre_error *err)
{
	struct pruning p = {.sv = sv, .removed = json_array()};
	if (!p.removed)
		return acre_error_set(err, ENOMEM, NULL, "out of memory");
	int rc = acre_dir_foreach(AT_FDCWD, sv->fetcher->dir, prune_one, &p);
	if (rc == 0)
		rc = acre_dir_foreach(AT_FDCWD, sv->fetcher->dir, prune_alias, NULL);
	if (rc < 0 || p.rc < 0) {
		json_decref(p.removed);
		rc = rc < 0 ? rc : p.rc;
		return acre_error_set(err, -rc, NULL, "pruning %s: %s", sv->fetcher->dir,
				      strerror(-rc));
	}
	*removed = p.removed;
	return 0;
}
