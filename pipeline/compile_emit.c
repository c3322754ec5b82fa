/* shrink compile: arena planning, NAME.c / NAME.h / NAME.json, the micro/
 * sources, and the folder written atomically (lc_model_compile). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile_internal.h"

/* The micro/ sources, embedded at build time (micro_sources.c, generated). */
typedef struct lc_micro_file {
    const char *name;
    const unsigned char *data;
    size_t len;
} lc_micro_file;
extern const lc_micro_file lc_micro_files[];
extern const int lc_micro_file_count;

#define CC_ALIGN 16u

typedef struct buffer {
    size_t size, offset;
    int first, last;
    int value;   /* or -1: scratch of step `step` */
    int step;
} buffer;

static int by_size(const void *a, const void *b)
{
    const buffer *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->first - y->first;
}

static size_t elem_size(const cc_value *v)
{
    return v->kind == CV_I8 ? 1u : 4u;
}

/* Greedy by size, like TFLite Micro's planner: largest buffer first, each
 * at the lowest offset clear of every placed buffer alive at the same time. */
static lc_status place(buffer *b, int n, size_t *total)
{
    qsort(b, (size_t)n, sizeof *b, by_size);
    *total = 0;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (int j = 0; j < i; j++) {
                if (b[j].last < b[i].first || b[i].last < b[j].first) continue;
                if (off < b[j].offset + b[j].size && b[j].offset < off + b[i].size) {
                    off = (b[j].offset + b[j].size + CC_ALIGN - 1) / CC_ALIGN * CC_ALIGN;
                    moved = true;
                }
            }
        }
        b[i].offset = off;
        if (off + b[i].size > *total) *total = off + b[i].size;
    }
    return LC_OK;
}

static void lifetimes(cc_ctx *c)
{
    for (int k = 0; k < c->n_vals; k++) c->vals[k].first = c->vals[k].last = -1;
    for (int s = 0; s < c->n_steps; s++) {
        const cc_step *st = &c->steps[s];
        if (st->write >= 0) {
            cc_value *b = &c->vals[c->vals[st->write].base];
            if (b->first < 0) b->first = s;
            if (b->last < s) b->last = s;
        }
        for (int r = 0; r < st->n_reads; r++) {
            cc_value *b = &c->vals[c->vals[st->reads[r]].base];
            if (b->last < s) b->last = s;
        }
    }
}

/* A step whose kernel may run in place writes over its input when that
 * input's buffer dies there and is at least as large: the output takes the
 * input's buffer (and the step the in-place scratch and call). */
static void run_in_place(cc_ctx *c)
{
    for (int s = 0; s < c->n_steps; s++) {
        cc_step *st = &c->steps[s];
        if (!st->may_run_in_place || st->write < 0 || st->n_reads < 1) continue;
        int xb = c->vals[st->reads[0]].base, yb = c->vals[st->write].base;
        cc_value *x = &c->vals[xb], *y = &c->vals[yb];
        if (xb == yb || x->where != CW_ARENA || y->where != CW_ARENA || x->last != s || y->first != s ||
            y->numel * elem_size(y) > x->numel * elem_size(x))
            continue;
        for (int k = 0; k < c->n_vals; k++)
            if (c->vals[k].base == yb) c->vals[k].base = xb;
        st->scratch = st->in_place_scratch;
        if (st->in_place_call) { /* a kernel of its own, linked only where used */
            free(st->call);
            st->call = st->in_place_call;
            st->in_place_call = NULL;
        }
        lifetimes(c);
    }
}

lc_status cc_plan(cc_ctx *c)
{
    lifetimes(c);
    run_in_place(c);
    buffer *bufs = calloc((size_t)(c->n_vals + c->n_steps + 1), sizeof *bufs);
    if (!bufs) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    int n = 0;
    for (int k = 0; k < c->n_vals; k++) {
        cc_value *v = &c->vals[k];
        if (v->base != k || v->where != CW_ARENA || v->first < 0) continue;
        bufs[n++] = (buffer){(size_t)v->numel * elem_size(v), 0, v->first, v->last, k, -1};
    }
    for (int s = 0; s < c->n_steps; s++)
        if (c->steps[s].scratch) bufs[n++] = (buffer){c->steps[s].scratch, 0, s, s, -1, s};
    lc_status st = place(bufs, n, &c->arena_bytes);
    for (int i = 0; i < n; i++) {
        if (bufs[i].value >= 0) c->vals[bufs[i].value].offset = bufs[i].offset;
        else c->steps[bufs[i].step].scratch_offset = bufs[i].offset;
    }
    c->arena_bytes = (c->arena_bytes + CC_ALIGN - 1) / CC_ALIGN * CC_ALIGN;
    if (c->arena_bytes == 0) c->arena_bytes = CC_ALIGN;
    free(bufs);
    return st;
}

