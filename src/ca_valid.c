/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <pthread.h>
#include <pwquality.h>

#include "ca_valid.h"
#include "ca_domain.h"
#include "ca_crypto.h"
#include "ca_form.h"

const char *const ca_name_suffixes[] = {
    "", "Jr.", "Sr.", "II", "III", "IV", "V", NULL
};

const char *ca_trim(const char *s, apr_pool_t *p)
{
    const char *e;

    if (!s) {
        return "";
    }
    while (*s && apr_isspace(*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1])) {
        e--;
    }
    return apr_pstrmemdup(p, s, (apr_size_t)(e - s));
}

apr_array_header_t *ca_split_lines(const char *s, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *nl;

    while (s && *s) {
        nl = strchr(s, '\n');
        APR_ARRAY_PUSH(a, const char *) = nl ? apr_pstrmemdup(p, s, (apr_size_t)(nl - s))
                                             : apr_pstrdup(p, s);
        if (!nl) {
            break;
        }
        s = nl + 1;
    }
    return a;
}

/* decode one code point of valid UTF-8 */
static unsigned long utf8_next(const unsigned char **ps)
{
    const unsigned char *s = *ps;
    unsigned long c = s[0];

    if (c < 0x80) {
        *ps = s + 1;
    }
    else if ((c & 0xE0) == 0xC0) {
        c = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        *ps = s + 2;
    }
    else if ((c & 0xF0) == 0xE0) {
        c = ((c & 0x0F) << 12) | ((unsigned long)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        *ps = s + 3;
    }
    else {
        c = ((c & 0x07) << 18) | ((unsigned long)(s[1] & 0x3F) << 12)
            | ((unsigned long)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        *ps = s + 4;
    }
    return c;
}

/* non-ASCII code points a name may not carry: Latin-1 symbols, general
 * punctuation (but U+2019), invisible, bidi and format controls, private
 * use, specials, fullwidth ASCII look-alikes, symbols and emoji */
static int name_cp_refused(unsigned long c)
{
    if (c >= 0x80 && c <= 0xBF) return 1;
    if (c == 0xD7 || c == 0xF7) return 1;
    if (c >= 0x2000 && c <= 0x206F && c != 0x2019) return 1;
    if (c >= 0x2070 && c <= 0x2BFF) return 1;        /* super/subscripts .. symbols */
    if (c >= 0x3000 && c <= 0x303F) return 1;        /* CJK punctuation */
    if (c >= 0xE000 && c <= 0xF8FF) return 1;        /* private use */
    if (c >= 0xFE00 && c <= 0xFE0F) return 1;        /* variation selectors */
    if (c >= 0xFE30 && c <= 0xFE6F) return 1;        /* compatibility forms */
    if (c >= 0xFEFF && c <= 0xFF20) return 1;        /* BOM, fullwidth punct/digits */
    if (c >= 0xFF3B && c <= 0xFF40) return 1;
    if (c >= 0xFF5B && c <= 0xFF65) return 1;
    if (c >= 0xFFF0 && c <= 0xFFFF) return 1;        /* specials */
    if (c >= 0x1F000 && c <= 0x1FFFF) return 1;      /* emoji, symbols */
    if (c >= 0xE0000) return 1;                      /* tags, private use */
    return 0;
}

const char *ca_valid_name(const char *s, int required, apr_size_t maxchars)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = 0;
    int letters = 0;

    if (!s || !*s) {
        return required ? "err.name.required" : NULL;
    }
    if (!ca_utf8_valid(s, strlen(s)) || ca_has_control(s, strlen(s))) {
        return "err.name.chars";
    }
    while (*u) {
        unsigned long c;
        if (*u < 0x80) {
            c = *u++;
            if (apr_isalpha(c)) {
                letters++;
            }
            else if (c != ' ' && c != '-' && c != '\'' && c != '.') {
                return "err.name.chars";
            }
        }
        else {
            c = utf8_next(&u);
            if (name_cp_refused(c)) {
                return "err.name.chars";
            }
            letters++;
        }
        n++;
    }
    if (n > maxchars) {
        return "err.name.toolong";
    }
    if (!letters) {
        return "err.name.chars";
    }
    return NULL;
}

const char *ca_valid_suffix(const char *s)
{
    int i;

    for (i = 0; ca_name_suffixes[i]; i++) {
        if (!strcmp(s ? s : "", ca_name_suffixes[i])) {
            return NULL;
        }
    }
    return "err.suffix.invalid";
}

static int atext(int c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int ca_valid_ldh_domain(const char *s, unsigned flags)
{
    const char *label = s, *c;
    int labels = 0, alpha_tld = 1;

    for (;;) {
        const char *e = label;
        while (*e && *e != '.') {
            e++;
        }
        if (e == label || e - label > 63 || label[0] == '-' || e[-1] == '-') {
            return 0;
        }
        alpha_tld = 1;
        for (c = label; c < e; c++) {
            if (!((flags & CA_LDH_LOWER) ? apr_islower(*c) : apr_isalpha(*c))
                && !apr_isdigit(*c) && *c != '-') {
                return 0;
            }
            if (!apr_isalpha(*c)) {
                alpha_tld = 0;
            }
        }
        if (!alpha_tld && !strncasecmp(label, "xn--", 4)) {
            alpha_tld = 1;
        }
        labels++;
        if (!*e) {
            break;
        }
        label = e + 1;
    }
    return labels >= 2 && (alpha_tld || (flags & CA_LDH_ANY_TLD));
}

const char *ca_valid_email(const char *s)
{
    const char *at, *c;
    apr_size_t len;

    if (!s || !*s) {
        return "err.email.required";
    }
    len = strlen(s);
    if (len > 254) {
        return "err.email.invalid";
    }
    for (c = s; *c; c++) {
        if ((unsigned char)*c >= 0x80) {
            return "err.email.ascii";
        }
    }
    at = strrchr(s, '@');
    if (!at || at == s || at - s > 64 || !at[1]) {
        return "err.email.invalid";
    }
    /* local part: dot-atom */
    if (s[0] == '.' || at[-1] == '.') {
        return "err.email.invalid";
    }
    for (c = s; c < at; c++) {
        if (*c == '.') {
            if (c[1] == '.') {
                return "err.email.invalid";
            }
        }
        else if (!atext(*c)) {
            return "err.email.invalid";
        }
    }
    /* domain: LDH labels */
    if (!ca_valid_ldh_domain(at + 1, 0)) {
        return "err.email.invalid";
    }
    /* CPS 3.1.7: the domain part of an address follows the IDN rule of
     * domains (with the CPS list of registrars) */
    if (ca_idn_check(at + 1, NULL)) {
        return "err.email.idn";
    }
    return NULL;
}

const char *ca_email_canonical(const char *s, apr_pool_t *p)
{
    char *r = apr_pstrdup(p, s), *at = strrchr(r, '@'), *c;

    if (at) {
        for (c = at; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
    }
    return r;
}

static int parse_int(int *pv, const char *s, int maxdigits)
{
    int v = 0, n = 0;

    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++, n++) {
        if (!apr_isdigit(*s) || n >= maxdigits) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    *pv = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }
    return d[m - 1];
}

const char *ca_valid_dob(const char **pdate, const char *year, const char *month,
                         const char *day, apr_time_t now, apr_pool_t *p)
{
    int y, m, d;
    apr_time_exp_t t;

    *pdate = NULL;
    if ((!year || !*year) && (!month || !*month) && (!day || !*day)) {
        return "err.dob.required";
    }
    if (!parse_int(&y, year, 4) || !parse_int(&m, month, 2) || !parse_int(&d, day, 2)) {
        return "err.dob.invalid";
    }
    if (m < 1 || m > 12 || d < 1 || y < 1 || d > days_in_month(y, m)) {
        return "err.dob.invalid";
    }
    if (y < 1900) {
        return "err.dob.tooold";
    }
    apr_time_exp_gmt(&t, now);
    if (y > t.tm_year + 1900
        || (y == t.tm_year + 1900 && (m > t.tm_mon + 1
                                      || (m == t.tm_mon + 1 && d > t.tm_mday)))) {
        return "err.dob.future";
    }
    *pdate = apr_psprintf(p, "%04d-%02d-%02d", y, m, d);
    return NULL;
}

int ca_age_years(const char *dob, apr_time_t now)
{
    int y, m, d, age;
    apr_time_exp_t t;

    if (!dob || sscanf(dob, "%4d-%2d-%2d", &y, &m, &d) != 3) {
        return -1;
    }
    apr_time_exp_gmt(&t, now);
    age = t.tm_year + 1900 - y;
    if (t.tm_mon + 1 < m || (t.tm_mon + 1 == m && t.tm_mday < d)) {
        age--;
    }
    return age;
}

static const char *pwq_key(int rc)
{
    switch (rc) {
    case PWQ_ERROR_MIN_LENGTH:
        return "err.password.short";
    case PWQ_ERROR_CRACKLIB_CHECK:
    case PWQ_ERROR_BAD_WORDS:
        return "err.password.dictionary";
    case PWQ_ERROR_USER_CHECK:
    case PWQ_ERROR_GECOS_CHECK:
        return "err.password.personal";
    case PWQ_ERROR_MIN_CLASSES:
    case PWQ_ERROR_MIN_DIGITS:
    case PWQ_ERROR_MIN_UPPERS:
    case PWQ_ERROR_MIN_LOWERS:
    case PWQ_ERROR_MIN_OTHERS:
        return "err.password.classes";
    default:
        return "err.password.weak";
    }
}

static int contains_ci(const char *hay, const char *needle)
{
    apr_size_t n = strlen(needle);

    for (; *hay; hay++) {
        if (!strncasecmp(hay, needle, n)) {
            return 1;
        }
    }
    return 0;
}

/* libpwquality's dictionary check (cracklib) keeps one open dictionary in
 * global state: two threads in it at once corrupt the heap or fail to open
 * the dictionary ("another dictionary already open"), which read as a false
 * "too easy to guess".  One check at a time in the process. */
static pthread_mutex_t pwq_lock = PTHREAD_MUTEX_INITIALIZER;

static int pwq_check(pwquality_settings_t *pwq, const char *password)
{
    void *aux = NULL;
    int rc;

    pthread_mutex_lock(&pwq_lock);
    rc = pwquality_check(pwq, password, NULL, NULL, &aux);
    pthread_mutex_unlock(&pwq_lock);
    return rc;
}

const char *ca_valid_password(const char *password, const char *confirm,
                              apr_size_t minlen, const char *const *hints,
                              int nhints, apr_pool_t *p)
{
    pwquality_settings_t *pwq;
    int rc, i;
    char buf[32];

    if (!password || !*password) {
        return "err.password.required";
    }
    if (!confirm || strcmp(password, confirm)) {
        return "err.password.mismatch";
    }
    if (strlen(password) > 256) {
        return "err.password.toolong";
    }
    if (strlen(password) < minlen) {
        return "err.password.short";
    }
    for (i = 0; i < nhints; i++) {
        if (hints[i] && strlen(hints[i]) >= 3 && contains_ci(password, hints[i])) {
            return "err.password.personal";
        }
    }
    pwq = pwquality_default_settings();
    if (!pwq) {
        return "err.password.weak";
    }
    /* the site's minimum length rules, not the system's local policy file */
    snprintf(buf, sizeof(buf), "%d", (int)minlen);
    pwquality_set_option(pwq, apr_pstrcat(p, "minlen=", buf, NULL));
    rc = pwq_check(pwq, password);
    if (rc >= 0) {
        /* a dictionary word with digits or symbols stuck to its ends
         * ("password1234") is as weak as the word: check the core too */
        const char *b = password, *e = password + strlen(password);
        while (*b && !apr_isalpha(*b)) {
            b++;
        }
        while (e > b && !apr_isalpha(e[-1])) {
            e--;
        }
        if (e - b >= 6 && (b != password || *e)) {
            pwquality_set_option(pwq, "minlen=6");
            if (pwq_check(pwq, apr_pstrmemdup(p, b, (apr_size_t)(e - b)))
                == PWQ_ERROR_CRACKLIB_CHECK) {
                rc = PWQ_ERROR_CRACKLIB_CHECK;
            }
        }
    }
    pwquality_free_settings(pwq);
    if (rc < 0) {
        return pwq_key(rc);
    }
    return NULL;
}

const char *ca_valid_questions(int *pindex, int *pis_answer,
                               const char *const q[5], const char *const a[5],
                               apr_pool_t *p)
{
    const char *nq[5], *na[5];
    int i, j;

    *pindex = 0;
    *pis_answer = 0;
    for (i = 0; i < 5; i++) {
        *pindex = i;
        *pis_answer = 0;
        if (!q[i] || !*q[i]) {
            return "err.question.required";
        }
        if (ca_utf8_len(q[i], strlen(q[i])) > 100) {
            return "err.question.toolong";
        }
        *pis_answer = 1;
        if (!a[i] || !*a[i]) {
            return "err.answer.required";
        }
        if (ca_utf8_len(a[i], strlen(a[i])) > 100) {
            return "err.answer.toolong";
        }
        nq[i] = ca_answer_normalise(q[i], p);
        na[i] = ca_answer_normalise(a[i], p);
        if (strlen(na[i]) < 2) {
            return "err.answer.short";
        }
    }
    for (i = 0; i < 5; i++) {
        for (j = 0; j < i; j++) {
            if (!strcmp(nq[i], nq[j])) {
                *pindex = i;
                *pis_answer = 0;
                return "err.question.duplicate";
            }
            if (!strcmp(na[i], na[j])) {
                *pindex = i;
                *pis_answer = 1;
                return "err.answer.duplicate";
            }
        }
        for (j = 0; j < 5; j++) {
            if (!strcmp(na[i], nq[j])) {
                *pindex = i;
                *pis_answer = 1;
                return "err.answer.isquestion";
            }
        }
    }
    return NULL;
}
