/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The support and arbitration console: finding and viewing a member, and
 * the actions support and arbitration take on an account.  Who may take
 * which action is decided by the module's route table (docs/console.md);
 * here every action is one transaction that locks the member's row, checks
 * the state, changes it and writes an audit entry whose detail starts with
 * "ticket=<reference>" (ca_ticket_ok, ca_roles.h: the documented format).  No action may be taken on one's own account.
 *
 * Statuses: APR_NOTFOUND no such member (or assurance, certificate, role),
 * APR_EEXIST the account is in that state already, APR_EACCES the actor's
 * own account (or a deleted one), APR_EINVAL bad input (a ticket reference
 * that is not in the documented format, a name or date that does not
 * validate). */
#ifndef CA_CONSOLE_H
#define CA_CONSOLE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_db.h"
#include "ca_policy.h"

extern const ca_stmt_t ca_console_stmts[];

/* a member in a list of search results */
typedef struct {
    const char *id, *name, *email, *created;
    int locked, deleted;
} ca_con_hit_t;

/* query: a member number, an email address or its beginning (contains
 * '@'), or a part of a name; at most 50 hits, the newest
 * members first (array of ca_con_hit_t): a support request is most often
 * about a recent account, and a common name must not hide it behind 50
 * older ones */
apr_status_t ca_console_search(apr_array_header_t **phits, ca_db_t *db, const char *query,
                               apr_pool_t *p);

typedef struct {
    const char *address, *added, *verified, *removed;
    int primary;
} ca_con_email_t;

typedef struct {
    const char *name, *added, *verified, *removed;
} ca_con_domain_t;

typedef struct {
    const char *id, *other_id, *other_name, *method, *location, *date, *revoked;
    int points;
} ca_con_assurance_t;

typedef struct {
    const char *role, *granted, *ticket;
} ca_con_role_t;

typedef struct {
    const char *id, *at, *actor, *action, *detail;
} ca_con_event_t;

/* What the console shows of a member.  Never the password hash, never the
 * lost-password questions or answers (the statement does not read them). */
typedef struct {
    const char *id, *given, *middle, *family, *suffix, *dob, *language, *created;
    const char *locked, *deleted, *deletion_ticket, *retain_until, *blocked, *challenge;
    int codesign;
    ca_standing_t standing;
    int points, assurer;
    apr_array_header_t *emails;         /* ca_con_email_t, primary first */
    apr_array_header_t *domains;        /* ca_con_domain_t */
    apr_array_header_t *received;       /* ca_con_assurance_t */
    apr_array_header_t *given_list;     /* ca_con_assurance_t */
    apr_array_header_t *certs;          /* ca_cert_t (ca_issue.h) */
    apr_array_header_t *roles;          /* ca_con_role_t, live ones */
    apr_array_header_t *history;        /* ca_con_event_t, newest first, at most 50 */
} ca_con_member_t;

apr_status_t ca_console_member(ca_con_member_t **pm, ca_db_t *db, const char *member_id,
                               apr_pool_t *p);

/* the member whose live address this is (APR_NOTFOUND) */
apr_status_t ca_console_member_by_email(const char **pmember_id, ca_db_t *db,
                                        const char *address, apr_pool_t *p);

/* lock (lock=1) or unlock an account; locking ends its sessions */
apr_status_t ca_console_lock(ca_db_t *db, const char *actor, const char *member_id,
                             const char *ticket, int lock, apr_pool_t *p);
/* correct name and date of birth (YYYY-MM-DD); validated again here */
apr_status_t ca_console_set_identity(ca_db_t *db, const char *actor, const char *member_id,
                                     const char *ticket, const char *given,
                                     const char *middle, const char *family,
                                     const char *suffix, const char *dob, apr_pool_t *p);
/* revoke an assurance (given or received by member_id) */
apr_status_t ca_console_revoke_assurance(ca_db_t *db, const char *actor,
                                         const char *member_id, const char *assurance_id,
                                         const char *ticket, apr_pool_t *p);
/* block (block=1) or unblock a member as Assurer */
apr_status_t ca_console_block(ca_db_t *db, const char *actor, const char *member_id,
                              const char *ticket, int block, apr_pool_t *p);
/* grant (allow=1) or remove the code-signing flag */
apr_status_t ca_console_codesign(ca_db_t *db, const char *actor, const char *member_id,
                                 const char *ticket, int allow, apr_pool_t *p);
/* queue the revocation of every live certificate of the member through the
 * issuance core (the signer link revokes them and a CRL follows each);
 * *pcount: how many; APR_EEXIST when there was none to revoke.  reason: a
 * CRLReason the console offers (0 unspecified, 1 keyCompromise, 4
 * superseded, 9 privilegeWithdrawn) */
apr_status_t ca_console_revoke_certs(int *pcount, ca_db_t *db, const char *actor,
                                     const char *member_id, const char *ticket, int reason,
                                     apr_pool_t *p);
/* delete an account as arbitration orders (docs/console.md, "Retention"):
 * revoke its certificates, end its roles and O-Admin appointments, wipe
 * the password hash, the lost-password questions and answers, sessions,
 * reset links and language, release its addresses and domains; name, date
 * of birth, addresses, assurances and certificates are kept for seven
 * years (retain_until), except for a member who never held a certificate
 * nor took part in an assurance (CPS 5.5: "resigned non-subscribers: 0
 * years"), whose name, date of birth and addresses are wiped at once */
apr_status_t ca_console_delete(ca_db_t *db, const char *actor, const char *member_id,
                               const char *ticket, apr_pool_t *p);

/* role: a console role name (ca_role_bit, ca_roles.h) *//* grant (grant=1) or remove a role; actor NULL: the command-line bootstrap */
apr_status_t ca_console_role(ca_db_t *db, const char *actor, const char *member_id,
                             const char *role, const char *ticket, int grant, apr_pool_t *p);

#endif
