/* Pass parameters: defaults, parsing from text, validation against the
 * pass's table. Errors name the pass, the parameter and what is valid. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_pass.h"

static void value_clear(lc_param_value *v)
{
    free(v->str);
    for (int i = 0; i < v->n_list; i++) free(v->list[i]);
    free(v->list);
    v->str = NULL;
    v->list = NULL;
    v->n_list = 0;
}

static lc_status parse_into(const char *pass, lc_param_value *v, const char *text)
{
    const lc_param_desc *d = v->desc;
    char *end;
    switch (d->type) {
    case LC_PARAM_FLOAT:
    case LC_PARAM_INT: {
        errno = 0;
        double x = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(x))
            return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' must be a number, not '%s'", pass, d->name, text);
        if (d->type == LC_PARAM_INT && x != floor(x))
            return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' must be an integer, not '%s'", pass, d->name, text);
        /* fractions are 0..1 everywhere: 80 meant as 80% gets the hint */
        if (d->type == LC_PARAM_FLOAT && d->min >= 0 && d->max == 1 && x > 1 && x <= 100)
            return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' is %s, outside its range [0, 1]: it is a fraction, "
                           "so %s%% is %g", pass, d->name, text, text, x / 100);
        if (x < d->min || x > d->max)
            return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' is %s, outside its range [%g, %g]", pass, d->name, text,
                           d->min, d->max);
        v->num = x;
        return LC_OK;
    }
    case LC_PARAM_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes") || !strcmp(text, "on")) v->num = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no") || !strcmp(text, "off")) v->num = 0;
        else return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' must be true or false, not '%s'", pass, d->name, text);
        return LC_OK;
    case LC_PARAM_ENUM: {
        size_t n = strlen(text);
        for (const char *c = d->choices; c && *c;) {
            size_t k = strcspn(c, "|");
            if (k == n && strncmp(c, text, n) == 0) goto ok_str;
            c += k;
            if (*c) c++;
        }
        return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' must be one of %s, not '%s'", pass, d->name, d->choices, text);
    }
    case LC_PARAM_NM: {
        if (!*text) {
            v->nm_n = v->nm_m = 0;
            goto ok_str;
        }
        int a, b, used = 0;
        if (sscanf(text, "%d:%d%n", &a, &b, &used) != 2 || text[used] || a < 1 || b < 2 || a >= b || b > 64)
            return lc_fail(LC_ERR_PARAMETER, "%s: parameter '%s' must be N:M with 1 <= N < M <= 64 (e.g. 2:4), not '%s'",
                           pass, d->name, text);
        v->nm_n = a;
        v->nm_m = b;
        goto ok_str;
    }
    case LC_PARAM_STRING: goto ok_str;
    case LC_PARAM_LIST: {
        char **l = realloc(v->list, (size_t)(v->n_list + 1) * sizeof *l);
        if (!l) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        v->list = l;
        if (!(l[v->n_list] = lc_strdup(text))) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
        v->n_list++;
        return LC_OK;
    }
    }
    return lc_fail(LC_ERR_INTERNAL, "%s: parameter '%s' has an unknown type", pass, d->name);
ok_str:
    free(v->str);
    v->str = lc_strdup(text);
    return v->str ? LC_OK : lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

lc_status lc_params_init(lc_params *p, const char *pass, const lc_param_desc *desc, int n_desc)
{
    memset(p, 0, sizeof *p);
    p->pass = pass;
    p->v = calloc((size_t)(n_desc ? n_desc : 1), sizeof *p->v);
    if (!p->v) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    p->n = n_desc;
    for (int i = 0; i < n_desc; i++) {
        p->v[i].desc = &desc[i];
        if (desc[i].type == LC_PARAM_LIST) continue;
        lc_status s = parse_into(pass, &p->v[i], desc[i].def ? desc[i].def : "");
        if (s) {
            lc_params_clear(p);
            return lc_fail_prefix(LC_ERR_INTERNAL, "bad default");
        }
    }
    return LC_OK;
}

static lc_param_value *find(const lc_params *p, const char *key)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->v[i].desc->name, key) == 0) return &p->v[i];
    return NULL;
}

