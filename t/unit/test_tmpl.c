/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the template renderer and the language store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "ca_catalog.h"
#include "ca_tmpl.h"
#include "tests.h"

static apr_pool_t *pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

/* partials for the tests */
static const char *loader(void *baton, const char *name)
{
    (void)baton;
    if (!strcmp(name, "hello")) {
        return "Hello {{who}}!";
    }
    if (!strcmp(name, "sub/footer.txt")) {
        return "-- {{site}}\n";
    }
    if (!strcmp(name, "self")) {
        return "x{{>self}}";
    }
    if (!strcmp(name, "countdown")) {
        return "{{#more}}.{{#more}}{{>countdown}}{{/more}}{{/more}}";
    }
    if (!strcmp(name, "three")) {
        return "{{>three}}{{>three}}{{>three}}";
    }
    if (!strcmp(name, "broken")) {
        return "{{#a}}never closed";
    }
    return NULL;
}

/* render src; returns the output or NULL, *perr the reason */
static const char *render_x(const char *src, const ca_tmpl_ctx_t *ctx, int html,
                            apr_size_t max_out, const char **perr)
{
    const char *out = "junk", *err = NULL;
    apr_size_t len = 12345;
    apr_status_t rv;

    rv = ca_tmpl_render(&out, &len, &err, src, strlen(src), ctx, html,
                        loader, NULL, max_out, pool);
    if (perr) {
        *perr = err;
    }
    if (rv != APR_SUCCESS) {
        ck_assert_int_eq(rv, APR_EINVAL);
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(err);
        return NULL;
    }
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, strlen(out));
    return out;
}

static const char *render(const char *src, const ca_tmpl_ctx_t *ctx, int html)
{
    return render_x(src, ctx, html, 1 << 20, NULL);
}

static void assert_fails(const char *src, const ca_tmpl_ctx_t *ctx,
                         const char *why)
{
    const char *err = NULL;

    ck_assert_ptr_null(render_x(src, ctx, 1, 1 << 20, &err));
    ck_assert_msg(strstr(err, why) != NULL, "error '%s' lacks '%s' for %s",
                  err, why, src);
}

START_TEST(test_vars)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);

    ca_tmpl_set(ctx, "name", "Ada");
    ca_tmpl_setf(ctx, "points", "%d", 35);
    ca_tmpl_set(ctx, "a.b-c_9", "dotted");
    ck_assert_str_eq(render("Hi {{name}}, {{points}} points", ctx, 1),
                     "Hi Ada, 35 points");
    ck_assert_str_eq(render("{{ name }}|{{missing}}|{{a.b-c_9}}", ctx, 1),
                     "Ada||dotted");
    ck_assert_str_eq(render("", ctx, 1), "");
    ck_assert_str_eq(render("no tags { } }} at all", ctx, 1),
                     "no tags { } }} at all");
    ck_assert_str_eq(ca_tmpl_get(ctx, "name"), "Ada");
    ca_tmpl_set(ctx, "name", NULL);
    ck_assert_ptr_null(ca_tmpl_get(ctx, "name"));
    ck_assert_str_eq(render("[{{name}}]", ctx, 1), "[]");
    /* no context at all */
    ck_assert_str_eq(render("a{{b}}c", NULL, 0), "ac");
}
END_TEST

/* ca_tmpl_set_ref keeps the caller's strings: the value is the caller's
 * memory itself, escaped like any other, and NULL unsets */
START_TEST(test_set_ref)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);
    ca_tmpl_ctx_t *item;
    char *value = apr_pstrdup(pool, "<b>one</b>");

    item = ca_tmpl_add_item(ctx, "rows");
    ca_tmpl_set_ref(item, "v", value);
    ck_assert_ptr_eq(ca_tmpl_get(item, "v"), value);
    ck_assert_str_eq(render("{{#rows}}[{{v}}]{{/rows}}", ctx, 1),
                     "[&lt;b&gt;one&lt;&#x2F;b&gt;]");
    /* not a copy: what the caller holds is what renders */
    value[1] = 'i';
    value[8] = 'i';
    ck_assert_str_eq(render("{{#rows}}{{v}}{{/rows}}", ctx, 0), "<i>one</i>");
    /* a set value of "" stops the lookup at the item: the page's is not used */
    ca_tmpl_set(ctx, "flag", "1");
    ca_tmpl_set_ref(item, "flag", "");
    ck_assert_str_eq(render("{{#rows}}{{#flag}}set{{/flag}}{{/rows}}", ctx, 1), "");
    ca_tmpl_set_ref(item, "flag", NULL);
    ck_assert_str_eq(render("{{#rows}}{{#flag}}set{{/flag}}{{/rows}}", ctx, 1), "set");
    ca_tmpl_set_ref(item, "v", NULL);
    ck_assert_ptr_null(ca_tmpl_get(item, "v"));
}
END_TEST

START_TEST(test_escaping)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);

    ca_tmpl_set(ctx, "v", "<a href=\"x\" title='y'>&</a>");
    ck_assert_str_eq(render("{{v}}", ctx, 1),
                     "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;&#x2F;a&gt;");
    ck_assert_str_eq(render("{{v}}", ctx, 0), "<a href=\"x\" title='y'>&</a>");
    /* the template's own text is never escaped */
    ck_assert_str_eq(render("<b>{{v}}</b>", NULL, 1), "<b></b>");
    ck_assert_str_eq(ca_html_escape("plain äöü", pool), "plain äöü");
    ck_assert_str_eq(ca_html_escape("a/b&c", pool), "a&#x2F;b&amp;c");
    ck_assert_str_eq(ca_html_escape(NULL, pool), "");
    /* no way to output raw values in HTML */
    assert_fails("{{{v}}}", ctx, "bad tag name");
    assert_fails("{{&v}}", ctx, "bad tag name");
}
END_TEST

