/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Validation of what members type in.  Every check returns NULL when the
 * value is acceptable, else the key of a message in templates/
 * messages.txt.  Values reach these after ca_form_parse, so they are valid
 * UTF-8 without control characters. */
#ifndef CA_VALID_H
#define CA_VALID_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* trim ASCII white space at both ends */
const char *ca_trim(const char *s, apr_pool_t *p);
/* the lines of s (split at '\n', no empty last line; NULL: none) as an
 * array of const char * */
apr_array_header_t *ca_split_lines(const char *s, apr_pool_t *p);

/* a part of a person's name: letters of any script, combining marks,
 * spaces, hyphen, apostrophe (' and U+2019) and full stop; no digits, no
 * markup or quote characters, no invisible or bidi control characters;
 * at most maxchars code points; required -> not empty */
const char *ca_valid_name(const char *s, int required, apr_size_t maxchars);

/* one of the fixed name suffixes ("" allowed) */
const char *ca_valid_suffix(const char *s);
extern const char *const ca_name_suffixes[];

/* an email address we can deliver to and ping: ASCII, local@domain with a
 * dot-atom local part, a domain of LDH labels with at least two labels and
 * an alphabetic or xn-- top-level label, at most 254 characters */
const char *ca_valid_email(const char *s);
/* 1 if s is a domain name of LDH labels (1 to 63 characters, no hyphen at
 * either end), at least two, the last one alphabetic or starting with
 * xn--.  Flags: CA_LDH_LOWER, letters in lower case only; CA_LDH_ANY_TLD,
 * any last label.  The length of the whole and a "*." in front are the
 * caller's rules.  For ca_valid_email's domain part, ca_org_valid_domain
 * and the host names of certificate requests (ca_policy). */
enum { CA_LDH_LOWER = 1, CA_LDH_ANY_TLD = 2 };
int ca_valid_ldh_domain(const char *s, unsigned flags);
/* the address with the domain part in lower case */
const char *ca_email_canonical(const char *s, apr_pool_t *p);

/* date of birth from three fields; the result as YYYY-MM-DD in *pdate.
 * Impossible dates, dates in the future (relative to now) and years before
 * 1900 are refused. */
const char *ca_valid_dob(const char **pdate, const char *year, const char *month,
                         const char *day, apr_time_t now, apr_pool_t *p);
/* age in full years on the day now */
int ca_age_years(const char *dob, apr_time_t now);

/* password strength through libpwquality: min length, dictionary and
 * similarity checks; user_hints (may be NULL) are strings the password must
 * not contain (names, the email's local part) */
const char *ca_valid_password(const char *password, const char *confirm,
                              apr_size_t minlen, const char *const *user_hints,
                              int nhints, apr_pool_t *p);

/* the five lost-password questions and answers: all present and of sane
 * length, questions distinct, answers distinct, no answer equal to any
 * question (compared after ca_answer_normalise).  On error *pindex is the
 * 0-based index of the pair the message concerns and *pis_answer says
 * whether it is the answer. */
const char *ca_valid_questions(int *pindex, int *pis_answer,
                               const char *const questions[5],
                               const char *const answers[5], apr_pool_t *p);

#endif