lc_status lc_params_set(lc_params *p, const char *key, const char *value)
{
    lc_param_value *v = find(p, key);
    if (!v) {
        char names[512];
        size_t used = 0;
        names[0] = 0;
        for (int i = 0; i < p->n && used < sizeof names - 64; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", p->v[i].desc->name);
        const char *all[64];
        int n = 0;
        for (int i = 0; i < p->n && n < 64; i++) all[n++] = p->v[i].desc->name;
        const char *close = lc_closest_name(key, all, n);
        if (close)
            return lc_fail(LC_ERR_PARAMETER, "%s: unknown parameter '%s': did you mean '%s'? (valid: %s)", p->pass, key,
                           close, names);
        return lc_fail(LC_ERR_PARAMETER, "%s: unknown parameter '%s' (valid: %s)", p->pass, key,
                       p->n ? names : "none");
    }
    if (v->desc->type == LC_PARAM_LIST && !v->given) value_clear(v);
    lc_status s = parse_into(p->pass, v, value);
    if (!s) v->given = true;
    return s;
}

lc_status lc_params_override(lc_params *p, const char *key, const char *value)
{
    return find(p, key) ? lc_params_set(p, key, value) : LC_OK;
}

lc_status lc_params_parse(lc_params *p, const char *text)
{
    if (!text || !*text) return LC_OK;
    char *copy = lc_strdup(text);
    if (!copy) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    lc_status s = LC_OK;
    for (char *item = copy; item && !s;) {
        char *next = strchr(item, ',');
        if (next) *next++ = 0;
        char *eq = strchr(item, '=');
        if (!eq) s = lc_fail(LC_ERR_PARAMETER, "%s: '%s' is not key=value", p->pass, item);
        else {
            *eq = 0;
            s = lc_params_set(p, item, eq + 1);
        }
        item = next;
    }
    free(copy);
    return s;
}

void lc_params_clear(lc_params *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) value_clear(&p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

lc_status lc_params_copy(lc_params *dst, const lc_params *src)
{
    memset(dst, 0, sizeof *dst);
    dst->pass = src->pass;
    dst->n = src->n;
    dst->v = calloc((size_t)(src->n ? src->n : 1), sizeof *dst->v);
    if (!dst->v) return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < src->n; i++) {
        dst->v[i] = src->v[i];
        dst->v[i].str = NULL;
        dst->v[i].list = NULL;
        dst->v[i].n_list = 0;
        if (src->v[i].str && !(dst->v[i].str = lc_strdup(src->v[i].str))) goto oom;
        for (int k = 0; k < src->v[i].n_list; k++) {
            char **l = realloc(dst->v[i].list, (size_t)(k + 1) * sizeof *l);
            if (!l) goto oom;
            dst->v[i].list = l;
            if (!(l[k] = lc_strdup(src->v[i].list[k]))) goto oom;
            dst->v[i].n_list = k + 1;
        }
    }
    return LC_OK;
oom:
    lc_params_clear(dst);
    return lc_fail(LC_ERR_NO_MEMORY, "out of memory");
}

const lc_param_value *lc_params_get(const lc_params *p, const char *name)
{
    return p ? find(p, name) : NULL;
}

double lc_params_num(const lc_params *p, const char *name)
{
    const lc_param_value *v = lc_params_get(p, name);
    return v ? v->num : 0;
}

const char *lc_params_str(const lc_params *p, const char *name)
{
    const lc_param_value *v = lc_params_get(p, name);
    return v && v->str ? v->str : "";
}

/* Whether v holds its descriptor's default (as text for text kinds, as a
 * number for numeric ones, so "1e6" and 1000000 agree). */
static bool is_default(const lc_param_value *v)
{
    const lc_param_desc *d = v->desc;
    switch (d->type) {
    case LC_PARAM_FLOAT:
    case LC_PARAM_INT: return v->num == strtod(d->def, NULL);
    case LC_PARAM_BOOL: return (v->num != 0) == (!strcmp(d->def, "true") || !strcmp(d->def, "1"));
    case LC_PARAM_LIST: return v->n_list == 0 && !*d->def;
    default: return !strcmp(v->str ? v->str : "", d->def);
    }
}

static char *to_string(const lc_params *p, bool changed_only);

char *lc_params_to_string(const lc_params *p) { return to_string(p, false); }

char *lc_params_changed_to_string(const lc_params *p) { return to_string(p, true); }

static char *to_string(const lc_params *p, bool changed_only)
{
    size_t cap = 256, used = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = 0;
    for (int i = 0; i < p->n; i++) {
        const lc_param_value *v = &p->v[i];
        if (changed_only && is_default(v)) continue;
        char val[128];
        switch (v->desc->type) {
        case LC_PARAM_FLOAT: snprintf(val, sizeof val, "%g", v->num); break;
        case LC_PARAM_INT: snprintf(val, sizeof val, "%lld", (long long)v->num); break;
        case LC_PARAM_BOOL: snprintf(val, sizeof val, "%s", v->num ? "true" : "false"); break;
        case LC_PARAM_LIST:
            if (!v->n_list) continue;
            val[0] = 0;
            for (int k = 0; k < v->n_list; k++) {
                size_t l = strlen(val);
                snprintf(val + l, sizeof val - l, "%s%s", k ? "+" : "", v->list[k]);
            }
            break;
        default:
            if (!v->str || !*v->str) continue;
            snprintf(val, sizeof val, "%s", v->str);
        }
        size_t need = used + strlen(v->desc->name) + strlen(val) + 3;
        if (need > cap) {
            char *n = realloc(out, need * 2);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
            cap = need * 2;
        }
        used += (size_t)snprintf(out + used, cap - used, "%s%s=%s", used ? "," : "", v->desc->name, val);
    }
    return out;
}