/* Makes the first graph output land in `output` (float). */
static lc_status route_output(cc_ctx *c)
{
    const char *name = c->g->outputs[0].name;
    int o = cc_value_find(c, name);
    if (o < 0) return lc_fail(LC_ERR_UNSUPPORTED, "lc_model_compile: output '%s' is a constant of the model", name);
    int writer = -1;
    for (int s = 0; s < c->n_steps; s++)
        if (c->steps[s].write == o) writer = s;
    cc_value *v = &c->vals[o];
    if (v->kind == CV_F32 && v->base == o && v->where == CW_ARENA && writer >= 0) {
        v->where = CW_OUTPUT;
        return LC_OK;
    }
    int y = cc_value_new(c, NULL, CV_F32, c->vals[o].ndim, c->vals[o].dims);
    if (y < 0) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    v = &c->vals[o];
    c->vals[y].where = CW_OUTPUT;
    if (v->kind == CV_I8) {
        char f[40];
        snprintf(f, sizeof f, "%af", (double)v->scale);
        return cc_step_add(c, y, 0, &o, 1, "mc_dequantize((const int8_t *)v%d, (float *)v%d, %lldu, %s, %d);", o, y,
                           (long long)v->numel, f, (int)v->zp);
    }
    return cc_step_add(c, y, 0, &o, 1, "memcpy(v%d, v%d, %lldu);", y, o, (long long)v->numel * 4);
}

static void value_decl(const cc_ctx *c, cc_buf *b, int k)
{
    const cc_value *v = &c->vals[k], *base = &c->vals[v->base];
    switch (base->where) {
    case CW_INPUT: cc_printf(b, "    const uint8_t *v%d = (const uint8_t *)input;\n", k); break;
    case CW_OUTPUT: cc_printf(b, "    uint8_t *v%d = (uint8_t *)output;\n", k); break;
    case CW_CONST: cc_printf(b, "    const uint8_t *v%d = (const uint8_t *)%s;\n", k, base->sym); break;
    default: cc_printf(b, "    uint8_t *v%d = a + %zu;\n", k, base->offset);
    }
}

static const char *const HEADER_FMT =
    "/* %s: generated by shrink compile; runs with the micro/ runtime (mc.h). */\n"
    "#ifndef %s_SHRINK_H\n#define %s_SHRINK_H\n\n"
    "/* Bytes of working memory (activations and scratch) NAME_run needs. */\n"
    "#define %s_ARENA_BYTES %zuu\n"
    "/* float elements of the input (batch 1) and of the first output. */\n"
    "#define %s_INPUT_COUNT %lldu\n#define %s_OUTPUT_COUNT %lldu\n\n"
    "/* Runs the model: input and output are float even on the int8 path; arena\n"
    " * holds %s_ARENA_BYTES bytes, 16-byte aligned. 0 on success, -1 when a\n"
    " * pointer is NULL or the arena is misaligned. Reentrant for distinct arenas. */\n"
    "int %s_run(const float *input, float *output, void *arena);\n\n#endif\n";

