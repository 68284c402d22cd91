// SPDX-License-Identifier: MIT
/*
 * iommufdctl against a fake control socket: what the daemon reports comes
 * partly from its clients (a process's name is its own to choose), so the
 * tool must print any of it safely: long link lists, control characters,
 * quotes in a DOT label.
 *
 * Environment: IOMMUFDCTL, the iommufdctl executable.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* An IOAS used by 100 objects, owned by a process with a hostile name. */
static char *objects_reply(void)
{
	char *used_by = NULL, *reply = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&used_by, &len);
	int i;

	assert_non_null(f);
	for (i = 2; i < 102; i++)
		fprintf(f, "%s%d", i > 2 ? "," : "", i);
	fclose(f);
	assert_true(asprintf(&reply,
			     "{\"version\":1,\"id\":1,\"ok\":true,\"result\":"
			     "[{\"client\":1,\"pid\":42,\"uid\":0,"
			     "\"command\":\"\\u001b]0;x\\u0007a\\\"b\","
			     "\"opened\":0,\"objects\":[{\"id\":1,"
			     "\"type\":\"ioas\",\"users\":101,\"uses\":{},"
			     "\"used_by\":[%s]}]}]}\n",
			     used_by) > 0);
	free(used_by);
	return reply;
}

/*
 * Run "iommufdctl --run-dir DIR @command" against a server that answers
 * its one request with @reply. Its exit status; its output in @out.
 */
static int run_ctl(const char *command, const char *reply, char *out,
		   size_t outlen)
{
	const char *ctl = getenv("IOMMUFDCTL");
	char dir[] = "/tmp/test_iommufdctl_XXXXXX", line[4096];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int srv, conn, pipefd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_non_null(ctl);
	assert_non_null(mkdtemp(dir));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/control", dir);
	srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(srv, 1), 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(pipefd[1], STDOUT_FILENO);
		execl(ctl, ctl, "--run-dir", dir, command, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
	assert_true(conn >= 0);
	assert_true(read(conn, line, sizeof(line)) > 0);
	assert_int_equal(write(conn, reply, strlen(reply)),
			 (ssize_t)strlen(reply));
	while (got < outlen - 1 &&
	       (n = read(pipefd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(pipefd[0]);
	close(conn);
	close(srv);
	unlink(addr.sun_path);
	rmdir(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_objects_long_links(void **state)
{
	static char out[65536];
	char *reply = objects_reply();

	(void)state;
	assert_int_equal(run_ctl("objects", reply, out, sizeof(out)), 0);
	free(reply);
	assert_non_null(strstr(out, "ioas"));
	/* The list is cut where the column ends, and says so. */
	assert_non_null(strstr(out, "..."));
	/* No escape sequence reaches the terminal. */
	assert_null(strchr(out, '\033'));
	assert_null(strchr(out, '\a'));
}

static void test_graph_label_quotes(void **state)
{
	static char out[65536];
	char *reply = objects_reply();

	(void)state;
	assert_int_equal(run_ctl("graph", reply, out, sizeof(out)), 0);
	free(reply);
	assert_non_null(strstr(out, "digraph"));
	/* A quote in the name would end the label and start DOT syntax. */
	assert_null(strstr(out, "a\"b"));
	assert_null(strchr(out, '\033'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects_long_links),
		cmocka_unit_test(test_graph_label_quotes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