START_TEST(test_sections)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);

    ca_tmpl_set(ctx, "yes", "1");
    ca_tmpl_set(ctx, "empty", "");
    ca_tmpl_set(ctx, "zero", "0");
    ck_assert_str_eq(render("{{#yes}}Y{{/yes}}{{#empty}}E{{/empty}}"
                            "{{#nope}}N{{/nope}}{{#zero}}Z{{/zero}}", ctx, 1), "YZ");
    ck_assert_str_eq(render("{{^yes}}Y{{/yes}}{{^empty}}E{{/empty}}"
                            "{{^nope}}N{{/nope}}", ctx, 1), "EN");
    ck_assert_str_eq(render("{{#yes}}{{^nope}}in{{/nope}}{{/yes}}", ctx, 1), "in");
    /* a comment */
    ck_assert_str_eq(render("a{{! a comment with {braces} and / # }}b", ctx, 1), "ab");
}
END_TEST

START_TEST(test_lists)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool), *it, *sub;
    int i;

    ca_tmpl_set(ctx, "title", "Mails");
    for (i = 1; i <= 3; ++i) {
        it = ca_tmpl_add_item(ctx, "mails");
        ca_tmpl_setf(it, "addr", "m%d@example.org", i);
        if (i == 2) {
            ca_tmpl_set(it, "title", "shadowed");
        }
    }
    ck_assert_str_eq(render("{{#mails}}[{{addr}} {{title}}]{{/mails}}", ctx, 0),
                     "[m1@example.org Mails][m2@example.org shadowed]"
                     "[m3@example.org Mails]");
    ck_assert_str_eq(render("{{^mails}}none{{/mails}}{{mails}}", ctx, 0), "");
    /* the item's parent is its list's owner */
    ck_assert_str_eq(ca_tmpl_get(it, "title"), "Mails");
    ck_assert_ptr_null(ca_tmpl_get(ctx, "addr"));

    /* nested lists, and lookups through two levels */
    ctx = ca_tmpl_ctx_make(NULL, pool);
    ca_tmpl_set(ctx, "sep", ",");
    for (i = 0; i < 2; ++i) {
        int k;
        it = ca_tmpl_add_item(ctx, "rows");
        ca_tmpl_setf(it, "r", "%d", i);
        for (k = 0; k < 3; ++k) {
            sub = ca_tmpl_add_item(it, "cols");
            ca_tmpl_setf(sub, "c", "%c", 'a' + k);
        }
    }
    ck_assert_str_eq(render("{{#rows}}{{#cols}}{{r}}{{c}}{{sep}}{{/cols}};{{/rows}}",
                            ctx, 0), "0a,0b,0c,;1a,1b,1c,;");

    /* an empty list is falsy: use an item-less list via a string reset */
    ctx = ca_tmpl_ctx_make(NULL, pool);
    ck_assert_str_eq(render("{{^l}}empty{{/l}}", ctx, 0), "empty");
    /* a string replaced by a list */
    ca_tmpl_set(ctx, "l", "str");
    ca_tmpl_set(ca_tmpl_add_item(ctx, "l"), "x", "X");
    ck_assert_str_eq(render("{{#l}}{{x}}{{/l}}", ctx, 0), "X");
    ck_assert_ptr_null(ca_tmpl_get(ctx, "l"));
}
END_TEST

START_TEST(test_parent_lookup)
{
    ca_tmpl_ctx_t *top = ca_tmpl_ctx_make(NULL, pool);
    ca_tmpl_ctx_t *mid = ca_tmpl_ctx_make(top, pool);
    ca_tmpl_ctx_t *low = ca_tmpl_ctx_make(mid, pool);

    ca_tmpl_set(top, "site", "CAcert");
    ca_tmpl_set(top, "who", "top");
    ca_tmpl_set(mid, "who", "mid");
    ck_assert_str_eq(render("{{site}} {{who}}", low, 0), "CAcert mid");
    ck_assert_str_eq(ca_tmpl_get(low, "site"), "CAcert");
    ca_tmpl_set(mid, "who", NULL);
    ck_assert_str_eq(render("{{who}}", low, 0), "top");
    /* list items see the render context stack: rendering low, an item of
     * low's list sees names of top */
    ca_tmpl_set(ca_tmpl_add_item(low, "items"), "n", "1");
    ck_assert_str_eq(render("{{#items}}{{n}}{{site}}{{/items}}", low, 0), "1CAcert");
}
END_TEST