static lc_status write_file(const char *dir, const char *file, const void *buf, size_t len)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *path = malloc(n);
    if (!path) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    snprintf(path, n, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    lc_status s = LC_OK;
    if (!f || fwrite(buf, 1, len, f) != len) s = lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (f && fclose(f) != 0 && s == LC_OK) s = lc_fail(LC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    free(path);
    return s;
}

static bool uses(const cc_ctx *c, const char *const *words)
{
    for (int s = 0; s < c->n_steps; s++)
        for (const char *const *w = words; *w; w++)
            if (strstr(c->steps[s].call, *w)) return true;
    return false;
}

/* The files into dir: NAME.h, NAME.c, NAME.json and the runtime sources. */
static lc_status write_all(const cc_ctx *c, const char *name, const char *dir, const lc_compile_info *info)
{
    cc_buf h = {0}, src = {0}, js = {0};
    cc_printf(&h, HEADER_FMT, name, name, name, name, info->arena_bytes, name, (long long)info->input_count, name,
              (long long)info->output_count, name, name);
    cc_printf(&src, "/* %s: generated by shrink compile. Weights stay compressed in flash; micro/ decodes\n"
                    " * them row by row inside the kernels. */\n#include <stdint.h>\n#include <string.h>\n\n"
                    "#include \"%s.h\"\n#include \"mc.h\"\n\n%s\n",
              name, name, c->data.p ? c->data.p : "");
    cc_printf(&src, "int %s_run(const float *input, float *output, void *arena)\n{\n"
                    "    uint8_t *a = (uint8_t *)arena;\n"
                    "    if (!input || !output || !a || ((uintptr_t)a & 15u) != 0) return -1;\n", name);
    for (int k = 0; k < c->n_vals; k++)
        if (c->vals[k].used) value_decl(c, &src, k);
    for (int s = 0; s < c->n_steps; s++) {
        if (c->steps[s].scratch)
            cc_printf(&src, "    {\n        uint8_t *s = a + %zu;\n        %s\n    }\n", c->steps[s].scratch_offset,
                      c->steps[s].call);
        else if (strstr(c->steps[s].call, "*)s)"))
            cc_printf(&src, "    {\n        uint8_t *s = NULL; /* no scratch needed */\n        %s\n    }\n", c->steps[s].call);
        else
            cc_printf(&src, "    %s\n", c->steps[s].call);
    }
    cc_printf(&src, "    (void)a;\n    return 0;\n}\n");
    static const char *const FLOAT_WORDS[] = {"_f32(", "mc_concat", NULL};
    static const char *const INT8_WORDS[] = {"_i8(", "quantize(", NULL};
    bool need_float = uses(c, FLOAT_WORDS), need_int8 = uses(c, INT8_WORDS);
    cc_printf(&js, "{\"name\": \"%s\", \"arena_bytes\": %zu, \"weight_bytes\": %zu, \"input_count\": %lld, "
                   "\"output_count\": %lld, \"int8\": %s, \"steps\": %d, \"files\": [\"%s.h\", \"%s.c\"",
              name, info->arena_bytes, info->weight_bytes, (long long)info->input_count, (long long)info->output_count,
              info->int8 ? "true" : "false", info->steps, name, name);
    lc_status s = LC_OK;
    if (h.oom || src.oom || js.oom) s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    for (int k = 0; s == LC_OK && k < lc_micro_file_count; k++) {
        const lc_micro_file *f = &lc_micro_files[k];
        if ((!strcmp(f->name, "mc_float.c") && !need_float) || (!strcmp(f->name, "mc_int8.c") && !need_int8) ||
            !strcmp(f->name, "README.md"))
            continue;
        cc_printf(&js, ", \"%s\"", f->name);
        s = write_file(dir, f->name, f->data, f->len);
    }
    cc_printf(&js, "]}\n");
    char fn[300];
    if (s == LC_OK) snprintf(fn, sizeof fn, "%s.h", name), s = write_file(dir, fn, h.p, h.n);
    if (s == LC_OK) snprintf(fn, sizeof fn, "%s.c", name), s = write_file(dir, fn, src.p, src.n);
    if (s == LC_OK) snprintf(fn, sizeof fn, "%s.json", name), s = write_file(dir, fn, js.p, js.n);
    cc_buf_free(&h), cc_buf_free(&src), cc_buf_free(&js);
    return s;
}

static void remove_tree(const char *dir, const char *name)
{
    char p[4096];
    for (int k = 0; k < lc_micro_file_count; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, lc_micro_files[k].name);
        unlink(p);
    }
    static const char *const EXT[] = {".h", ".c", ".json"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s%s", dir, name, EXT[k]);
        unlink(p);
    }
    rmdir(dir);
}

static bool valid_name(const char *s)
{
    if (!s || !*s || isdigit((unsigned char)*s) || strlen(s) > 200) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return false;
    return true;
}

