/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Member accounts: registration, email pings, login and sessions, lost
 * password, addresses and identity.  Every state change is one database
 * transaction; mails that belong to a change are sent before it commits, so
 * a failed mail leaves nothing behind and a failed commit leaves only a
 * mail whose link does not work. */
#ifndef CA_ACCOUNT_H
#define CA_ACCOUNT_H

#include <apr_pools.h>
#include <apr_time.h>

#include "ca_db.h"
#include "ca_crypto.h"
#include "ca_listcache.h"
#include "ca_policy.h"

extern const ca_stmt_t ca_account_stmts[];

typedef struct {
    apr_interval_time_t ping_lifetime;      /* email ping validity */
    int ping_attempts;                      /* wrong codes per client in login_fail_window */
    apr_interval_time_t session_idle;
    apr_interval_time_t session_max;
    int login_fail_account;                 /* failures per address in window */
    int login_fail_client;                  /* failures per client address */
    apr_interval_time_t login_fail_window;
    apr_interval_time_t login_delay_max;    /* the longest wait after failures */
    int lost_fail_max;                      /* lost-password failures in window */
    apr_interval_time_t lost_fail_window;
    apr_interval_time_t reset_lifetime;
    int register_per_client;                /* registrations per client per hour */
    int pw_minlen;                          /* 0: CA_PASSWORD_MINLEN */
    ca_argon2_params_t argon2;
    const char *dummy_hash;                 /* ca_pw_dummy_hash(argon2) */
} ca_account_cfg_t;

/* the shortest password allowed unless the operator sets another */
#define CA_PASSWORD_MINLEN 10

/* The password policy, one rule wherever a password is set (registration,
 * change, reset): confirmation, length (cfg->pw_minlen), strength
 * (libpwquality), and none of the member's own words in it (words: their
 * given and family names and the local part of each of their addresses).
 * NULL when the password may be used, else the message key of the
 * refusal. */
const char *ca_account_password_refusal(const char *password, const char *confirm,
                                        const char *const *words, int nwords,
                                        const ca_account_cfg_t *cfg, apr_pool_t *p);
/* the member's own words of a registration, for the rule above (*pwords
 * an array of 3) */
void ca_registration_words(const char ***pwords, int *pnwords, const char *given,
                           const char *family, const char *email, apr_pool_t *p);

/* Sends the mail of an email ping, or of a password reset; the module
 * renders the member's language and talks SMTP.  Returning an error rolls
 * the change back. */
typedef apr_status_t ca_mail_fn(void *baton, const char *kind,
                                const char *address, const char *id,
                                const char *secret, apr_pool_t *p);

typedef struct {
    const char *given, *middle, *family, *suffix;
    const char *dob;                /* YYYY-MM-DD, validated */
    const char *email;              /* validated, canonical */
    const char *password;           /* validated */
    const char *language;
    const char *questions[5];
    const char *answers[5];
    const char *cca_version;
    const char *client_addr;
} ca_registration_t;

/* APR_EEXIST: the address belongs to an account already (or a registration
 * waits for it): nothing is registered, the address's owner was mailed
 * (mail kind "taken"), and the caller answers as for a registration, so
 * that nobody learns from it who has an account; APR_EAGAIN: too
 * many registrations from this client address in the last hour; APR_EINVAL:
 * the password fails ca_account_password_refusal (the names and the address
 * of the registration as the member's words) */
apr_status_t ca_account_register(const char **pmember_id, ca_db_t *db,
                                 const ca_account_cfg_t *cfg,
                                 const ca_registration_t *reg,
                                 ca_mail_fn *mail, void *baton, apr_pool_t *p);

typedef enum {
    CA_PING_OK = 0,
    CA_PING_UNKNOWN,        /* no open ping for that id/address */
    CA_PING_WRONG,          /* wrong cookie; counted against the client */
    CA_PING_THROTTLED,      /* too many wrong cookies from this client */
    CA_PING_EXPIRED
} ca_ping_outcome_t;

