/* The early stop of a validation (pipeline/early_stop.c and
 * lc_model_predict_until): the rule stops only when the full evaluation's
 * verdict is certainly "over the budget", at the first batch where that is
 * certain, and a stopped prediction run agrees with the full one on every
 * sample it ran. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_early_stop.h"
#include "lc_pass.h"
#include "lc_testutil.h"

/* The pipeline's test on the full evaluation (lc_pipeline_within_budget
 * without a confidence), written out independently. */
static bool over_budget(int64_t hits, int64_t n, double float_metric, double allow)
{
    return float_metric - 100.0 * (double)hits / (double)n > allow + 1e-9;
}

START_TEST(rule_never_contradicts_full_evaluation)
{
    rnd_seed(12345);
    int stopped = 0, over = 0;
    for (int trial = 0; trial < 20000; trial++) {
        int64_t n = rnd_int(1, 400), batch = rnd_int(1, 70);
        int64_t float_hits = rnd_int(0, n);
        double float_metric = 100.0 * (double)float_hits / (double)n;
        /* budgets on the sample grid (ties) and off it */
        double allow = rnd_int(0, 2) ? 100.0 * (double)rnd_int(0, n / 4 + 1) / (double)n : rnd_range(0, 5);
        double p = rnd_range(0, 1);
        bool *hit = malloc((size_t)n * sizeof *hit);
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) total += hit[i] = rnd_range(0, 1) < p;
        bool full_over = over_budget(total, n, float_metric, allow);
        over += full_over;
        int64_t h = 0, stop_at = -1;
        for (int64_t done = 0; done < n;) {
            int64_t end = done + batch < n ? done + batch : n;
            for (; done < end; done++) h += hit[done];
            bool missed = lc_early_stop_missed(h, done, n, float_metric, allow);
            /* brute force: is there a completion of the remaining samples
               that would be within the budget? */
            bool some_within = false;
            for (int64_t extra = 0; extra <= n - done && !some_within; extra++)
                some_within = !over_budget(h + extra, n, float_metric, allow);
            ck_assert_msg(missed == !some_within, "n %lld done %lld hits %lld: rule %d, brute force %d", (long long)n,
                          (long long)done, (long long)h, missed, !some_within);
            if (missed && stop_at < 0) stop_at = done;
        }
        /* it stops only on candidates the full evaluation rejects, and it
           always stops on those by the last batch */
        if (stop_at >= 0) ck_assert(full_over);
        ck_assert(full_over == (stop_at >= 0));
        stopped += stop_at >= 0 && stop_at < n;
        free(hit);
    }
    ck_assert_int_gt(stopped, 1000); /* the constructed cases do exercise early stops */
    ck_assert_int_gt(over, stopped);
}
END_TEST

START_TEST(rule_stops_at_the_first_certain_sample)
{
    /* 100 samples, float 90%, budget 1 point: at least 89 hits needed, so
       11 misses leave it possible and the 12th makes it certain */
    ck_assert(!lc_early_stop_missed(0, 11, 100, 90.0, 1.0));
    ck_assert(lc_early_stop_missed(0, 12, 100, 90.0, 1.0));
    /* exactly on the budget is within (the pipeline's 1e-9 slack) */
    ck_assert(!lc_early_stop_missed(89, 100, 100, 90.0, 1.0));
    ck_assert(lc_early_stop_missed(88, 100, 100, 90.0, 1.0));
    /* no budget: never */
    ck_assert(!lc_early_stop_missed(0, 100, 100, 90.0, -1));
}
END_TEST

typedef struct stopper {
    int64_t after;
    int calls;
} stopper;

static bool stop_after(void *user, const int64_t *pred, int64_t done)
{
    (void)pred;
    stopper *s = user;
    s->calls++;
    return done >= s->after;
}

START_TEST(predict_until_matches_full_prediction)
{
    const char *src = getenv("LC_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char path[4096];
    snprintf(path, sizeof path, "%s/benchmarks/zoo/lenet5.onnx", src);
    lc_model *m = NULL;
    ck_assert_int_eq(lc_model_load(path, &m), LC_OK);
    rnd_seed(7);
    const int64_t dims[4] = {100, 1, 28, 28};
    float *data = rnd_array(100 * 28 * 28);
    lc_dataset *d = NULL;
    ck_assert_int_eq(lc_dataset_create("random", 4, dims, data, &d), LC_OK);
    int64_t *full = NULL, *part = NULL, n = 0, n2 = 0, done = 0;
    ck_assert_int_eq(lc_model_predict(m, d, 0, 16, 1, NULL, &full, &n), LC_OK);
    ck_assert_int_eq(n, 100);
    stopper st = {40, 0};
    ck_assert_int_eq(lc_model_predict_until(m, d, 0, 16, 1, NULL, stop_after, &st, &part, &n2, &done), LC_OK);
    ck_assert_int_eq(n2, 100);
    ck_assert_int_eq(done, 48); /* stops at the end of the batch that reached 40 */
    ck_assert_int_eq(st.calls, 3);
    for (int64_t i = 0; i < done; i++) ck_assert_int_eq(part[i], full[i]);
    free(part);
    /* a rule that never stops: every sample, as lc_model_predict */
    st = (stopper){1000, 0};
    ck_assert_int_eq(lc_model_predict_until(m, d, 0, 16, 1, NULL, stop_after, &st, &part, &n2, &done), LC_OK);
    ck_assert_int_eq(done, 100);
    ck_assert_int_eq(memcmp(part, full, 100 * sizeof *full), 0);
    free(part);
    free(full);
    lc_dataset_free(d);
    lc_model_free(m);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("early_stop");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, rule_never_contradicts_full_evaluation);
    tcase_add_test(tc, rule_stops_at_the_first_certain_sample);
    tcase_add_test(tc, predict_until_matches_full_prediction);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