START_TEST(test_partials)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool), *it;

    ca_tmpl_set(ctx, "who", "<world>");
    ca_tmpl_set(ctx, "site", "example");
    ck_assert_str_eq(render("A {{>hello}} B", ctx, 1), "A Hello &lt;world&gt;! B");
    ck_assert_str_eq(render("A {{> hello }} B", ctx, 0), "A Hello <world>! B");
    ck_assert_str_eq(render("body\n{{>sub/footer.txt}}\n", ctx, 0),
                     "body\n-- example\n");
    /* partials see the item context */
    it = ca_tmpl_add_item(ctx, "people");
    ca_tmpl_set(it, "who", "A");
    it = ca_tmpl_add_item(ctx, "people");
    ca_tmpl_set(it, "who", "B");
    ck_assert_str_eq(render("{{#people}}{{>hello}}{{/people}}", ctx, 0),
                     "Hello A!Hello B!");
    assert_fails("{{>nope}}", ctx, "unknown partial 'nope'");
    assert_fails("{{>broken}}", ctx, "partial 'broken'");
    /* a partial that is not used needs not exist */
    ck_assert_str_eq(render("{{#no}}{{>nope}}{{/no}}ok", ctx, 0), "ok");
}
END_TEST

START_TEST(test_standalone)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool), *it;

    it = ca_tmpl_add_item(ctx, "l");
    ca_tmpl_set(it, "x", "1");
    it = ca_tmpl_add_item(ctx, "l");
    ca_tmpl_set(it, "x", "2");
    ck_assert_str_eq(render("Items:\n{{#l}}\n- {{x}}\n{{/l}}\nend\n", ctx, 0),
                     "Items:\n- 1\n- 2\nend\n");
    ck_assert_str_eq(render("a\n  {{! note }}  \r\nb\n", ctx, 0), "a\nb\n");
    ck_assert_str_eq(render("{{^none}}\nyes\n{{/none}}", ctx, 0), "yes\n");
    /* not alone on the line: kept */
    ck_assert_str_eq(render("a {{#l}}{{x}}{{/l}} b\n", ctx, 0), "a 12 b\n");
    ck_assert_str_eq(render("x{{!c}}\ny", ctx, 0), "x\ny");
}
END_TEST

START_TEST(test_syntax_errors)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);
    const char *err;

    ca_tmpl_set(ctx, "a", "1");
    assert_fails("abc {{name", ctx, "unclosed tag");
    assert_fails("abc {{name}", ctx, "unclosed tag");
    assert_fails("{{!comment", ctx, "unclosed tag");
    assert_fails("{{#a}}text", ctx, "unclosed section");
    assert_fails("{{#a}}{{#b}}{{/b}}", ctx, "unclosed section");
    assert_fails("{{#a}}{{/b}}", ctx, "does not match");
    assert_fails("text{{/a}}", ctx, "without start");
    assert_fails("{{}}", ctx, "bad tag name");
    assert_fails("{{#}}{{/}}", ctx, "bad tag name");
    assert_fails("{{na me}}", ctx, "bad tag name");
    assert_fails("{{a/b}}", ctx, "bad tag name");
    assert_fails("{{=<% %>=}}", ctx, "bad tag name");
    /* the line of the error is given */
    ck_assert_ptr_null(render_x("1\n2\n{{#a}}\n", ctx, 1, 1000, &err));
    ck_assert_msg(strstr(err, "line 3") != NULL, "%s", err);
    /* NUL bytes inside a tag */
    {
        const char src[] = "{{\0}}";
        const char *out;
        apr_size_t len;
        ck_assert_int_eq(ca_tmpl_render(&out, &len, &err, src, sizeof(src) - 1,
                                        ctx, 1, NULL, NULL, 100, pool), APR_EINVAL);
    }
    ck_assert_int_eq(ca_tmpl_render(&err, NULL, NULL, NULL, 0, ctx, 1, NULL,
                                    NULL, 100, pool), APR_EINVAL);
}
END_TEST

START_TEST(test_depth)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);
    char src[512];
    int i;

    ca_tmpl_set(ctx, "a", "1");
    assert_fails("{{>self}}", ctx, "too deep");
    /* exponential include trees are stopped, and fast */
    {
        apr_time_t t0 = apr_time_now();
        assert_fails("{{>three}}", ctx, "too");
        ck_assert_int_lt(apr_time_now() - t0, apr_time_from_sec(2));
    }
    /* recursion that ends is fine */
    ca_tmpl_set(ctx, "more", "y");
    assert_fails("{{>countdown}}", ctx, "too deep");
    ck_assert_str_eq(render("{{>countdown}}", ca_tmpl_ctx_make(NULL, pool), 0), "");
    /* 16 nested sections work, 17 not */
    src[0] = '\0';
    for (i = 0; i < 16; ++i) {
        strcat(src, "{{#a}}");
    }
    strcat(src, "x");
    for (i = 0; i < 16; ++i) {
        strcat(src, "{{/a}}");
    }
    ck_assert_str_eq(render(src, ctx, 0), "x");
    memmove(src + 6, src, strlen(src) + 1);
    memcpy(src, "{{#a}}", 6);
    strcat(src, "{{/a}}");
    assert_fails(src, ctx, "too deep");
}
END_TEST

START_TEST(test_max_out)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);
    const char *err;
    int i;

    ca_tmpl_set(ctx, "v", "<<<<");
    ck_assert_str_eq(render_x("0123456789", ctx, 1, 10, NULL), "0123456789");
    ck_assert_ptr_null(render_x("0123456789a", ctx, 1, 10, &err));
    ck_assert_msg(strstr(err, "output larger") != NULL, "%s", err);
    /* escaping counts: 4 chars become 16 */
    ck_assert_ptr_nonnull(render_x("{{v}}", ctx, 1, 16, NULL));
    ck_assert_ptr_null(render_x("{{v}}", ctx, 1, 15, NULL));
    ck_assert_ptr_nonnull(render_x("{{v}}", ctx, 0, 4, NULL));
    ck_assert_str_eq(render_x("", ctx, 1, 0, NULL), "");
    /* a list that multiplies */
    for (i = 0; i < 100; ++i) {
        ca_tmpl_add_item(ctx, "l");
    }
    ck_assert_ptr_null(render_x("{{#l}}{{#l}}{{#l}}xxxxxxxxxx{{/l}}{{/l}}{{/l}}",
                                ctx, 0, 1 << 20, &err));
    ck_assert_msg(strstr(err, "output larger") != NULL, "%s", err);
}
END_TEST

