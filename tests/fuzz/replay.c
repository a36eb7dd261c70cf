/* replay.c — run a libFuzzer-style harness over corpus files, without libFuzzer.
 *
 * Usage: fuzz_NAME_replay FILE_OR_DIR...   Each regular file (directories are
 * walked one level) is fed once to LLVMFuzzerTestOneInput. Inputs larger
 * than 1 MiB are refused. Exit 0 after all inputs ran; a crash or sanitizer
 * report fails the test. Prints "N inputs replayed".
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		perror(path);
		return 1;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		return 1;
	}
	n = fread(buf, 1, 1 << 20, f);
	if (!feof(f)) {
		fprintf(stderr, "%s: larger than 1 MiB, refused\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	/* Exact-size copy so ASan catches reads past the end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return 1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i], &count);
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, alphasort);
		if (n < 0) {
			perror(argv[i]);
			return 1;
		}
		for (int j = 0; j < n; j++) {
			char path[4096];
			if (names[j]->d_name[0] != '.') {
				snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
				bad |= run_file(path, &count);
			}
			free(names[j]);
		}
		free(names);
	}
	printf("%u inputs replayed\n", count);
	return bad;
}
