/* The generated API's names for the model given as -DNAME=... (the test
 * harnesses include NAME.h first with -include). */
#ifndef MC_HARNESS_NAME_H
#define MC_HARNESS_NAME_H
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define RUN CAT(NAME, _run)
#define ARENA CAT(NAME, _ARENA_BYTES)
#define IN_COUNT CAT(NAME, _INPUT_COUNT)
#define OUT_COUNT CAT(NAME, _OUTPUT_COUNT)
#endif