START_TEST(test_speed)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);
    char *src = apr_palloc(pool, 8192), *o = src;
    apr_pool_t *rp;
    apr_time_t t0, dt;
    int i, k;

    for (i = 0; i < 20; ++i) {
        ca_tmpl_setf(ctx, apr_psprintf(pool, "var%d", i), "value <%d> & more", i);
    }
    for (k = 0; k < 20; ++k) {
        for (i = 0; i < 12; ++i) {
            o += sprintf(o, "<p class=\"x\">lorem ipsum</p>\n");
        }
        o += sprintf(o, "{{var%d}}\n", k);
    }
    ck_assert_int_gt(o - src, 5000);
    apr_pool_create(&rp, pool);
    t0 = apr_time_now();
    for (i = 0; i < 1000; ++i) {
        const char *out, *err;
        apr_size_t len;
        ck_assert_int_eq(ca_tmpl_render(&out, &len, &err, src, (apr_size_t)(o - src),
                                        ctx, 1, NULL, NULL, 1 << 20, rp),
                         APR_SUCCESS);
        apr_pool_clear(rp);
    }
    dt = apr_time_now() - t0;
    /* 1000 renders: well under a second even with sanitizers */
    ck_assert_msg(dt < apr_time_from_sec(2), "1000 renders took %" APR_TIME_T_FMT " us", dt);
}
END_TEST

/* ---- the store ---- */

static void put(const char *dir, const char *rel, const char *text)
{
    const char *path = apr_pstrcat(pool, dir, "/", rel, NULL);
    char *d = apr_pstrdup(pool, path);
    apr_file_t *f;

    *strrchr(d, '/') = '\0';
    ck_assert_int_eq(apr_dir_make_recursive(d, APR_FPROT_OS_DEFAULT, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                                   | APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_file_puts(text, f), APR_SUCCESS);
    apr_file_close(f);
}

/* a .mo file of the given entries: keys and values may hold NULs (plural
 * forms) and \4 (context), so both come with their lengths */
typedef struct {
    const char *k;
    size_t kl;
    const char *v;
    size_t vl;
} mo_ent_t;
#define MO(k, v) { k, sizeof(k) - 1, v, sizeof(v) - 1 }

static char *mo_image(size_t *plen, const mo_ent_t *e, int n)
{
    size_t size = 28 + (size_t)n * 16, at, i;
    unsigned char *buf;

    for (i = 0; i < (size_t)n; ++i) {
        size += e[i].kl + e[i].vl + 2;
    }
    buf = apr_pcalloc(pool, size);
#define PUT32(off, x) do { apr_uint32_t x_ = (apr_uint32_t)(x); \
        buf[(off)] = x_ & 0xff; buf[(off) + 1] = (x_ >> 8) & 0xff; \
        buf[(off) + 2] = (x_ >> 16) & 0xff; buf[(off) + 3] = x_ >> 24; } while (0)
    PUT32(0, 0x950412de);
    PUT32(4, 0);
    PUT32(8, n);
    PUT32(12, 28);
    PUT32(16, 28 + n * 8);
    at = 28 + (size_t)n * 16;
    for (i = 0; i < (size_t)n; ++i) {
        PUT32(28 + i * 8, e[i].kl);
        PUT32(28 + i * 8 + 4, at);
        memcpy(buf + at, e[i].k, e[i].kl);
        at += e[i].kl + 1;
        PUT32(28 + n * 8 + i * 8, e[i].vl);
        PUT32(28 + n * 8 + i * 8 + 4, at);
        memcpy(buf + at, e[i].v, e[i].vl);
        at += e[i].vl + 1;
    }
#undef PUT32
    *plen = size;
    return (char *)buf;
}

static void put_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static const mo_ent_t de_mo[] = {
    MO("", "Content-Type: text/plain; charset=UTF-8\nLanguage: de\n"
           "Plural-Forms: nplurals=2; plural=(n != 1);\n"),
    MO("greeting\4Hello", "Grüß Gott"),
    MO("Title {{title}}", "Titel {{title}}"),
    MO("Value: <b>{{v}}</b>", "<b>{{v}}</b> ist der Wert"),
    MO("Dear {{name}},", "Liebe(r) {{name}},"),
    MO("{{n}} day\0{{n}} days", "{{n}} Tag\0{{n}} Tage"),
    MO("en footer", "de Fußzeile"),
    MO("Plain text", "<script>alert(1)</script>"),
    MO("Needs {{v}}", "Braucht {{w}}"),
    MO("Drops {{v}}", "Ohne Wert"),
    MO("Broken {{v}}", "Kaputt {{#v}}"),
    MO("Quote", "Zitat\" onclick=\"x"),
    MO("date\4{{day}} {{month}} {{year}}", "{{day}}. {{month}} {{year}}"),
    MO("datetime\4{{day}} {{month}} {{year}}, {{time}} UTC",
       "{{day}}. {{month}} {{year}} um {{time}} UTC"),
    MO("month\4December", "Dezember"),
    MO("number\4,", "."),
};

