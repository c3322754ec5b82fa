/* The target-size allocation (lc_alloc_solve) against a brute-force oracle
 * over every combination of small random tables, and lc_parse_size. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "lc_alloc.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* Least cost over every combination within the budget (INFINITY: none);
 * *bytes_out: the fewest bytes among the least-cost combinations. */
static double brute(const lc_alloc_table *t, int64_t budget, int64_t *bytes_out)
{
    int L = t->n_layers, idx[8] = {0};
    double best = INFINITY;
    *bytes_out = -1;
    for (;;) {
        double c = 0;
        int64_t b = 0;
        for (int l = 0; l < L; l++) {
            c += t->cost[t->first[l] + idx[l]];
            b += t->bytes[t->first[l] + idx[l]];
        }
        if (b <= budget && (c < best - 1e-12 || (fabs(c - best) <= 1e-12 && b < *bytes_out))) {
            best = c;
            *bytes_out = b;
        }
        int l = 0;
        while (l < L && ++idx[l] == t->first[l + 1] - t->first[l]) idx[l++] = 0;
        if (l == L) break;
    }
    return best;
}

START_TEST(solve_matches_brute_force)
{
    lc_rng rng;
    lc_rng_seed(&rng, 7, 1);
    for (int trial = 0; trial < 400; trial++) {
        int L = 1 + (int)(lc_rng_uniform(&rng) * 5), first[9], n = 0;
        double cost[64];
        int64_t bytes[64];
        for (int l = 0; l < L; l++) {
            first[l] = n;
            int k = 1 + (int)(lc_rng_uniform(&rng) * 5);
            for (int o = 0; o < k; o++, n++) {
                /* costs on a coarse grid so exact ties happen */
                cost[n] = floor(lc_rng_uniform(&rng) * 20) / 4;
                bytes[n] = (int64_t)(lc_rng_uniform(&rng) * 1000);
            }
        }
        first[L] = n;
        lc_alloc_table t = {L, first, cost, bytes};
        /* budgets below 4096 make the dynamic programme exact */
        int64_t budget = (int64_t)(lc_rng_uniform(&rng) * 3000);
        int choice[8];
        bool oom;
        int64_t want_bytes;
        double want = brute(&t, budget, &want_bytes);
        bool ok = lc_alloc_solve(&t, budget, choice, &oom);
        ck_assert(!oom);
        ck_assert_int_eq(ok, isfinite(want));
        for (int l = 0; l < L; l++) ck_assert(choice[l] >= first[l] && choice[l] < first[l + 1]);
        if (!ok) {
            int64_t least = 0; /* the reported choice is the fewest bytes */
            for (int l = 0; l < L; l++) {
                int64_t mn = INT64_MAX;
                for (int o = first[l]; o < first[l + 1]; o++) mn = bytes[o] < mn ? bytes[o] : mn;
                least += mn;
            }
            ck_assert_int_eq(lc_alloc_bytes(&t, choice), least);
            continue;
        }
        ck_assert_int_le(lc_alloc_bytes(&t, choice), budget);
        ck_assert_double_eq_tol(lc_alloc_cost(&t, choice), want, 1e-9);
        ck_assert_int_eq(lc_alloc_bytes(&t, choice), want_bytes);
    }
}
END_TEST

START_TEST(solve_large_budget_fits)
{
    /* budgets above 4096 units round bytes up: the result still fits and is
       at least as good as any single-option-per-layer choice that fits
       with 1% to spare */
    int first[4] = {0, 3, 6, 9};
    double cost[9] = {0, 1, 5, 0, 2, 3, 0, 0.5, 9};
    int64_t bytes[9] = {900000, 500000, 100000, 400000, 200000, 100000, 300000, 150000, 1000};
    lc_alloc_table t = {3, first, cost, bytes};
    int choice[3];
    bool oom;
    ck_assert(lc_alloc_solve(&t, 950000, choice, &oom));
    ck_assert_int_le(lc_alloc_bytes(&t, choice), 950000);
    /* 500000 + 200000 + 150000 = 850000 at cost 3.5 is the optimum */
    ck_assert_double_eq_tol(lc_alloc_cost(&t, choice), 3.5, 1e-12);
    ck_assert(!lc_alloc_solve(&t, 200000, choice, &oom));
    ck_assert_int_eq(lc_alloc_bytes(&t, choice), 201000);
}
END_TEST

START_TEST(parse_size)
{
    static const struct {
        const char *text;
        int64_t want; /* 0: an error */
    } cases[] = {{"20000", 20000}, {"48K", 49152}, {"48k", 49152}, {"48KB", 49152}, {"48KiB", 49152},
                 {"1.5M", 1572864}, {"2m", 2097152}, {"1G", 1073741824}, {"100B", 100}, {"1000.9", 1000},
                 {"0", 0}, {"-5K", 0}, {"", 0}, {"abc", 0}, {"12Q", 0}, {"1.5MX", 0}, {"0.5", 0}, {"nan", 0},
                 {"inf", 0}, {" 5K", 0}, {"+5", 0}, {"K", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t b = -1;
        lc_status s = lc_parse_size(cases[i].text, &b);
        if (cases[i].want) {
            ck_assert_msg(s == LC_OK, "'%s' should parse", cases[i].text);
            ck_assert_int_eq(b, cases[i].want);
        } else {
            ck_assert_msg(s == LC_ERR_INVALID_ARGUMENT, "'%s' should be refused", cases[i].text);
            ck_assert_int_eq(b, 0);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("target_alloc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, solve_matches_brute_force);
    tcase_add_test(tc, solve_large_budget_fits);
    tcase_add_test(tc, parse_size);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
