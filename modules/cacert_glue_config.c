/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The glue's part for what a module declares in tables (see
 * cacert_glue.h): its server configuration, the defaults of what was not
 * configured and the directive setters; its routes; the template
 * variables of a struct. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>

#include "cacert_glue.h"

/* whether the field f of the configuration c was set */
static int field_set(const char *c, const cacert_field_t *f)
{
    const void *ptr;
    int n;
    apr_int64_t n64;

    if (f->kind != CACERT_FIELD_NUM_) {
        memcpy(&ptr, c + f->offset, sizeof(ptr));
        return f->kind == CACERT_FIELD_PTR_ ? ptr != NULL
                                            : ((const apr_array_header_t *)ptr)->nelts > 0;
    }
    if (f->size == sizeof(n)) {
        memcpy(&n, c + f->offset, sizeof(n));
        return n != CACERT_UNSET;
    }
    memcpy(&n64, c + f->offset, sizeof(n64));
    return n64 != CACERT_UNSET;
}

void *cacert_cfg_create(const cacert_field_t *fields, apr_size_t size, apr_pool_t *p)
{
    char *c = apr_pcalloc(p, size);
    const int unset = CACERT_UNSET;
    const apr_int64_t unset64 = CACERT_UNSET;

    apr_array_header_t *arr;

    for (; fields->kind; fields++) {
        if (fields->kind == CACERT_FIELD_NUM_) {
            memcpy(c + fields->offset, fields->size == sizeof(unset) ? (const void *)&unset
                                                                     : (const void *)&unset64,
                   fields->size);
        }
        else if (fields->kind == CACERT_FIELD_ARR_) {
            arr = apr_array_make(p, 4, (int)fields->elt);
            memcpy(c + fields->offset, &arr, sizeof(arr));
        }
    }
    return c;
}

void *cacert_cfg_merge(const void *base, const void *add, const cacert_field_t *fields,
                       apr_size_t size, apr_pool_t *p)
{
    char *c = apr_pcalloc(p, size);

    for (; fields->kind; fields++) {
        const char *from = field_set(add, fields) ? add : base;
        memcpy(c + fields->offset, from + fields->offset, fields->size);
    }
    return c;
}

int cacert_cfg_int(int v, int def)
{
    return v != CACERT_UNSET ? v : def;
}

apr_int64_t cacert_cfg_i64(apr_int64_t v, apr_int64_t def)
{
    return v != CACERT_UNSET ? v : def;
}

const char *cacert_cfg_str(const char *v, const char *def)
{
    return v ? v : def;
}

const char *cacert_cmd_err(cmd_parms *cmd, const char *msg)
{
    return msg ? apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL) : NULL;
}

const char *cacert_set_str(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (!*arg) {
        return cacert_cmd_err(cmd, "must not be empty");
    }
    *(const char **)((char *)cfg + (apr_size_t)cmd->info) = arg;
    return NULL;
}

const char *cacert_parse_seconds(apr_int64_t *psecs, const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (end == arg || n < 0 || (*end && (end[1] || !strchr("smhd", *end)))) {
        return "must be a duration such as 90s, 30m, 48h or 7d";
    }
    n *= *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1;
    if (n > 100LL * 365 * 86400) {
        return "is too long";
    }
    *psecs = n;
    return NULL;
}

const char *cacert_parse_int(int *pv, const char *arg, int min, int max)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (end == arg || *end || n < min || n > max) {
        return "is out of range";
    }
    *pv = (int)n;
    return NULL;
}

const char *cacert_set_int(cmd_parms *cmd, void *cfg, const char *arg, int min, int max)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    return cacert_cmd_err(cmd, cacert_parse_int((int *)((char *)cfg + (apr_size_t)cmd->info),
                                                arg, min, max));
}

const char *cacert_set_time(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_int64_t n = 0;

    if (err) {
        return err;
    }
    if (cacert_parse_seconds(&n, arg) || n <= 0) {
        return cacert_cmd_err(cmd, "must be a positive duration such as 90s, 30m, 48h or 7d");
    }
    *(apr_interval_time_t *)((char *)cfg + (apr_size_t)cmd->info) = apr_time_from_sec(n);
    return NULL;
}

const char *cacert_set_flag(cmd_parms *cmd, void *cfg, int on)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    *(int *)((char *)cfg + (apr_size_t)cmd->info) = on ? 1 : 0;
    return NULL;
}

const cacert_route_t *cacert_route_find(const cacert_route_t *const *tables, const char *path)
{
    const cacert_route_t *rt;

    for (; *tables; tables++) {
        for (rt = *tables; rt->path; rt++) {
            if (!strcmp(rt->path, path)) {
                return rt;
            }
        }
    }
    return NULL;
}

