/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Runs a libFuzzer target (LLVMFuzzerTestOneInput) over files without
 * libFuzzer: every regular file in the directories (and every file) named
 * on the command line is passed once.  Built with the ordinary compiler
 * (and sanitizers, when configured) so "make check" replays the corpus.
 * Exits non-zero when an argument does not exist or cannot be read. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, r;

    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    do {
        if (n == cap) {
            uint8_t *nb;
            cap = cap ? cap * 2 : 4096;
            if (!(nb = realloc(buf, cap))) {
                fclose(f);
                free(buf);
                fprintf(stderr, "replay: %s: out of memory\n", path);
                return -1;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    /* a copy of exactly n bytes, so ASan sees reads past the end */
    {
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) {
            free(buf);
            return -1;
        }
        if (n) {
            memcpy(exact, buf, n);
        }
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t nnames = 0, cap = 0, i;
    long count = 0;

    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (nnames == cap) {
            char **nn;
            cap = cap ? cap * 2 : 64;
            if (!(nn = realloc(names, cap * sizeof(*names)))) {
                count = -1;
                goto leave;
            }
            names = nn;
        }
        if (!(names[nnames] = malloc(strlen(dir) + strlen(de->d_name) + 2))) {
            count = -1;
            goto leave;
        }
        sprintf(names[nnames++], "%s/%s", dir, de->d_name);
    }
    /* a stable order, so a failure is easy to reproduce */
    if (nnames) {
        qsort(names, nnames, sizeof(*names), cmp_names);
    }
    for (i = 0; i < nnames; ++i) {
        struct stat st;
        if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (run_file(names[i]) != 0) {
            count = -1;
            goto leave;
        }
        ++count;
    }
leave:
    for (i = 0; i < nnames; ++i) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return count;
}

/* a target may set itself up once, as libFuzzer lets it */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
    long total = 0, n;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    for (i = 1; i < argc; ++i) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            n = run_dir(argv[i]);
        }
        else {
            n = run_file(argv[i]) == 0 ? 1 : -1;
        }
        if (n < 0) {
            return 1;
        }
        total += n;
    }
    printf("%s: ran %ld inputs\n", argv[0], total);
    return 0;
}