/* a three-form language (Polish's rule) */
static const mo_ent_t pl_mo[] = {
    MO("", "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=3; "
           "plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"),
    MO("{{n}} day\0{{n}} days", "{{n}} dzień\0{{n}} dni\0{{n}} dniach"),
};

static const char *make_store(void)
{
    char *dir = apr_pstrdup(pool, "/tmp/ca_tmpl_testXXXXXX");
    const char *mo;
    size_t len;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    put(dir, "tmpl/page.html", "<h1>{{>head.html}}</h1>{{_}}Value:\n  <b>{{v}}</b>{{/_}}\n");
    put(dir, "tmpl/head.html", "{{_}}Title {{title}}{{/_}}");
    put(dir, "tmpl/refused.html", "{{_}}Plain text{{/_}}|{{_}}Needs {{v}}{{/_}}|"
        "{{_}}Drops {{v}}{{/_}}|{{_}}Broken {{v}}{{/_}}|<i title=\"{{_}}Quote{{/_}}\">");
    put(dir, "tmpl/only-en.txt", "only english {{v}}");
    put(dir, "tmpl/mail/confirm.txt", "{{_}}Dear {{name}},{{/_}}\n"
        "{{_n n}}{{n}} day{{|}}{{n}} days{{/_}}\n"
        "{{d|date}} / {{t|datetime}} / {{t|date}} / {{big|num}} / {{d|num}}\n"
        "{{>mail/footer.txt}}");
    put(dir, "tmpl/mail/footer.txt", "-- \n{{_}}en footer{{/_}}\n");
    put(dir, "tmpl/messages.txt",
        "# comments and blank lines\n\n"
        "  greeting =  Hello  \n"
        "form.malformed = The form was damaged: a=b\r\n"
        "only.en = English only\n");
    put(dir, "tmpl/.page.html.swp", "{{#broken");
    put(dir, "locale/README", "not a catalogue");
    mo = mo_image(&len, de_mo, (int)(sizeof(de_mo) / sizeof(de_mo[0])));
    put_bytes(apr_pstrcat(pool, dir, "/locale/de.mo", NULL), mo, len);
    mo = mo_image(&len, pl_mo, (int)(sizeof(pl_mo) / sizeof(pl_mo[0])));
    put_bytes(apr_pstrcat(pool, dir, "/locale/pt_BR.mo", NULL), mo, len);
    return dir;
}