int cacert_handle(request_rec *r, const cacert_handler_t *handlers)
{
    for (; r->handler && handlers->name; handlers++) {
        if (!strcmp(r->handler, handlers->name)) {
            return handlers->fn(r);
        }
    }
    return DECLINED;
}

int cacert_route_method(request_rec *r, const cacert_route_t *rt)
{
    if ((r->method_number == M_GET && (rt->methods & CACERT_GET))
        || (r->method_number == M_POST && (rt->methods & CACERT_POST))) {
        return OK;
    }
    r->allowed = ((rt->methods & CACERT_GET) ? (AP_METHOD_BIT << M_GET) : 0)
                 | ((rt->methods & CACERT_POST) ? (AP_METHOD_BIT << M_POST) : 0);
    return HTTP_METHOD_NOT_ALLOWED;
}

static void tmpl_vars(ca_tmpl_ctx_t *ctx, const void *obj, const cacert_var_t *vars,
                      void (*set)(ca_tmpl_ctx_t *, const char *, const char *))
{
    const char *base = obj;

    for (; vars->name; vars++) {
        const void *f = base + vars->offset;
        switch (vars->kind) {
        case CACERT_VAR_STR:
            set(ctx, vars->name, *(const char *const *)f);
            break;
        case CACERT_VAR_NONEMPTY:
            if (*(const char *const *)f && **(const char *const *)f) {
                set(ctx, vars->name, *(const char *const *)f);
            }
            break;
        case CACERT_VAR_INT: {
            char num[16];
            apr_snprintf(num, sizeof(num), "%d", *(const int *)f);
            ca_tmpl_set_static(ctx, vars->name, num);
            break;
        }
        case CACERT_VAR_FLAG:
            if (*(const int *)f) {
                ca_tmpl_set_static(ctx, vars->name, "1");
            }
            break;
        }
    }
}

void cacert_tmpl_vars(ca_tmpl_ctx_t *ctx, const void *obj, const cacert_var_t *vars)
{
    tmpl_vars(ctx, obj, vars, ca_tmpl_set_static);
}

void cacert_tmpl_vars_ref(ca_tmpl_ctx_t *ctx, const void *obj, const cacert_var_t *vars)
{
    tmpl_vars(ctx, obj, vars, ca_tmpl_set_ref);
}

/* items of list for the elements [first, last) of arr */
static void tmpl_items(ca_tmpl_ctx_t *ctx, const char *list, const apr_array_header_t *arr,
                       int first, int last, const cacert_var_t *vars)
{
    int i;

    for (i = first; i < last; i++) {
        cacert_tmpl_vars(ca_tmpl_add_item(ctx, list), arr->elts + (apr_size_t)i * arr->elt_size,
                         vars);
    }
}

void cacert_tmpl_items(ca_tmpl_ctx_t *ctx, const char *list, const apr_array_header_t *arr,
                       const cacert_var_t *vars)
{
    tmpl_items(ctx, list, arr, 0, arr->nelts, vars);
}

int cacert_list_page(int *pfirst, int *plast, ca_tmpl_ctx_t *ctx, const char *pager,
                     const char *url, const char *arg, int total, int per, apr_pool_t *p)
{
    apr_int64_t n = 1;
    ca_tmpl_ctx_t *item;
    char *end;

    if (arg) {
        errno = 0;
        n = apr_strtoi64(arg, &end, 10);
        if (!apr_isdigit(*arg) || errno || *end || n < 1 || n > INT_MAX / per) {
            return -1;
        }
    }
    *pfirst = (int)(n - 1) * per;
    if (*pfirst > 0 && *pfirst >= total) {
        return -1;
    }
    *plast = total - *pfirst > per ? *pfirst + per : total;
    if (total > per) {
        item = ca_tmpl_add_item(ctx, pager);
        ca_tmpl_set(item, "url", url);
        ca_tmpl_set(item, "first", apr_itoa(p, *pfirst + 1));
        ca_tmpl_set(item, "last", apr_itoa(p, *plast));
        ca_tmpl_set(item, "total", apr_itoa(p, total));
        if (n > 1) {
            ca_tmpl_set(item, "prev", apr_itoa(p, (int)n - 1));
        }
        if (*plast < total) {
            ca_tmpl_set(item, "next", apr_itoa(p, (int)n + 1));
        }
    }
    return 0;
}

int cacert_tmpl_items_page(ca_tmpl_ctx_t *ctx, const char *list, const apr_array_header_t *arr,
                           const cacert_var_t *vars, const char *pager, const char *url,
                           const char *arg, int per, apr_pool_t *p)
{
    int first, last;

    if (cacert_list_page(&first, &last, ctx, pager, url, arg, arr->nelts, per, p) != 0) {
        return -1;
    }
    tmpl_items(ctx, list, arr, first, last, vars);
    return 0;
}
