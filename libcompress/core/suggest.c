/* "did you mean": the closest of a list of names to a misspelt word, by
 * edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1), close enough to be a typo. */
#include <stdlib.h>
#include <string.h>

#include <libcompress.h>

static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64) return 1 << 20;
    int d[65][65];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *lc_closest_name(const char *word, const char *const *names, int n)
{
    if (!word || !names) return NULL;
    const char *best = NULL;
    int best_d = 1 << 20;
    for (int i = 0; i < n; i++) {
        if (!names[i]) continue;
        int dd = distance(word, names[i]);
        if (dd < best_d) best_d = dd, best = names[i];
    }
    /* a typo: at most a third of the word's letters off (and at least 1) */
    size_t len = strlen(word);
    int limit = len >= 6 ? (int)(len / 3) : len >= 3 ? 1 : 0;
    return best && best_d > 0 && best_d <= (limit < 1 ? 1 : limit) ? best : NULL;
}