static lc_status build(cc_ctx *c, lc_compile_info *info)
{
    const lc_graph *g = c->g;
    lc_executor *first = NULL;
    lc_status s = lc_executor_create_batch(c->m, 1, 1, &first);
    if (s != LC_OK) return s;
    int n_in = lc_executor_input_count(first);
    lc_array shape;
    const char *in_name = NULL;
    if (n_in != 1) {
        lc_executor_free(first);
        return lc_fail(LC_ERR_UNSUPPORTED, "lc_model_compile: the model has %d inputs; only single-input models compile",
                       n_in);
    }
    lc_executor_input(first, 0, &shape, &in_name);
    lc_executor_free(first);
    if (shape.dtype != LC_DTYPE_FLOAT)
        return lc_fail(LC_ERR_UNSUPPORTED, "lc_model_compile: input '%s' is not float", in_name);
    if ((s = lc_executor_create_ex(c->m, &shape, 1, 1, LC_EXEC_NO_FUSION, &c->ex)) != LC_OK) return s;
    if (g->n_outputs < 1) return lc_fail(LC_ERR_UNSUPPORTED, "lc_model_compile: the model has no output");
    c->done = calloc((size_t)g->n_nodes + 1, 1);
    c->needed = calloc((size_t)g->n_nodes + 1, 1);
    if (!c->done || !c->needed) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    int x = cc_value_new(c, in_name, CV_F32, shape.ndim, shape.dims);
    if (x < 0) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    c->vals[x].where = CW_INPUT;
    if ((s = cc_lower(c)) != LC_OK || (s = route_output(c)) != LC_OK || (s = cc_plan(c)) != LC_OK) return s;
    if (c->data.oom) return lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
    int o = -1;
    for (int k = 0; k < c->n_vals; k++)
        if (c->vals[k].where == CW_OUTPUT) o = k;
    info->arena_bytes = c->arena_bytes;
    info->input_count = c->vals[x].numel;
    info->output_count = o >= 0 ? c->vals[o].numel : 0;
    info->weight_bytes = c->weight_bytes;
    info->int8 = c->int8;
    info->steps = c->n_steps;
    return LC_OK;
}

static void ctx_free(cc_ctx *c)
{
    for (int s = 0; s < c->n_steps; s++) free(c->steps[s].call), free(c->steps[s].in_place_call), free(c->steps[s].reads);
    free(c->steps);
    free(c->vals);
    free(c->done);
    free(c->needed);
    cc_buf_free(&c->data);
    lc_executor_free(c->ex);
}

lc_status lc_model_compile(const lc_model *m, const char *name, const char *dir, lc_compile_info *info)
{
    lc_compile_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    if (!m || !dir || !*dir) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_compile: m or dir is NULL");
    if (!valid_name(name)) return lc_fail(LC_ERR_INVALID_ARGUMENT, "lc_model_compile: name '%s' is not a C identifier", name ? name : "");
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) return lc_fail(LC_ERR_IO, "%s: exists and is not a folder", dir);
    cc_ctx c = {0};
    c.m = m;
    c.g = m->graph;
    lc_status s = build(&c, info);
    if (s == LC_OK) {
        size_t n = strlen(dir) + 16;
        char *tmp = malloc(n);
        if (!tmp) s = lc_fail(LC_ERR_NO_MEMORY, "lc_model_compile: out of memory");
        else {
            size_t d = strlen(dir);
            while (d > 1 && dir[d - 1] == '/') d--; /* the temporary goes beside dir, not in it */
            snprintf(tmp, n, "%.*s.tmpXXXXXX", (int)d, dir);
            if (!mkdtemp(tmp)) s = lc_fail(LC_ERR_IO, "%s: cannot create a temporary folder beside it: %s", dir, strerror(errno));
            else {
                s = write_all(&c, name, tmp, info);
                if (s == LC_OK && rename(tmp, dir) != 0)
                    s = lc_fail(LC_ERR_IO, "%s: %s (the folder must not exist, or be empty)", dir, strerror(errno));
                if (s != LC_OK) remove_tree(tmp, name);
            }
            free(tmp);
        }
    }
    ctx_free(&c);
    return s;
}
