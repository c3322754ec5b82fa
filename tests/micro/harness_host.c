/* Host test harness for code written by shrink compile: runs NAME_run on
 * N inputs from a raw float32 file and writes the outputs as raw float32.
 *
 *   cc -DNAME=lenet5 -include DIR/lenet5.h harness_host.c DIR/ *.c -lm
 *   ./a.out IN.bin N OUT.bin
 *
 * Exit 0 on success; 1 when NAME_run accepted a NULL or misaligned arena or
 * failed on a good one; 2 on bad usage or I/O. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_name.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN.bin N OUT.bin\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    float *x = malloc(sizeof(float) * IN_COUNT * (size_t)n), *y = malloc(sizeof(float) * OUT_COUNT * (size_t)n);
    /* the arena: 16-byte aligned, with room to test a misaligned one */
    unsigned char *raw = malloc(ARENA + 32);
    unsigned char *arena = (unsigned char *)(((uintptr_t)raw + 15) & ~(uintptr_t)15);
    FILE *f = fopen(argv[1], "rb");
    if (!x || !y || !raw || !f || fread(x, sizeof(float) * IN_COUNT, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %ld inputs from %s\n", n, argv[1]);
        return 2;
    }
    fclose(f);
    if (RUN(x, y, NULL) == 0 || RUN(x, y, arena + 4) == 0) {
        fprintf(stderr, "NAME_run accepted a NULL or misaligned arena\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        if (RUN(x + i * IN_COUNT, y + i * OUT_COUNT, arena) != 0) {
            fprintf(stderr, "NAME_run failed on input %ld\n", i);
            return 1;
        }
    f = fopen(argv[3], "wb");
    if (!f || fwrite(y, sizeof(float) * OUT_COUNT, (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", argv[3]);
        return 2;
    }
    free(x), free(y), free(raw);
    return 0;
}
