// SPDX-License-Identifier: MIT
/*
 * sec_suid_secret: the setuid-root program of test 2 (sec_exec_dma.c),
 * standing for any privileged program a user may exec (passwd, su, ...).
 * It holds a secret that only root can read at a fixed address and later
 * says whether that memory was changed behind its back.
 *
 * usage: sec_suid_secret ADDRESS SECRET_FILE
 *
 * Protocol on its standard streams: it writes 'R' once the page at
 * ADDRESS holds the secret (repeated over the page), waits for one byte on
 * stdin, then writes 'I' if the page is intact or 'M' if it was modified.
 * It writes 'N' if it is not running as root (a nosuid mount) and 'E' on
 * any other setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static void say(char c)
{
	if (write(1, &c, 1) != 1)
		_exit(2);
}

int main(int argc, char **argv)
{
	static char secret[64], expect[PAGE];
	char *page, go;
	ssize_t n;
	size_t i;
	int fd;

	if (argc != 3) {
		say('E');
		return 2;
	}
	if (geteuid() != 0) {
		say('N');
		return 1;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, secret, sizeof(secret));
	if (n <= 0) {
		say('E');
		return 1;
	}
	close(fd);
	for (i = 0; i < PAGE; i++)
		expect[i] = secret[i % (size_t)n];
	page = mmap((void *)(uintptr_t)strtoull(argv[1], NULL, 0), PAGE,
		    PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page == MAP_FAILED) {
		say('E');
		return 1;
	}
	memcpy(page, expect, PAGE);
	say('R');
	if (read(0, &go, 1) != 1) {
		say('E');
		return 1;
	}
	say(memcmp(page, expect, PAGE) ? 'M' : 'I');
	return 0;
}
