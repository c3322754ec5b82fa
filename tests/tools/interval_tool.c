/* interval_tool: reads lines "conf both float_only compressed_only neither"
 * or "min conf max_drop accuracy" on stdin and prints the drop interval
 * ("lo hi") or the fewest samples ("n"), one line each (for
 * tests/drop_interval_test.py, which checks them against numpy/scipy). */
#include <stdio.h>
#include <string.h>

#include "lc_drop_interval.h"

int main(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        double conf, max_drop, acc;
        long long a, b, c, d;
        if (sscanf(line, "min %lf %lf %lf", &conf, &max_drop, &acc) == 3) {
            printf("%lld\n", (long long)lc_drop_interval_min_samples(conf, max_drop, acc));
        } else if (sscanf(line, "%lf %lld %lld %lld %lld", &conf, &a, &b, &c, &d) == 5) {
            lc_pair_counts pc = {a, b, c, d};
            double lo, hi;
            lc_drop_interval(&pc, conf, &lo, &hi);
            printf("%.12g %.12g\n", lo, hi);
        } else {
            fprintf(stderr, "interval_tool: bad line: %s", line);
            return 2;
        }
    }
    return 0;
}
