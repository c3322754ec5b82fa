/* Cortex-M4 test firmware: runs NAME_run on the images compiled in
 * (images.h: MC_N, mc_images[MC_N][NAME_INPUT_COUNT] as float bit patterns,
 * mc_expected[MC_N] the host build's predictions), prints a line over
 * semihosting and returns the number of predictions that differ (0 = pass).
 * Also measures the peak stack of NAME_run by painting the stack. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "images.h"

#include "harness_name.h"

extern uint32_t __stack_limit;
static uint8_t arena[ARENA] __attribute__((aligned(16)));
static float input[IN_COUNT], output[OUT_COUNT];

#define PAINT 0x5AA5C33Cu

/* Paints the free stack below this function's frame. */
__attribute__((noinline)) static void paint(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uint32_t *p = &__stack_limit, *top = (uint32_t *)(sp - 64u);
    while (p < top) *p++ = PAINT;
}

/* Bytes of stack used below `mark` (a local of main) since paint(). */
__attribute__((noinline)) static uint32_t stack_used(const volatile uint32_t *mark)
{
    const uint32_t *p = &__stack_limit;
    while ((const volatile uint32_t *)p < mark && *p == PAINT) p++;
    return (uint32_t)((mark - (const volatile uint32_t *)p) * 4);
}

int main(void)
{
    int wrong = 0;
    uint32_t peak = 0;
    volatile uint32_t mark = 0;
    if (RUN(input, output, NULL) == 0 || RUN(input, output, arena + 4) == 0) {
        printf("micro-m4: NAME_run accepted a NULL or misaligned arena\n");
        return 100;
    }
    for (int i = 0; i < MC_N; i++) {
        memcpy(input, mc_images[i], sizeof input);
        paint();
        int rc = RUN(input, output, arena);
        uint32_t used = stack_used(&mark);
        if (used > peak) peak = used;
        int best = 0;
        for (int k = 1; k < (int)OUT_COUNT; k++)
            if (output[k] > output[best]) best = k;
        if (rc != 0 || best != mc_expected[i]) wrong++;
    }
    printf("micro-m4: %d of %d predictions differ from the host build; arena %u bytes, peak stack %lu bytes\n", wrong,
           MC_N, (unsigned)ARENA, (unsigned long)peak);
    return wrong > 99 ? 99 : wrong;
}
