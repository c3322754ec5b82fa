/* Minimal Cortex-M4 startup for the test firmware: vector table, FPU on,
 * .data copied, .bss zeroed, semihosting set up, main's return value handed
 * to exit() (QEMU's exit code with -semihosting-config target=native). */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start__, __bss_end__;
extern int main(void);
extern void initialise_monitor_handles(void);

void mc_reset(void);
static void fault(void)
{
    exit(99); /* a fault ends the run with a verdict instead of hanging */
}

/* The initial stack pointer precedes this table (m4.ld writes it). */
typedef void (*mc_vector)(void);
__attribute__((section(".vectors"), used)) static const mc_vector vectors[15] = {
    mc_reset, fault, fault, fault, fault, fault,
};

/* No float instruction may run before CPACR grants CP10/CP11, or the core
 * faults (QEMU then hangs silently): this function touches none. */
__attribute__((noinline)) void mc_reset(void)
{
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
    initialise_monitor_handles();
    exit(main());
}