/* Confirm by link (ping_id set) or by entering the cookie with the address
 * (address set).  A wrong cookie never spends the ping: the cookie has 144
 * random bits, so no number of guesses finds it, and a limit per ping let
 * anybody who knew an id or an address disable the owner's mail.  Wrong
 * cookies are counted per client address instead (cfg->ping_attempts in
 * cfg->login_fail_window: CA_PING_THROTTLED), which bounds the work one
 * client makes, and on the ping (attempts) for support to see. */
apr_status_t ca_account_confirm(ca_ping_outcome_t *pout, const char **paddress,
                                ca_db_t *db, const ca_account_cfg_t *cfg,
                                const char *ping_id, const char *address,
                                const char *cookie, const char *client_addr, apr_pool_t *p);

typedef enum {
    CA_LOGIN_OK = 0,
    CA_LOGIN_BAD,           /* unknown address or wrong password: one answer */
    CA_LOGIN_THROTTLED,     /* too many failures for the address or client */
    CA_LOGIN_UNCONFIRMED,   /* right password, primary address not confirmed */
    CA_LOGIN_LOCKED         /* right password, account locked by support */
} ca_login_outcome_t;

typedef struct {
    const char *token;      /* cookie value; only its hash is stored */
    const char *member_id;
    const char *csrf;
    const char *given, *middle, *family, *suffix, *dob, *language;
    /* read with the session by ca_session_lookup (read = 1), so that a
     * page needs no statement of its own for them: the member's roles
     * (CA_ROLE_* bits) and the version of their long lists
     * (ca_account_list); a session just made by a login has read = 0
     * and lists_v NULL (ca_account_list then reads the version) */
    int read;
    unsigned roles;
    const char *lists_v;
} ca_session_t;

/* a ca_col_map_t's entries for a member's name and date of birth: the
 * columns given_name, middle_name, family_name, suffix and dob into the
 * string fields given, middle, family, suffix and dob of type */
#define CA_MEMBER_NAME_COLS(type) \
    CA_FIELD(STR, type, given, "given_name"), CA_FIELD(STR, type, middle, "middle_name"), \
    CA_FIELD(STR, type, family, "family_name"), CA_COLS(type, suffix, dob)

apr_status_t ca_account_login(ca_login_outcome_t *pout, ca_session_t **psess,
                              ca_db_t *db, const ca_account_cfg_t *cfg,
                              const char *address, const char *password,
                              const char *client_addr, apr_pool_t *p);
/* login with a client certificate the TLS layer verified: it must be one
 * of ours, unrevoked, in its lifetime, not disabled for login by its
 * member (CA_LOGIN_BAD otherwise) */
apr_status_t ca_account_login_cert(ca_login_outcome_t *pout, ca_session_t **psess,
                                   ca_db_t *db, const ca_account_cfg_t *cfg,
                                   const unsigned char *der, apr_size_t der_len,
                                   const char *serial_hex, const char *client_addr,
                                   apr_pool_t *p);
/* APR_NOTFOUND if token names no live session (ended, idle, too old) */
apr_status_t ca_session_lookup(ca_session_t **psess, ca_db_t *db,
                               const ca_account_cfg_t *cfg, const char *token,
                               apr_pool_t *p);
apr_status_t ca_session_end(ca_db_t *db, const char *token, apr_pool_t *p);

/* APR_EINVAL: the new password fails the policy (*prefusal its message
 * key; the member's words are read in the transaction); APR_EMISMATCH:
 * current password wrong.  Ends the member's other sessions. */
apr_status_t ca_account_change_password(const char **prefusal, ca_db_t *db,
                                        const ca_account_cfg_t *cfg,
                                        const ca_session_t *sess,
                                        const char *current, const char *newpw,
                                        const char *confirm, apr_pool_t *p);

typedef struct {
    const char *id, *address;
    int primary, verified, pending;
} ca_email_t;

/* the member's live addresses, primary first (array of ca_email_t) */
apr_status_t ca_account_emails(apr_array_header_t **pemails, ca_db_t *db,
                               const char *member_id, apr_pool_t *p);
/* deletes the rows of the failure and limit tables (login, lost password,
 * confirmation codes, registrations with a taken address, date-of-birth
 * mismatches) older than keep, which must be longer than every window that
 * reads them; *pn: how many were deleted */