static void rm_tree(const char *dir)
{
    char *cmd = apr_psprintf(pool, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static apr_status_t load_store(ca_i18n_t **pi18n, const char *dir, const char *def)
{
    return ca_i18n_load(pi18n, apr_pstrcat(pool, dir, "/tmpl", NULL),
                        apr_pstrcat(pool, dir, "/locale", NULL), def, pool);
}

static const char *render_in(const ca_i18n_t *i18n, const char *lang, const char *name,
                             const ca_tmpl_ctx_t *ctx)
{
    const char *out;
    apr_size_t len;

    ck_assert_int_eq(ca_i18n_render(&out, &len, i18n, lang, name, ctx, pool), APR_SUCCESS);
    ck_assert_uint_eq(len, strlen(out));
    return out;
}

START_TEST(test_i18n_load)
{
    const char *dir = make_store();
    ca_i18n_t *i18n;
    const apr_array_header_t *langs;
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, pool);
    const char *out;
    apr_size_t len;

    ck_assert_int_eq(load_store(&i18n, dir, "en"), APR_SUCCESS);
    langs = ca_i18n_langs(i18n);
    ck_assert_int_eq(langs->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(langs, 0, const char *), "de");
    ck_assert_str_eq(APR_ARRAY_IDX(langs, 1, const char *), "en");
    ck_assert_str_eq(APR_ARRAY_IDX(langs, 2, const char *), "pt-br");
    ck_assert(ca_i18n_has_lang(i18n, "de"));
    ck_assert(!ca_i18n_has_lang(i18n, "fr"));
    ck_assert(!ca_i18n_has_lang(i18n, NULL));

    /* messages by key, with fallback to English and to the key */
    ck_assert_str_eq(ca_i18n_msg(i18n, "en", "greeting"), "Hello");
    ck_assert_str_eq(ca_i18n_msg(i18n, "de", "greeting"), "Grüß Gott");
    ck_assert_str_eq(ca_i18n_msg(i18n, "de", "only.en"), "English only");
    ck_assert_str_eq(ca_i18n_msg(i18n, "fr", "greeting"), "Hello");
    ck_assert_str_eq(ca_i18n_msg(i18n, "en", "form.malformed"),
                     "The form was damaged: a=b");
    ck_assert_str_eq(ca_i18n_msg(i18n, "de", "no.such.key"), "no.such.key");

    /* one set of templates, in subfolders; dotfiles ignored */
    ck_assert_str_eq(ca_i18n_template(i18n, "de", "only-en.txt"), "only english {{v}}");
    ck_assert_ptr_nonnull(ca_i18n_template(i18n, "en", "mail/confirm.txt"));
    ck_assert_ptr_null(ca_i18n_template(i18n, "de", "nope.html"));
    ck_assert_ptr_null(ca_i18n_template(i18n, "de", ".page.html.swp"));
    ck_assert_ptr_null(ca_i18n_template(i18n, "en", "messages.txt"));

    ca_tmpl_set(ctx, "title", "<T>");
    ca_tmpl_set(ctx, "v", "a&b");
    ca_tmpl_set(ctx, "name", "<Ada>");
    /* English is the templates' own text, white space and all; German
     * moves the markup as its translation says, values still escaped */
    ck_assert_str_eq(render_in(i18n, "en", "page.html", ctx),
                     "<h1>Title &lt;T&gt;</h1>Value:\n  <b>a&amp;b</b>\n");
    ck_assert_str_eq(render_in(i18n, "de", "page.html", ctx),
                     "<h1>Titel &lt;T&gt;</h1><b>a&amp;b</b> ist der Wert\n");
    /* an unknown language: the default's */
    ck_assert_str_eq(render_in(i18n, "fr", "page.html", ctx),
                     "<h1>Title &lt;T&gt;</h1>Value:\n  <b>a&amp;b</b>\n");
    /* translations that add markup, change the values, do not parse or
     * add a quote are refused: English instead */
    ck_assert_str_eq(render_in(i18n, "de", "refused.html", ctx),
                     "Plain text|Needs a&amp;b|Drops a&amp;b|Broken a&amp;b|"
                     "<i title=\"Quote\">");

    /* mails: no escaping; plural forms; dates and numbers in the language */
    ca_tmpl_set(ctx, "d", "2026-12-04");
    ca_tmpl_set(ctx, "t", "2026-12-04 09:05");
    ca_tmpl_set(ctx, "big", "1234567");
    ca_tmpl_set(ctx, "n", "1");
    ck_assert_str_eq(render_in(i18n, "de", "mail/confirm.txt", ctx),
                     "Liebe(r) <Ada>,\n1 Tag\n4. Dezember 2026 / "
                     "4. Dezember 2026 um 09:05 UTC / 4. Dezember 2026 / 1.234.567 / "
                     "2026-12-04\n-- \nde Fußzeile\n");
    ca_tmpl_set(ctx, "n", "3");
    ck_assert_str_eq(render_in(i18n, "en", "mail/confirm.txt", ctx),
                     "Dear <Ada>,\n3 days\n4 December 2026 / 4 December 2026, 09:05 UTC"
                     " / 4 December 2026 / 1,234,567 / 2026-12-04\n-- \nen footer\n");
    ck_assert(strstr(render_in(i18n, "de", "mail/confirm.txt", ctx), "\n3 Tage\n"));
    /* three forms; a number of another shape counts as 0 */
    ck_assert(strstr(render_in(i18n, "pt-br", "mail/confirm.txt", ctx), "\n3 dni\n"));
    ca_tmpl_set(ctx, "n", "5");
    ck_assert(strstr(render_in(i18n, "pt-br", "mail/confirm.txt", ctx), "\n5 dniach\n"));
    ca_tmpl_set(ctx, "n", "22");
    ck_assert(strstr(render_in(i18n, "pt-br", "mail/confirm.txt", ctx), "\n22 dni\n"));
    ca_tmpl_set(ctx, "n", "1");
    ck_assert(strstr(render_in(i18n, "pt-br", "mail/confirm.txt", ctx), "\n1 dzień\n"));
    ca_tmpl_set(ctx, "n", "x1");
    ck_assert(strstr(render_in(i18n, "en", "mail/confirm.txt", ctx), "\nx1 days\n"));
    /* values of another shape are shown as they are */
    ca_tmpl_set(ctx, "d", "2026-13-04");
    ca_tmpl_set(ctx, "t", "soon");
    ca_tmpl_set(ctx, "big", "-1234");
    ck_assert(strstr(render_in(i18n, "de", "mail/confirm.txt", ctx),
                     "\n2026-13-04 / soon / soon / -1.234 / 2026-13-04\n"));
    ck_assert_str_eq(render_in(i18n, "de", "only-en.txt", ctx), "only english a&b");
    ck_assert_int_eq(ca_i18n_render(&out, &len, i18n, "en", "nope.html", ctx, pool),
                     APR_ENOENT);

    /* German as the default language */
    ck_assert_int_eq(load_store(&i18n, dir, "de"), APR_SUCCESS);
    ck_assert_str_eq(ca_i18n_msg(i18n, "fr", "greeting"), "Grüß Gott");
    ck_assert_str_eq(ca_i18n_msg(i18n, "en", "greeting"), "Hello");
    /* no catalogues: English only */
    ck_assert_int_eq(ca_i18n_load(&i18n, apr_pstrcat(pool, dir, "/tmpl", NULL), NULL,
                                  "en", pool), APR_SUCCESS);
    ck_assert_int_eq(ca_i18n_langs(i18n)->nelts, 1);
    rm_tree(dir);
}
END_TEST

START_TEST(test_i18n_load_errors)
{
    const char *dir = make_store();
    ca_i18n_t *i18n = (ca_i18n_t *)1;
    const char *mo, *tmpl = apr_pstrcat(pool, dir, "/tmpl", NULL);
    size_t len;

    ck_assert_int_ne(load_store(&i18n, dir, "fr"), APR_SUCCESS);
    ck_assert_ptr_null(i18n);
    ck_assert_int_ne(load_store(&i18n, dir, "EN"), APR_SUCCESS);
    ck_assert_int_ne(ca_i18n_load(&i18n, "/nonexistent/dir", NULL, "en", pool), APR_SUCCESS);
    ck_assert_int_ne(ca_i18n_load(&i18n, tmpl, "/nonexistent/dir", "en", pool), APR_SUCCESS);
    /* a folder without templates */
    ck_assert_int_ne(ca_i18n_load(&i18n, apr_pstrcat(pool, dir, "/locale", NULL), NULL,
                                  "en", pool), APR_SUCCESS);
    /* catalogue names that are no language, or the templates' own */
    put(dir, "locale/x.mo", "");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    rm_tree(apr_pstrcat(pool, dir, "/locale/x.mo", NULL));
    mo = mo_image(&len, de_mo, 2);
    put_bytes(apr_pstrcat(pool, dir, "/locale/EN.mo", NULL), mo, len);
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    rm_tree(apr_pstrcat(pool, dir, "/locale/EN.mo", NULL));
    ck_assert_int_eq(load_store(&i18n, dir, "en"), APR_SUCCESS);
    /* a damaged catalogue stops the load */
    put_bytes(apr_pstrcat(pool, dir, "/locale/fr.mo", NULL), mo, len - 30);
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    rm_tree(apr_pstrcat(pool, dir, "/locale/fr.mo", NULL));
    /* a template with a syntax error */
    put(dir, "tmpl/bad.html", "{{#open}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{_}}no end");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{_}}a {{#s}}section{{/s}}{{/_}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{_n}}a{{|}}b{{/_}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{_n c}}a{{/_}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{_}}a{{|}}b{{/_}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{_}}{{/_}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{v|upper}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "{{/_}}");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/bad.html", "ok {{_}}a {{v|num}}{{/_}}");
    ck_assert_int_eq(load_store(&i18n, dir, "en"), APR_SUCCESS);
    /* a message line without '=' */
    put(dir, "tmpl/messages.txt", "greeting Hello\n");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/messages.txt", "= no key\n");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    /* not UTF-8 */
    put(dir, "tmpl/messages.txt", "greeting = Gr\xFC\xDF Gott\n");
    ck_assert_int_ne(load_store(&i18n, dir, "en"), APR_SUCCESS);
    put(dir, "tmpl/messages.txt", "greeting = Hello\n");
    ck_assert_int_eq(load_store(&i18n, dir, "en"), APR_SUCCESS);
    rm_tree(dir);
}
END_TEST

/* the catalogue reader on its own: damaged files and plural rules */
START_TEST(test_catalog)
{
    static const mo_ent_t bad_plural[] = {
        MO("", "Plural-Forms: nplurals=2; plural=(n != 1;\n"),
    };
    static const mo_ent_t bad_charset[] = {
        MO("", "Content-Type: text/plain; charset=ISO-8859-1\n"),
    };
    static const mo_ent_t too_many[] = {
        MO("", "Plural-Forms: nplurals=7; plural=n;\n"),
    };
    static const struct {
        const char *rule;
        int nplurals;
        unsigned long n;
        int form;
    } rules[] = {
        { "n != 1", 2, 0, 1 }, { "n != 1", 2, 1, 0 }, { "n != 1", 2, 2, 1 },
        { "n > 1", 2, 0, 0 }, { "n > 1", 2, 1, 0 }, { "n > 1", 2, 2, 1 },
        { "0", 1, 7, 0 },
        { "n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2",
          3, 21, 0 },
        { "n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2",
          3, 12, 2 },
        { "n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2",
          3, 24, 1 },
        { "!(n == 1) + 0", 2, 1, 0 }, { "n / 0 + n % 0", 2, 5, 0 },
        { "n * 2 - 1 >= 3", 2, 2, 1 }, { "n <= 1 ? 0 : 1", 2, 1, 0 },
        { "n - 5", 2, 3, 0 },       /* out of range: the first form */
    };
    ca_catalog_t *cat;
    const char *err, *mo;
    size_t len, i;

    mo = mo_image(&len, de_mo, (int)(sizeof(de_mo) / sizeof(de_mo[0])));
    ck_assert_int_eq(ca_catalog_parse(&cat, &err, mo, len, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_catalog_count(cat), (int)(sizeof(de_mo) / sizeof(de_mo[0])) - 1);
    ck_assert_str_eq(ca_catalog_get(cat, "greeting", "Hello"), "Grüß Gott");
    ck_assert_ptr_null(ca_catalog_get(cat, NULL, "Hello"));
    ck_assert_ptr_null(ca_catalog_get(cat, "other", "Hello"));
    ck_assert_str_eq(ca_catalog_get(cat, NULL, "{{n}} day"), "{{n}} Tag");
    ck_assert_str_eq(ca_catalog_header(cat, "Language", pool), "de");
    ck_assert_ptr_null(ca_catalog_header(cat, "X-Nothing", pool));
    /* every cut of the file is refused or read, never read past its end */
    for (i = 0; i < len; ++i) {
        char *cut = apr_pmemdup(pool, mo, i);
        apr_status_t rv = ca_catalog_parse(&cat, &err, cut, i, pool);
        ck_assert(rv == APR_SUCCESS || (err && !cat));
    }
    ck_assert_int_ne(ca_catalog_parse(&cat, &err, "\x95\x04\x12\xdf" "0123456789012345678901234",
                                      28, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    mo = mo_image(&len, bad_plural, 1);
    ck_assert_int_ne(ca_catalog_parse(&cat, &err, mo, len, pool), APR_SUCCESS);
    mo = mo_image(&len, bad_charset, 1);
    ck_assert_int_ne(ca_catalog_parse(&cat, &err, mo, len, pool), APR_SUCCESS);
    mo = mo_image(&len, too_many, 1);
    ck_assert_int_ne(ca_catalog_parse(&cat, &err, mo, len, pool), APR_SUCCESS);
    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); ++i) {
        const char *h = apr_psprintf(pool, "Plural-Forms: nplurals=%d; plural=%s;\n",
                                     rules[i].nplurals, rules[i].rule);
        mo_ent_t e[1];
        e[0].k = "";
        e[0].kl = 0;
        e[0].v = h;
        e[0].vl = strlen(h);
        mo = mo_image(&len, e, 1);
        ck_assert_int_eq(ca_catalog_parse(&cat, &err, mo, len, pool), APR_SUCCESS);
        ck_assert_msg(ca_catalog_plural(cat, rules[i].n) == rules[i].form,
                      "%s with n=%lu", rules[i].rule, rules[i].n);
    }
}
END_TEST

START_TEST(test_i18n_pick)
{
    const char *dir = make_store();
    ca_i18n_t *i18n;
    char *hostile;
    int i;

    ck_assert_int_eq(load_store(&i18n, dir, "en"), APR_SUCCESS);
#define PICK(c, al) ca_i18n_pick(i18n, c, al, pool)
    ck_assert_str_eq(PICK(NULL, NULL), "en");
    ck_assert_str_eq(PICK("", ""), "en");
    ck_assert_str_eq(PICK("de", "en"), "de");
    ck_assert_str_eq(PICK("DE", NULL), "de");
    ck_assert_str_eq(PICK("fr", "de"), "de");
    ck_assert_str_eq(PICK("'; drop", "de"), "de");
    ck_assert_str_eq(PICK(NULL, "de"), "de");
    ck_assert_str_eq(PICK(NULL, "de-DE,de;q=0.9,en;q=0.8"), "de");
    ck_assert_str_eq(PICK(NULL, "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"), "en");
    ck_assert_str_eq(PICK(NULL, "fr, de;q=0.5, en;q=0.6"), "en");
    ck_assert_str_eq(PICK(NULL, "  de ;  q=0.5 ,en;q=0.4"), "de");
    ck_assert_str_eq(PICK(NULL, "pt-BR"), "pt-br");
    ck_assert_str_eq(PICK(NULL, "pt"), "pt-br");
    ck_assert_str_eq(PICK(NULL, "pt-PT;q=1, de;q=0.1"), "de");
    /* q=0: not acceptable */
    ck_assert_str_eq(PICK(NULL, "de;q=0"), "en");
    ck_assert_str_eq(PICK(NULL, "de;q=0.000, pt-br;q=0.1"), "pt-br");
    ck_assert_str_eq(PICK(NULL, "*, en;q=0"), "de");
    ck_assert_str_eq(PICK(NULL, "*"), "en");
    /* equal q: the first wins */
    ck_assert_str_eq(PICK(NULL, "de, en"), "de");
    ck_assert_str_eq(PICK(NULL, "en, de"), "en");
    /* malformed parts are ignored */
    ck_assert_str_eq(PICK(NULL, "de;q=2, en;q=0.1"), "en");
    ck_assert_str_eq(PICK(NULL, "de;q=abc, pt-br;q=0.1"), "pt-br");
    ck_assert_str_eq(PICK(NULL, "d3, ,,;;, =, de-, -de, de--x, de"), "de");
    ck_assert_str_eq(PICK(NULL, "x-toolongsubtag, de;q=0.5"), "de");
    ck_assert_str_eq(PICK(NULL, "de;q=0.5;foo=bar"), "de");
    ck_assert_str_eq(PICK(NULL, "\xC3\xA4\xC3\xB6, de"), "de");
    /* hostile long headers */
    hostile = apr_palloc(pool, 200001);
    for (i = 0; i < 200000; ++i) {
        hostile[i] = (i % 3 == 2) ? ',' : 'x';
    }
    hostile[200000] = '\0';
    ck_assert_str_eq(PICK(NULL, hostile), "en");
    memset(hostile, 'a', 200000);
    ck_assert_str_eq(PICK(NULL, hostile), "en");
    ck_assert_str_eq(PICK(hostile, hostile), "en");
    hostile[0] = 'd';
    hostile[1] = 'e';
    hostile[2] = ',';
    ck_assert_str_eq(PICK(NULL, hostile), "de");
#undef PICK
    rm_tree(dir);
}
END_TEST

Suite *tmpl_suite(void)
{
    Suite *s = suite_create("tmpl");
    TCase *tc = tcase_create("render");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vars);
    tcase_add_test(tc, test_set_ref);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_sections);
    tcase_add_test(tc, test_lists);
    tcase_add_test(tc, test_parent_lookup);
    tcase_add_test(tc, test_partials);
    tcase_add_test(tc, test_standalone);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_max_out);
    tcase_add_test(tc, test_speed);
    suite_add_tcase(s, tc);

    tc = tcase_create("i18n");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_i18n_load);
    tcase_add_test(tc, test_i18n_load_errors);
    tcase_add_test(tc, test_i18n_pick);
    tcase_add_test(tc, test_catalog);
    suite_add_tcase(s, tc);
    return s;
}
