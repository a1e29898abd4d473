/*
 * Starting the task's command the way execvpe(3) would, but searching the
 * PATH of the environment the task gets.  glibc's execvpe searches the
 * caller's own PATH, and acre-init has none (glibc then tries /bin:/usr/bin
 * only), so a bare `nginx` or `sysctl` in /usr/sbin was never found.
 *
 * Runs in the vfork child: nothing here allocates, and the argv for a
 * script without "#!" is made by the parent beforehand.
 */
#include "isolation/launch_internal.h"

#include <limits.h>

/* What execvp(3) searches when the environment has no PATH at all. */
#define EXEC_DEFAULT_PATH "/bin:/usr/bin"

static const char *env_path(char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], "PATH=", 5))
			return envp[i] + 5;
	return EXEC_DEFAULT_PATH;
}

char **exec_script_argv(char *const argv[])
{
	size_t argc = 0;
	while (argv[argc])
		argc++;
	/* "/bin/sh", the script's path (set by exec_task), argv[1..], NULL */
	char **sh = calloc(argc + 2, sizeof(*sh));
	if (!sh)
		return NULL;
	sh[0] = (char *)"/bin/sh";
	for (size_t i = 1; i < argc; i++)
		sh[i + 1] = argv[i];
	return sh;
}

/*
 * execve, and a file the kernel does not recognise (no "#!", not ELF) is
 * taken for a shell script, as POSIX asks of execvp and glibc does.
 */
static int exec_one(const char *path, char *const argv[], char *const envp[], char **script_argv)
{
	execve(path, argv, envp);
	if (errno == ENOEXEC && script_argv) {
		int e = errno;
		script_argv[1] = (char *)path;
		execve(script_argv[0], script_argv, envp);
		errno = e; /* the script's error, not the shell's */
	}
	return -errno;
}

int exec_task(char *const argv[], char *const envp[], char **script_argv)
{
	const char *file = argv[0];
	if (!file || !*file)
		return -ENOENT;
	if (strchr(file, '/'))
		return exec_one(file, argv, envp, script_argv);
	size_t flen = strlen(file);
	if (flen > NAME_MAX)
		return -ENAMETOOLONG;
	char buf[PATH_MAX];
	bool eacces = false;
	const char *p = env_path(envp);
	for (;;) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		/* An empty entry is the working directory; a too long one cannot name the file. */
		if (dlen + 1 + flen < sizeof(buf)) {
			memcpy(buf, p, dlen);
			size_t o = dlen;
			if (dlen)
				buf[o++] = '/';
			memcpy(buf + o, file, flen + 1);
			int rc = exec_one(buf, argv, envp, script_argv);
			switch (-rc) {
			case EACCES:
				/* Not ours to run here, but maybe further on; if not, say why. */
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
				break; /* not found in this entry: the next one */
			default:
				return rc; /* found, and it cannot run: say why */
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return eacces ? -EACCES : -ENOENT;
}