apr_status_t ca_account_prune(int *pn, ca_db_t *db, apr_interval_time_t keep,
                              apr_pool_t *p);

/* APR_EEXIST: the address is in the member's own list already (or claimed
 * by them already).  An address another account holds is answered with
 * APR_SUCCESS, as a free one: the member sees it waiting in the list (a
 * claim no code can confirm, email_claims) and its owner gets a mail (kind
 * "address_taken"), so that the form does not tell which addresses have
 * an account. */
apr_status_t ca_account_add_email(ca_db_t *db, const ca_account_cfg_t *cfg,
                                  const char *member_id, const char *address,
                                  ca_mail_fn *mail, void *baton, apr_pool_t *p);
/* APR_NOTFOUND: not the member's, or primary */
/* the language the member chose (a language tag): their pages without a
 * chooser cookie and the mails sent to them use it */
apr_status_t ca_account_set_language(ca_db_t *db, const char *member_id,
                                     const char *lang, apr_pool_t *p);
/* the stored language of the account that holds address (APR_NOTFOUND if
 * none): mails to an address's owner that someone else's action causes
 * are written in the owner's language */
apr_status_t ca_account_owner_language(const char **plang, ca_db_t *db,
                                       const char *address, apr_pool_t *p);
apr_status_t ca_account_remove_email(ca_db_t *db, const char *member_id,
                                     const char *email_id, apr_pool_t *p);

/* a member's standing from the assurance records and flags */
apr_status_t ca_account_standing(ca_standing_t *s, ca_db_t *db, const char *member_id,
                                 apr_pool_t *p);
/* what a fill of ca_account_list gets as its baton, usually */
typedef struct {
    ca_db_t *db;
    const char *member_id;
} ca_list_ask_t;

/* a member's long list `kind` (ca_listcache_get) at the version the
 * database has for their lists: version when the caller read it in this
 * request already (ca_session_t.lists_v), else NULL and it is read here;
 * with c NULL, fill makes it in p */
apr_status_t ca_account_list(const void **pdata, ca_listcache_t *c, const char *kind,
                             ca_db_t *db, const char *member_id, const char *version,
                             ca_listcache_fill_fn *fill, void *baton, apr_pool_t *p);
/* assurance points of a member: ca_points_total of the standing */
apr_status_t ca_account_points(int *ppoints, ca_db_t *db, const char *member_id,
                               apr_pool_t *p);
/* change name and date of birth; APR_EACCES once the member has points */
apr_status_t ca_account_set_identity(ca_db_t *db, const char *member_id,
                                     const char *given, const char *middle,
                                     const char *family, const char *suffix,
                                     const char *dob, apr_pool_t *p);

typedef enum {
    CA_LOST_OK = 0,
    CA_LOST_NOMATCH,        /* address/date of birth/answers do not match */
    CA_LOST_THROTTLED
} ca_lost_outcome_t;

/* step 1: address and date of birth -> the five questions (array of
 * const char *) */
apr_status_t ca_lost_questions(ca_lost_outcome_t *pout,
                               apr_array_header_t **pquestions, ca_db_t *db,
                               const ca_account_cfg_t *cfg, const char *address,
                               const char *dob, const char *client_addr,
                               apr_pool_t *p);
/* step 2: at least three of five answers right -> a reset link is mailed */
apr_status_t ca_lost_answer(ca_lost_outcome_t *pout, ca_db_t *db,
                            const ca_account_cfg_t *cfg, const char *address,
                            const char *dob, const char *const answers[5],
                            const char *client_addr, ca_mail_fn *mail,
                            void *baton, apr_pool_t *p);
/* APR_NOTFOUND if the reset token is unknown, used or expired */
apr_status_t ca_reset_check(ca_db_t *db, const char *token, apr_pool_t *p);
/* APR_NOTFOUND as ca_reset_check; APR_EINVAL: the new password fails the
 * policy (*prefusal its message key; the token stays usable) */
apr_status_t ca_reset_apply(const char **prefusal, ca_db_t *db, const ca_account_cfg_t *cfg,
                            const char *token, const char *newpw, const char *confirm,
                            apr_pool_t *p);


#endif
