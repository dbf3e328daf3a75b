/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "ca_issue.h"
#include "ca_account.h"
#include "ca_crypto.h"
#include "ca_domain.h"
#include "ca_log.h"
#include "ca_submit.h"
#include "ca_wire.h"

/* what a member sees of a certificate (cert_map reads it); TIMES the
 * columns of its four times */
#define CERT_COLUMNS_WITH(TIMES) \
      "SELECT id, ca, profile, serial, subject, sans, md," \
      TIMES \
      " description, login_disabled," \
      " CASE WHEN revoked_at IS NOT NULL THEN 'revoked'" \
      "  WHEN EXISTS (SELECT 1 FROM signer_requests r WHERE r.kind = 'revoke'" \
      "   AND r.cert_id = certificates.id AND r.state IN ('queued', 'sent')) THEN 'revoking'" \
      "  WHEN not_after < now() THEN 'expired' ELSE 'active' END AS status"
#define CERT_COLUMNS CERT_COLUMNS_WITH( \
      " to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS not_before," \
      " to_char(not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS not_after," \
      " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS created," \
      " to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS revoked_at,")
/* the list (hundreds of rows): the times in seconds, written out by
 * ca_issue_certs (to_char was most of the query's time) */
#define CERT_LIST_COLUMNS CERT_COLUMNS_WITH( \
      " " CA_SQL_EPOCH("not_before") " AS not_before," \
      " " CA_SQL_EPOCH("not_after") " AS not_after," \
      " " CA_SQL_EPOCH("created_at") " AS created," \
      " " CA_SQL_EPOCH("revoked_at") " AS revoked_at,")

const ca_stmt_t ca_issue_stmts[] = {
    { "cacert_iss_revoked_since",
      "SELECT ca, serial, extract(epoch FROM revoked_at)::bigint AS revoked_at,"
      " coalesce(revoke_reason, 0) AS reason FROM certificates WHERE revoked_at IS NOT NULL"
      " AND revoked_at >= now() - make_interval(secs => %s::float8)"
      " ORDER BY revoked_at LIMIT 1000000" },
    /* the primary's WAL insert position: past every commit record written
     * so far, also those of asynchronous commits not yet flushed (which
     * pg_current_wal_lsn(), the write position, may not have reached) */
    { "cacert_iss_wal_lsn",
      "SELECT pg_current_wal_insert_lsn()::text AS lsn" },
    /* on a hot standby: has it replayed the WAL up to that position?  A
     * server that is not in recovery (a primary, a promoted standby) has
     * everything */
    { "cacert_iss_replayed",
      "SELECT NOT pg_is_in_recovery()"
      " OR coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false) AS replayed" },
    { "cacert_iss_emails",
      "SELECT address FROM emails WHERE member_id = %s::bigint AND deleted_at IS NULL"
      " AND verified_at IS NOT NULL ORDER BY is_primary DESC, id" },
    { "cacert_iss_request",
      "SELECT r.id, r.kind, r.ca, r.state, r.reason,"
      " (SELECT c.id FROM certificates c WHERE c.request_id = r.id) AS cert_id"
      " FROM signer_requests r WHERE r.id = %s::bigint AND r.member_id = %s::bigint" },
    { "cacert_iss_certs",
      CERT_LIST_COLUMNS " FROM certificates WHERE member_id = %s::bigint ORDER BY id DESC" },
    { "cacert_iss_cert",
      CERT_COLUMNS ", der, csr_der, member_id"
      " FROM certificates WHERE id = %s::bigint" },
    { "cacert_iss_cert_lock",
      "SELECT ca, serial, member_id, revoked_at IS NOT NULL AS revoked,"
      " EXISTS (SELECT 1 FROM signer_requests r WHERE r.kind = 'revoke'"
      "  AND r.cert_id = certificates.id AND r.state IN ('queued', 'sent', 'done'))"
      " AS revoking"
      " FROM certificates WHERE id = %s::bigint FOR UPDATE" },
    { "cacert_iss_enqueue_revoke",
      "INSERT INTO signer_requests (kind, member_id, ca, cert_id, payload)"
      " VALUES ('revoke', %s::bigint, %s, %s::bigint, %s::bytea)"
      " ON CONFLICT (cert_id) WHERE kind = 'revoke' AND state IN ('queued', 'sent', 'done')"
      " DO NOTHING RETURNING id" },
    { "cacert_iss_enqueue_crl",
      "INSERT INTO signer_requests (kind, ca, payload)"
      " SELECT 'crl', %s, '\\x'::bytea WHERE NOT EXISTS (SELECT 1 FROM signer_requests"
      "  WHERE kind = 'crl' AND ca = %s AND state = 'queued')" },
    { "cacert_iss_next",
      "SELECT id, kind, ca, state, cert_id, payload FROM signer_requests"
      " WHERE state IN ('queued', 'sent')"
      " AND NOT (kind = 'crl' AND (%s::boolean"
      "  OR (state = 'queued' AND ca = ANY (string_to_array(%s, ',')))))"
      /* a certificate or a revocation goes before a queued CRL, unless
       * that CRL has waited 2 s already (a steady stream of requests must
       * not hold CRLs back) */
      " ORDER BY (kind = 'crl' AND state = 'queued'"
      "  AND created_at > now() - interval '2 seconds'), id LIMIT 1" },
    { "cacert_iss_revoked_delta",
      "SELECT serial, extract(epoch FROM revoked_at)::bigint AS revoked_at,"
      " coalesce(revoke_reason, 0) AS reason, revoked_seq"
      " FROM certificates WHERE ca = %s AND revoked_seq IS NOT NULL"
      " AND revoked_seq > %s::bigint AND revoked_seq <= %s::bigint"
      " ORDER BY revoked_seq LIMIT %s::integer" },
    { "cacert_iss_mark_sent",
      "UPDATE signer_requests SET state = 'sent', sent_at = coalesce(sent_at, now()),"
      " attempts = attempts + 1 WHERE id = %s::bigint AND state IN ('queued', 'sent')" },
    { "cacert_iss_set_payload",
      "UPDATE signer_requests SET payload = %s::bytea WHERE id = %s::bigint" },
    { "cacert_iss_request_full",
      "SELECT member_id, profile, csr_der, description FROM signer_requests"
      " WHERE id = %s::bigint AND state IN ('queued', 'sent') FOR UPDATE" },
    { "cacert_iss_insert_cert",
      "INSERT INTO certificates (member_id, request_id, ca, profile, serial, subject, sans,"
      " spki_sha256, md, not_before, not_after, der, csr_der, description)"
      " VALUES (%s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s, %s,"
      " to_timestamp(%s::float8), to_timestamp(%s::float8), %s::bytea, %s::bytea, %s)" },
    { "cacert_iss_done",
      "UPDATE signer_requests SET state = 'done', done_at = now(), answer = %s::bytea"
      " WHERE id = %s::bigint AND state IN ('queued', 'sent')" },
    { "cacert_iss_revoked",
      "UPDATE certificates SET revoked_at = to_timestamp(%s::float8), revoke_reason = %s::smallint,"
      " revoked_by = (SELECT member_id FROM signer_requests WHERE id = %s::bigint)"
      " WHERE id = %s::bigint AND revoked_at IS NULL" },
    /* a CRL's fields and signature, not its body (migration 025) */
    { "cacert_iss_insert_crl",
      "INSERT INTO crls (ca, crl_number, this_update, next_update, entries, parts, md,"
      " revoked_upto, signature)"
      " VALUES (%s, %s::bigint, to_timestamp(%s::float8), to_timestamp(%s::float8),"
      " %s::integer, 0, %s, %s::bigint, %pDb)" },
    { "cacert_iss_quarantine",
      "UPDATE signer_requests SET state = 'quarantined', reason = %s, done_at = now()"
      " WHERE id = %s::bigint AND state IN ('queued', 'sent')" },
    { "cacert_iss_refused",
      "UPDATE signer_requests SET state = 'refused', reason = %s, done_at = now()"
      " WHERE id = %s::bigint AND state IN ('queued', 'sent')" },
    { "cacert_iss_latest_crl",
      "SELECT crl_number, der, parts, entries, md, revoked_upto, signature,"
      " extract(epoch FROM this_update)::bigint AS this_update,"
      " extract(epoch FROM next_update)::bigint AS next_update"
      " FROM crls WHERE ca = %s ORDER BY crl_number DESC LIMIT 1" },
    { "cacert_iss_crl_parts",
      "SELECT part FROM crl_parts WHERE ca = %s AND crl_number = %s::bigint ORDER BY seq" },
    /* drops the bodies of a CA's CRLs but the newest few (migration 024) */
    { "cacert_iss_prune_crls",
      "WITH old AS (SELECT crl_number FROM crls WHERE ca = %s AND pruned_at IS NULL"
      "  ORDER BY crl_number DESC OFFSET %s::integer),"
      " gone AS (DELETE FROM crl_parts p USING old"
      "  WHERE p.ca = %s AND p.crl_number = old.crl_number)"
      " UPDATE crls c SET pruned_at = now(), der = NULL FROM old"
      " WHERE c.ca = %s AND c.crl_number = old.crl_number" },
    { "cacert_iss_revokes_after",
      "SELECT count(*) AS n FROM signer_requests WHERE kind = 'revoke' AND ca = %s"
      " AND (state IN ('queued', 'sent') OR done_at >= to_timestamp(%s::float8))" },
    { "cacert_iss_latest_crl_number",
      "SELECT crl_number FROM crls WHERE ca = %s ORDER BY crl_number DESC LIMIT 1" },
    { "cacert_iss_settings",
      "UPDATE certificates SET description = %s, login_disabled = %s::boolean"
      " WHERE id = %s::bigint AND member_id = %s::bigint" },
    { "cacert_iss_mailinfo",
      "SELECT e.address, m.language, c.id, c.serial, c.subject,"
      " to_char(c.not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS not_after"
      " FROM certificates c JOIN members m ON m.id = c.member_id"
      " JOIN emails e ON e.member_id = m.id AND e.is_primary AND e.deleted_at IS NULL"
      "  AND e.verified_at IS NOT NULL"
      " WHERE c.request_id = %s::bigint" },
    { "cacert_iss_expiring",
      "SELECT e.address, m.language, c.id, c.serial, c.subject,"
      " to_char(c.not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS not_after, t.days"
      " FROM certificates c"
      " JOIN LATERAL (SELECT min(d) AS days FROM unnest(string_to_array(%s, ',')::int[]) d"
      "  WHERE c.not_after <= now() + make_interval(days => d)) t ON t.days IS NOT NULL"
      " JOIN members m ON m.id = c.member_id"
      " JOIN emails e ON e.member_id = m.id AND e.is_primary AND e.deleted_at IS NULL"
      "  AND e.verified_at IS NOT NULL"
      " WHERE c.revoked_at IS NULL AND c.not_after > now()"
      " AND NOT EXISTS (SELECT 1 FROM expiry_warnings w WHERE w.cert_id = c.id"
      "  AND w.days <= t.days)"
      " ORDER BY c.not_after LIMIT 100" },
    { "cacert_iss_warned",
      "INSERT INTO expiry_warnings (cert_id, days) VALUES (%s::bigint, %s::integer)"
      " ON CONFLICT DO NOTHING" },
    { "cacert_iss_status",
      "SELECT revoked_at IS NOT NULL AS revoked,"
      " extract(epoch FROM revoked_at)::bigint AS revoked_at,"
      " coalesce(revoke_reason, 0) AS reason FROM certificates WHERE ca = %s AND serial = %s" },
    { "cacert_iss_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { NULL, NULL }
};

static const char *hex_of(const unsigned char *d, apr_size_t n, apr_pool_t *p)
{
    return ca_bytea_in(d, n, p) + 2;
}

/* a list of one column: const char * elements */
static const ca_col_map_t address_map[] = { { .col = "address", .kind = CA_COL_STR }, { NULL } };

apr_status_t ca_issue_facts_for(ca_member_facts_t *f, ca_db_t *db, const char *member_id,
                                const char *root, const ca_domain_cfg_t *dcfg, apr_pool_t *p)
{
    apr_array_header_t *emails, *domains;
    apr_status_t rv;

    /* the domains: what domain control says counts under this root */
    if ((rv = ca_db_fill(&emails, sizeof(const char *), address_map, db, "cacert_iss_emails",
                         CA_ARGS(member_id), p)) != APR_SUCCESS
        || (rv = ca_domain_verified(&domains, db, member_id, root ? root : "member", dcfg, p))
        != APR_SUCCESS) {
        return rv;
    }
    f->emails = emails;
    f->domains = domains;
    return APR_SUCCESS;
}

apr_status_t ca_issue_facts(ca_member_facts_t *f, ca_db_t *db, const char *member_id,
                            apr_pool_t *p)
{
    return ca_issue_facts_for(f, db, member_id, NULL, NULL, p);
}

static apr_status_t audit(ca_db_t *db, const char *actor, const char *member,
                          const char *action, const char *detail, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_iss_audit",
                       CA_ARGS(actor, member, action, detail ? detail : ""), p);
}

static const ca_col_map_t request_map[] = {
    CA_COLS(ca_request_t, id, kind, ca, state, reason, cert_id),
    { NULL }
};

CA_DB_GETTER(ca_issue_request, ca_request_t, (const char *req_id, const char *member_id),
             ca_db_id_new, request_map, "cacert_iss_request", req_id, member_id)

/* the columns of CERT_COLUMNS */
static const ca_col_map_t cert_map[] = {
    CA_COLS(ca_cert_t, id, ca, profile, serial, subject, sans, md, not_before, not_after,
            created, revoked_at, description),
    CA_FIELD(TRUE, ca_cert_t, login_disabled, "login_disabled"),
    CA_COLS(ca_cert_t, status),
    { NULL }
};

static apr_status_t certs_fill(const void **pdata, void *baton, apr_pool_t *p)
{
    const ca_list_ask_t *a = baton;
    apr_array_header_t *certs;
    apr_status_t rv;
    int i;

    rv = ca_db_fill(&certs, sizeof(ca_cert_t), cert_map, a->db, "cacert_iss_certs",
                    CA_ARGS(a->member_id), p);
    for (i = 0; rv == APR_SUCCESS && i < certs->nelts; i++) {
        ca_cert_t *c = &APR_ARRAY_IDX(certs, i, ca_cert_t);
        c->not_after_sec = c->not_after ? apr_atoi64(c->not_after) : 0;
        c->not_before = ca_ts_of_epoch(c->not_before, p);
        c->not_after = ca_ts_of_epoch(c->not_after, p);
        c->created = ca_ts_of_epoch(c->created, p);
        c->revoked_at = ca_ts_of_epoch(c->revoked_at, p);
    }
    *pdata = certs;
    return rv;
}

apr_status_t ca_issue_certs(apr_array_header_t **pcerts, ca_listcache_t *cache, ca_db_t *db,
                            const char *member_id, const char *version, apr_pool_t *p)
{
    ca_list_ask_t a = { db, member_id };
    const void *data;
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_status_t rv;
    int i;

    *pcerts = NULL;
    if ((rv = ca_account_list(&data, cache, "certs", db, member_id, version, certs_fill, &a,
                               p))
        != APR_SUCCESS) {
        return rv;
    }
    /* a copy the caller may change; the list may have been read before a
     * certificate in it expired */
    *pcerts = apr_array_copy(p, data);
    for (i = 0; i < (*pcerts)->nelts; i++) {
        ca_cert_t *c = &APR_ARRAY_IDX(*pcerts, i, ca_cert_t);
        if (!strcmp(c->status, "active") && c->not_after_sec <= now) {
            c->status = "expired";
        }
    }
    return APR_SUCCESS;
}

apr_status_t ca_issue_revoked_since(apr_array_header_t **prows, ca_db_t *db,
                                    apr_interval_time_t ago, apr_pool_t *p)
{
    return ca_db_rows(prows, db, "cacert_iss_revoked_since",
                      CA_ARGS(apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_sec(ago) + 1)), p);
}

/* one certificate: with its DER and its CSR's */
static const ca_col_map_t cert_one_map[] = {
    CA_ALSO(cert_map),
    CA_BYTES(ca_cert_t, der, der_len, "der"),
    CA_BYTES(ca_cert_t, csr_der, csr_len, "csr_der"),
    { NULL }
};

CA_DB_GETTER(ca_issue_cert, ca_cert_t, (const char *cert_id, const char *member_id),
             ca_db_owned_new, cert_one_map, "cacert_iss_cert", cert_id, member_id)

apr_status_t ca_issue_enqueue_revoke(const char **preq_id, ca_db_t *db,
                                     const char *cert_id, const char *member_id,
                                     int reason, const char *revoked_by, apr_pool_t *p)
{
    apr_status_t rv;

    *preq_id = NULL;
    if (!ca_is_id(cert_id) || reason < 0 || reason > 10 || reason == 7) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_issue_revoke_in_tx(preq_id, db, cert_id, member_id, reason, revoked_by, p);
    if (rv != APR_SUCCESS) {
        *preq_id = NULL;
    }
    return ca_db_end(db, rv, p);
}

apr_status_t ca_issue_revoke_in_tx(const char **preq_id, ca_db_t *db,
                                   const char *cert_id, const char *member_id,
                                   int reason, const char *revoked_by, apr_pool_t *p)
{
    apr_array_header_t *buf = apr_array_make(p, 64, 1);
    unsigned char *serial, r8 = (unsigned char)reason;
    apr_size_t slen;
    const ca_row_t *row;
    const char *ca;
    apr_status_t rv;

    *preq_id = NULL;
    if (reason < 0 || reason > 10 || reason == 7) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_owned_row(&row, db, "cacert_iss_cert_lock", cert_id, member_id, p))
        != APR_SUCCESS) {
        return rv;
    }
    /* revoked, or its revocation asked already */
    if (ca_col_true(row, "revoked") || ca_col_true(row, "revoking")) {
        return APR_EEXIST;
    }
    if ((rv = ca_hex_decode(&serial, &slen, ca_col(row, "serial"), p)) != APR_SUCCESS) {
        return rv;
    }
    ca = ca_col(row, "ca");
    ca_tlv_add_str(buf, CA_TAG_CA, ca);
    ca_tlv_add(buf, CA_TAG_SERIAL, serial, slen);
    ca_tlv_add(buf, CA_TAG_REASON, &r8, 1);
    /* the check above reads the snapshot from before the row lock: a
     * revocation committed while this one waited is met by the index
     * (sql/013), and this one is "asked already" */
    rv = ca_db_row(&row, db, "cacert_iss_enqueue_revoke",
                   CA_ARGS(revoked_by, ca, cert_id,
                           ca_bytea_in((const unsigned char *)buf->elts,
                                       (apr_size_t)buf->nelts, p)), p);
    if (rv != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? APR_EEXIST : rv;
    }
    *preq_id = ca_col(row, "id");
    return audit(db, revoked_by, member_id ? member_id : NULL, "cert.revoke.request",
                 apr_pstrcat(p, "certificate=", cert_id, " reason=", apr_itoa(p, reason),
                             NULL), p);
}

apr_status_t ca_issue_enqueue_crl(ca_db_t *db, const char *ca, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_iss_enqueue_crl", CA_ARGS(ca, ca), p);
}

static const ca_col_map_t queued_map[] = {
    CA_COLS(ca_queued_t, id, kind, ca, state, cert_id),
    CA_BYTES(ca_queued_t, payload, len, "payload"),
    { NULL }
};

CA_DB_GETTER(ca_issue_next, ca_queued_t, (const char *crl_later, int crl_held), ca_db_new_row,
             queued_map, "cacert_iss_next",
             CA_ARGS(crl_held ? "true" : "false", crl_later ? crl_later : ""))

apr_status_t ca_issue_mark_sent(ca_db_t *db, const char *id, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_iss_mark_sent", CA_ARGS(id), p);
}

apr_status_t ca_issue_set_payload(ca_db_t *db, const char *id, const unsigned char *payload,
                                  apr_size_t len, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_iss_set_payload",
                       CA_ARGS(ca_bytea_in(payload, len, p), id), p);
}

static const ca_tlv_t *tlv_get(const apr_array_header_t *tlvs, uint8_t tag)
{
    int i;

    for (i = 0; i < tlvs->nelts; i++) {
        const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
        if (t->tag == tag) {
            return t;
        }
    }
    return NULL;
}

/* an unsigned big-endian number of n bytes (at most 8) */
static uint64_t be_uint(const unsigned char *d, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        v = v << 8 | d[i];
    }
    return v;
}

static int64_t be64(const unsigned char *d)
{
    return (int64_t)be_uint(d, 8);
}

static apr_status_t asn1_epoch(const char **pout, const ASN1_TIME *t, apr_pool_t *p)
{
    struct tm tm;

    if (!ASN1_TIME_to_tm(t, &tm)) {
        return APR_EINVAL;
    }
    *pout = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)timegm(&tm));
    return APR_SUCCESS;
}

static const char *name_text(X509_NAME *name, apr_pool_t *p)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *mem;
    long n;
    const char *s;

    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    n = BIO_get_mem_data(b, &mem);
    s = apr_pstrmemdup(p, mem, (apr_size_t)n);
    BIO_free(b);
    return s;
}

static const char *sans_text(X509 *x, apr_pool_t *p)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const char *out = "";
    int i;

    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *v = NULL;
        if (g->type == GEN_EMAIL || g->type == GEN_DNS) {
            v = apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(g->d.ia5),
                               (apr_size_t)ASN1_STRING_length(g->d.ia5));
        }
        if (v) {
            out = *out ? apr_pstrcat(p, out, ", ", v, NULL) : v;
        }
    }
    GENERAL_NAMES_free(gens);
    return out;
}

apr_status_t ca_issue_answer_cert(ca_db_t *db, const ca_queued_t *q,
                                  const unsigned char *answer, apr_size_t len,
                                  apr_pool_t *p)
{
    apr_array_header_t *tlvs;
    const ca_tlv_t *cert;
    const unsigned char *d;
    const ca_row_t *row;
    const char *nb, *na, *md;
    unsigned char *spki = NULL;
    X509 *x = NULL;
    apr_status_t rv;
    int n, mdnid = 0, pknid = 0;

    if ((rv = ca_tlv_parse(&tlvs, answer, len, p)) != APR_SUCCESS
        || !(cert = tlv_get(tlvs, CA_TAG_CERT))) {
        ca_log(CA_LOG_ERR, "CA10601", APR_EINVAL, "request %s: answer without a certificate",
               q->id);
        return APR_EINVAL;
    }
    d = cert->value;
    x = d2i_X509(NULL, &d, cert->len);
    if (!x || d != cert->value + cert->len) {
        X509_free(x);
        ca_log(CA_LOG_ERR, "CA10602", APR_EINVAL, "request %s: certificate does not parse",
               q->id);
        return APR_EINVAL;
    }
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    X509_get_signature_info(x, &mdnid, &pknid, NULL, NULL);
    md = mdnid == NID_sha384 ? "sha384" : mdnid == NID_sha512 ? "sha512" : "sha256";
    if (n <= 0 || asn1_epoch(&nb, X509_get0_notBefore(x), p) != APR_SUCCESS
        || asn1_epoch(&na, X509_get0_notAfter(x), p) != APR_SUCCESS) {
        rv = APR_EINVAL;
        goto leave;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_iss_request_full", CA_ARGS(q->id), p);
    if (rv == APR_SUCCESS) {
        const char *member_id = ca_col(row, "member_id");
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        const char *serial = hex_of(ASN1_STRING_get0_data(sn),
                                    (apr_size_t)ASN1_STRING_length(sn), p);
        rv = ca_db_query(NULL, db, "cacert_iss_insert_cert",
                         CA_ARGS(member_id, q->id, q->ca, ca_col(row, "profile"), serial,
                                 name_text(X509_get_subject_name(x), p), sans_text(x, p),
                                 ca_sha256_hex((const char *)spki, (apr_size_t)n, p), md,
                                 nb, na, ca_bytea_in(cert->value, cert->len, p),
                                 ca_col(row, "csr_der"), ca_col(row, "description")), p);
        if (rv == APR_SUCCESS) {
            rv = ca_db_query(NULL, db, "cacert_iss_done",
                             CA_ARGS(ca_bytea_in(answer, len, p), q->id), p);
        }
        if (rv == APR_SUCCESS) {
            rv = audit(db, NULL, member_id, "cert.issue",
                       apr_pstrcat(p, "request=", q->id, " serial=", serial, NULL), p);
        }
    }
    rv = ca_db_end(db, rv, p);

leave:
    OPENSSL_free(spki);
    X509_free(x);
    return rv;
}

apr_status_t ca_issue_answer_revoked(ca_db_t *db, const ca_queued_t *q,
                                     const unsigned char *answer, apr_size_t len,
                                     apr_pool_t *p)
{
    apr_array_header_t *tlvs, *req;
    const ca_tlv_t *t, *reason;
    apr_status_t rv;

    if ((rv = ca_tlv_parse(&tlvs, answer, len, p)) != APR_SUCCESS
        || !(t = tlv_get(tlvs, CA_TAG_TIME)) || t->len != 8
        || (rv = ca_tlv_parse(&req, q->payload, q->len, p)) != APR_SUCCESS
        || !(reason = tlv_get(req, CA_TAG_REASON)) || reason->len != 1) {
        ca_log(CA_LOG_ERR, "CA10603", APR_EINVAL, "request %s: bad revocation answer", q->id);
        return APR_EINVAL;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_iss_revoked",
                          CA_ARGS(apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)be64(t->value)),
                                  apr_itoa(p, reason->value[0]), q->id, q->cert_id), p))
        != APR_SUCCESS
        || (rv = ca_db_query(NULL, db, "cacert_iss_done",
                             CA_ARGS(ca_bytea_in(answer, len, p), q->id), p)) != APR_SUCCESS
        || (rv = audit(db, NULL, NULL, "cert.revoke",
                       apr_pstrcat(p, "certificate=", q->cert_id, NULL), p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_issue_enqueue_crl(db, q->ca, p);
leave:
    return ca_db_end(db, rv, p);
}

/* ca_issue_crl_sync; without merge the entries are only queued in set
 * (ca_crl_set_add), for one merge after many steps */
static apr_status_t crl_sync(apr_size_t *pgot, apr_int64_t *pseq, ca_crl_set_t *set,
                             ca_db_t *db, const char *ca, apr_int64_t upto, int limit,
                             int merge, apr_pool_t *p)
{
    apr_array_header_t *rows;
    ca_crl_entry_t *entries;
    apr_int64_t seq = *pseq;
    apr_status_t rv;
    int i;

    *pgot = 0;
    rv = ca_db_rows(&rows, db, "cacert_iss_revoked_delta",
                    CA_ARGS(ca, apr_psprintf(p, "%" APR_INT64_T_FMT, seq),
                            apr_psprintf(p, "%" APR_INT64_T_FMT, upto < 0 ? INT64_MAX : upto),
                            apr_itoa(p, limit)), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    entries = apr_pcalloc(p, sizeof(*entries) * (apr_size_t)(rows->nelts + 1));
    for (i = 0; i < rows->nelts; i++) {
        const ca_row_t *row = APR_ARRAY_IDX(rows, i, const ca_row_t *);
        unsigned char *serial;
        apr_size_t slen;
        if (ca_hex_decode(&serial, &slen, ca_col(row, "serial"), p) != APR_SUCCESS || slen == 0
            || slen > sizeof(entries[i].serial)) {
            ca_log(CA_LOG_ERR, "CA10622", APR_EINVAL, "CRL of %s: a revoked certificate "
                   "with a bad serial", ca);
            rv = APR_EINVAL;
            goto leave;
        }
        memcpy(entries[i].serial, serial, slen);
        entries[i].serial_len = (uint8_t)slen;
        entries[i].revoked_at = ca_col_i64(row, "revoked_at", 0);
        entries[i].reason = (uint8_t)ca_col_int(row, "reason", 0);
        seq = ca_col_i64(row, "revoked_seq", seq);
    }
    if ((rv = ca_crl_set_add(set, entries, (apr_size_t)rows->nelts)) != APR_SUCCESS
        || (merge && (rv = ca_crl_set_merge(set)) != APR_SUCCESS)) {
        goto leave;
    }
    *pseq = seq;
    *pgot = (apr_size_t)rows->nelts;
leave:
    return rv;
}

apr_status_t ca_issue_crl_sync(apr_size_t *pgot, apr_int64_t *pseq, ca_crl_set_t *set,
                               ca_db_t *db, const char *ca, apr_int64_t upto, int limit,
                               apr_pool_t *p)
{
    return crl_sync(pgot, pseq, set, db, ca, upto, limit, 1, p);
}

static void put_u64(unsigned char b[8], uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* the parameters of a CRL request payload */
static apr_status_t crl_params(ca_crl_spec_t *spec, const unsigned char **psha,
                               const unsigned char *payload, apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *tlvs;
    const ca_tlv_t *num, *tu, *nu, *md, *sha;
    apr_status_t rv;

    if ((rv = ca_tlv_parse(&tlvs, payload, len, p)) != APR_SUCCESS) {
        return rv;
    }
    num = tlv_get(tlvs, CA_TAG_CRL_NUMBER);
    tu = tlv_get(tlvs, CA_TAG_THIS_UPDATE);
    nu = tlv_get(tlvs, CA_TAG_NEXT_UPDATE);
    md = tlv_get(tlvs, CA_TAG_MD);
    sha = tlv_get(tlvs, CA_TAG_TBS_SHA256);
    if (!num || num->len != 8 || !tu || tu->len != 8 || !nu || nu->len != 8 || !md
        || !sha || sha->len != 32) {
        return APR_EINVAL;
    }
    spec->crl_number = (uint64_t)be64(num->value);
    spec->this_update = be64(tu->value);
    spec->next_update = be64(nu->value);
    spec->md = apr_pstrmemdup(p, (const char *)md->value, md->len);
    *psha = sha->value;
    return APR_SUCCESS;
}

/* the parameters of a CRL made now: this CRL number (the request id, so
 * numbers only grow), now, now + validity */
static void crl_spec_now(ca_crl_spec_t *spec, X509 *issuer, const char *md,
                         uint64_t crl_number, apr_interval_time_t validity)
{
    memset(spec, 0, sizeof(*spec));
    spec->issuer = issuer;
    spec->md = md;
    spec->this_update = (int64_t)apr_time_sec(apr_time_now());
    spec->next_update = spec->this_update + (int64_t)apr_time_sec(validity);
    spec->crl_number = crl_number;
}

void ca_issue_crl_payload(const unsigned char **ppayload, apr_size_t *plen, const char *ca,
                          const ca_crl_spec_t *spec, const unsigned char sha[32],
                          apr_pool_t *p)
{
    apr_array_header_t *buf = apr_array_make(p, 128, 1);
    unsigned char b8[8];

    ca_tlv_add_str(buf, CA_TAG_CA, ca);
    put_u64(b8, spec->crl_number);
    ca_tlv_add(buf, CA_TAG_CRL_NUMBER, b8, 8);
    put_u64(b8, (uint64_t)spec->this_update);
    ca_tlv_add(buf, CA_TAG_THIS_UPDATE, b8, 8);
    put_u64(b8, (uint64_t)spec->next_update);
    ca_tlv_add(buf, CA_TAG_NEXT_UPDATE, b8, 8);
    ca_tlv_add_str(buf, CA_TAG_MD, spec->md);
    ca_tlv_add(buf, CA_TAG_TBS_SHA256, sha, SHA256_DIGEST_LENGTH);
    *ppayload = (const unsigned char *)buf->elts;
    *plen = (apr_size_t)buf->nelts;
}

apr_status_t ca_issue_crl_request(const unsigned char **ppayload, apr_size_t *plen,
                                  ca_crl_set_t *set, const char *ca, uint64_t crl_number,
                                  X509 *issuer, const char *md,
                                  apr_interval_time_t validity, apr_pool_t *p)
{
    ca_crl_spec_t spec;
    unsigned char sha[SHA256_DIGEST_LENGTH];
    apr_status_t rv;

    crl_spec_now(&spec, issuer, md, crl_number, validity);
    if ((rv = ca_crl_set_sha256(sha, NULL, set, &spec, p)) != APR_SUCCESS) {
        return rv;
    }
    ca_issue_crl_payload(ppayload, plen, ca, &spec, sha, p);
    return APR_SUCCESS;
}

struct ca_crl_snap_t {
    const char *id, *ca;
    ca_crl_spec_t spec;
    const unsigned char *want;      /* the request's SHA-256 of the TBS */
    const unsigned char *tbs;
    apr_size_t tbslen;
    unsigned char tbs_sha[SHA256_DIGEST_LENGTH]; /* the SHA-256 of tbs, */
    int has_tbs_sha;                /* once made (ca_issue_crl_finish) */
    apr_int64_t upto;               /* the set's last revoked_seq (migration 025) */
};

apr_status_t ca_issue_crl_snapshot(ca_crl_snap_t **psnap, const ca_queued_t *q, X509 *issuer,
                                   ca_crl_set_t *set, apr_int64_t upto, unsigned char **pbuf,
                                   apr_size_t *pcap, apr_pool_t *p)
{
    ca_crl_snap_t *sn = apr_pcalloc(p, sizeof(*sn));
    apr_status_t rv;

    *psnap = NULL;
    sn->upto = upto;
    sn->id = apr_pstrdup(p, q->id);
    sn->ca = apr_pstrdup(p, q->ca);
    sn->spec.issuer = issuer;
    if ((rv = crl_params(&sn->spec, &sn->want, q->payload, q->len, p)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10623", rv, "request %s: bad CRL request", q->id);
        rv = APR_EINVAL;
        goto leave;
    }
    sn->want = apr_pmemdup(p, sn->want, SHA256_DIGEST_LENGTH);
    /* one copy of the set as it is now (the link synced it): the set may
     * change once this returns */
    if ((rv = pbuf ? ca_crl_set_tbs_into(&sn->tbs, &sn->tbslen, pbuf, pcap, set, &sn->spec, p)
               : ca_crl_set_tbs(&sn->tbs, &sn->tbslen, set, &sn->spec, p)) != APR_SUCCESS) {
        goto leave;
    }
    sn->spec.nentries = ca_crl_set_count(set);
    *psnap = sn;
leave:
    return rv;
}

apr_status_t ca_issue_crl_prepare(ca_crl_snap_t **psnap, const char *id, const char *ca,
                                  X509 *issuer, const char *md,
                                  apr_interval_time_t validity, ca_crl_set_t *set,
                                  apr_int64_t upto, unsigned char **pbuf, apr_size_t *pcap,
                                  apr_pool_t *p)
{
    ca_crl_snap_t *sn = apr_pcalloc(p, sizeof(*sn));
    apr_status_t rv;

    *psnap = NULL;
    sn->upto = upto;
    sn->id = apr_pstrdup(p, id);
    sn->ca = apr_pstrdup(p, ca);
    crl_spec_now(&sn->spec, issuer, apr_pstrdup(p, md), (uint64_t)apr_atoi64(id), validity);
    if ((rv = ca_crl_set_tbs_into(&sn->tbs, &sn->tbslen, pbuf, pcap, set, &sn->spec, p))
        != APR_SUCCESS) {
        return rv;
    }
    sn->spec.nentries = ca_crl_set_count(set);
    *psnap = sn;
    return APR_SUCCESS;
}

void ca_issue_crl_finish(const unsigned char **ppayload, apr_size_t *plen, ca_crl_snap_t *sn,
                         apr_pool_t *p)
{
    SHA256(sn->tbs, sn->tbslen, sn->tbs_sha);
    sn->has_tbs_sha = 1;
    sn->want = sn->tbs_sha;
    ca_issue_crl_payload(ppayload, plen, sn->ca, &sn->spec, sn->tbs_sha, p);
}

/* 1 when a revocation of sn's CA is open, or was stored since sn's body
 * was made (its thisUpdate, less a margin for the clocks) */
static int revokes_after(ca_db_t *db, const ca_crl_snap_t *sn, apr_pool_t *p)
{
    const ca_row_t *row;

    return ca_db_row(&row, db, "cacert_iss_revokes_after",
                     CA_ARGS(sn->ca, apr_psprintf(p, "%" APR_INT64_T_FMT,
                                                  (apr_int64_t)sn->spec.this_update - 5)),
                     p) == APR_SUCCESS
           && ca_col_i64(row, "n", 0) > 0;
}

/* the bodies kept of a CA's CRLs stored before migration 025, the newest
 * first (migration 024): /pki reads the newest number, then its parts;
 * three stores in between take seconds */
#define CA_CRL_KEEP "3"

apr_status_t ca_issue_store_crl(ca_db_t *db, ca_crl_snap_t *sn,
                                const unsigned char *answer, apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *tlvs;
    const ca_tlv_t *sig, *count;
    const unsigned char *sha;
    apr_status_t rv;

    if ((rv = ca_tlv_parse(&tlvs, answer, len, p)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10604", rv, "request %s: bad CRL request or answer", sn->id);
        return APR_EINVAL;
    }
    sig = tlv_get(tlvs, CA_TAG_SIGNATURE);
    count = tlv_get(tlvs, CA_TAG_COUNT);
    /* the TBS is hashed once: made when the request was (the copy of the
     * set, ca_issue_crl_finish), or here (a request sent again) */
    if (!sn->has_tbs_sha) {
        SHA256(sn->tbs, sn->tbslen, sn->tbs_sha);
        sn->has_tbs_sha = 1;
    }
    sha = sn->tbs_sha;
    if (!sig) {
        const ca_tlv_t *theirs = tlv_get(tlvs, CA_TAG_TBS_SHA256);
        unsigned signer = count && count->len == 4 ? (unsigned)be_uint(count->value, 4) : 0u;
        if ((theirs && theirs->len == SHA256_DIGEST_LENGTH
             && !memcmp(theirs->value, sha, SHA256_DIGEST_LENGTH)
             && memcmp(sha, sn->want, SHA256_DIGEST_LENGTH))
            || (signer > sn->spec.nentries && revokes_after(db, sn, p))) {
            /* the signer has recorded revocations this request's body
             * lacks, and they are not lost: either the database has them
             * now (the signer's body is the one made of the database's
             * revocations now: a CRL asked again with its old body after a
             * failed store), or a revocation of this CA is open or was
             * stored since the body was made (its store enqueues a CRL).
             * Nothing is published from the old body; a newer CRL has
             * them all */
            ca_log(CA_LOG_NOTICE, "CA10625", APR_SUCCESS,
                   "CRL %s for %s: revocations were recorded since its body was made "
                   "(%u at the signer): not published, a newer CRL follows", sn->id, sn->ca,
                   signer);
            ca_db_query(NULL, db, "cacert_iss_refused",
                        CA_ARGS("revocations recorded since the CRL's body was made", sn->id),
                        p);
            ca_issue_enqueue_crl(db, sn->ca, p);
            return APR_EMISMATCH;
        }
        /* the signer holds other revocations than the database: never
         * publish a CRL that could forget one; support must look */
        ca_log(CA_LOG_ERR, "CA10605", APR_SUCCESS,
               "CRL %s for %s: the signer's journal (%u revocations) and the database "
               "disagree; nothing published", sn->id, sn->ca, signer);
        ca_db_query(NULL, db, "cacert_iss_refused",
                    CA_ARGS("the signer's journal and the database disagree", sn->id), p);
        return APR_EMISMATCH;
    }
    if (memcmp(sha, sn->want, SHA256_DIGEST_LENGTH)) {
        ca_log(CA_LOG_ERR, "CA10606", APR_SUCCESS,
               "CRL %s for %s: revocations changed while it was signed", sn->id, sn->ca);
        ca_db_query(NULL, db, "cacert_iss_refused",
                    CA_ARGS("revocations changed while the CRL was signed", sn->id), p);
        ca_issue_enqueue_crl(db, sn->ca, p);
        return APR_EMISMATCH;
    }
    /* the signature checked over this TBS with the CA certificate's key
     * (no parse of a million entries by OpenSSL), over the SHA-256 above
     * when that is the CRL's hash; the CRL is not assembled here: /pki
     * builds it (migration 025) */
    rv = ca_crl_assemble_digest(NULL, NULL, sn->tbs, sn->tbslen,
                                sn->spec.md && !strcmp(sn->spec.md, "sha256") ? sha : NULL,
                                SHA256_DIGEST_LENGTH, sig->value, sig->len,
                                X509_get0_pubkey(sn->spec.issuer), sn->spec.md, p);
    if (rv == APR_EINVAL) {
        ca_log(CA_LOG_ERR, "CA10607", APR_SUCCESS,
               "CRL %s for %s: the signature does not verify; nothing published", sn->id,
               sn->ca);
        ca_db_query(NULL, db, "cacert_iss_refused",
                    CA_ARGS("the CRL signature does not verify", sn->id), p);
        return APR_EMISMATCH;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (sn->tbslen > INT_MAX - 4096) { /* about 50 million entries; /pki builds it whole */
        ca_log(CA_LOG_ERR, "CA10624", APR_EINVAL,
               "CRL %s for %s: %" APR_SIZE_T_FMT " bytes, over the 2 GiB /pki "
               "serves in one piece; nothing published",
               sn->id, sn->ca, sn->tbslen);
        return APR_EINVAL;
    }
    /* the CRL (its fields and signature: every server builds the body
     * again from its revocations up to sn->upto, migration 025) and the end
     * of its request in one transaction: until it commits, the request
     * stays open and is asked again */
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(NULL, db, "cacert_iss_insert_crl",
                     CA_ARGS(sn->ca,
                             apr_psprintf(p, "%" APR_UINT64_T_FMT,
                                          (apr_uint64_t)sn->spec.crl_number),
                             apr_psprintf(p, "%" APR_INT64_T_FMT,
                                          (apr_int64_t)sn->spec.this_update),
                             apr_psprintf(p, "%" APR_INT64_T_FMT,
                                          (apr_int64_t)sn->spec.next_update),
                             apr_psprintf(p, "%" APR_SIZE_T_FMT, sn->spec.nentries),
                             sn->spec.md,
                             apr_psprintf(p, "%" APR_INT64_T_FMT, sn->upto),
                             CA_BLOB(sig->value, sig->len, p)), p);
    if (rv == APR_SUCCESS) {
        /* the bodies of CRLs stored before migration 025 */
        rv = ca_db_query(NULL, db, "cacert_iss_prune_crls",
                         CA_ARGS(sn->ca, CA_CRL_KEEP, sn->ca, sn->ca), p);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_iss_done",
                         CA_ARGS(ca_bytea_in(answer, len, p), sn->id), p);
    }
    return ca_db_end(db, rv, p);
}

apr_status_t ca_issue_answer_crl(ca_db_t *db, const ca_queued_t *q, X509 *issuer,
                                 ca_crl_set_t *set, apr_int64_t upto,
                                 const unsigned char *answer, apr_size_t len, apr_pool_t *p)
{
    ca_crl_snap_t *sn;
    apr_status_t rv;

    if ((rv = ca_issue_crl_snapshot(&sn, q, issuer, set, upto, NULL, NULL, p))
        == APR_SUCCESS) {
        rv = ca_issue_store_crl(db, sn, answer, len, p);
    }
    return rv;
}

apr_status_t ca_issue_quarantine(ca_db_t *db, const char *id, const char *reason,
                                 apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_iss_quarantine", CA_ARGS(reason, id), p);
}

/* a CRL stored before migration 025: its body, whole (der) or in parts,
 * copied into a buffer of malloc */
static apr_status_t crl_body(unsigned char **pder, apr_size_t *plen, const ca_row_t *row,
                             apr_int64_t number, ca_db_t *db, const char *ca, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const unsigned char **parts;
    unsigned char *der;
    apr_size_t *lens, total = 0;
    apr_int64_t nparts;
    int i, n = 1;
    apr_status_t rv;

    nparts = ca_col_i64(row, "parts", 0);
    if (nparts <= 0) {
        /* stored before migration 023: in one piece */
        parts = apr_palloc(p, sizeof(*parts));
        lens = apr_palloc(p, sizeof(*lens));
        if ((rv = ca_bytea_out(&parts[0], &lens[0], ca_col(row, "der"), p)) != APR_SUCCESS) {
            return rv;
        }
        total = lens[0];
    }
    else {
        if ((rv = ca_db_rows(&rows, db, "cacert_iss_crl_parts",
                             CA_ARGS(ca, apr_psprintf(p, "%" APR_INT64_T_FMT, number)), p))
            != APR_SUCCESS) {
            return rv;
        }
        if (rows->nelts != nparts) {
            ca_log(CA_LOG_ERR, "CA10626", APR_SUCCESS, "CRL %" APR_INT64_T_FMT " of %s has "
                   "%d parts of %" APR_INT64_T_FMT, number, ca, rows->nelts, nparts);
            return APR_EGENERAL;
        }
        n = rows->nelts;
        parts = apr_palloc(p, sizeof(*parts) * (apr_size_t)n);
        lens = apr_palloc(p, sizeof(*lens) * (apr_size_t)n);
        for (i = 0; i < n; i++) {
            if ((rv = ca_bytea_out(&parts[i], &lens[i],
                                   ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *), "part"),
                                   p)) != APR_SUCCESS) {
                return rv;
            }
            total += lens[i];
        }
    }
    if (!(*pder = der = malloc(total ? total : 1))) {
        return APR_ENOMEM;
    }
    *plen = total;
    for (i = 0; i < n; i++) {
        memcpy(der, parts[i], lens[i]);
        der += lens[i];
    }
    return APR_SUCCESS;
}

struct ca_crl_rebuild_t {
    ca_crl_set_t *set;
    apr_int64_t seq;                /* the last revoked_seq read into set */
};

apr_status_t ca_crl_rebuild_make(ca_crl_rebuild_t **prb, apr_pool_t *p)
{
    ca_crl_rebuild_t *rb = apr_pcalloc(p, sizeof(*rb));

    *prb = rb;
    return ca_crl_set_make(&rb->set, p);
}

/* revocations read in one step while a CRL is built again: the first
 * build of a server reads them all, in steps that keep the database's
 * answer (libpq holds it whole) to a few MB */
#define CRL_REBUILD_CHUNK 50000

/* a CRL stored since migration 025: rb brought up to the CRL's
 * revoked_upto, the signature checked over the TBS of those revocations
 * with the CA certificate's key, and the CRL written once, into a buffer of
 * malloc (ca_crl_set_signed).  APR_EMISMATCH (logged) when it does not
 * verify: rb is read afresh the next time. */
static apr_status_t crl_rebuild(unsigned char **pder, apr_size_t *plen,
                                ca_crl_rebuild_t *rb, X509 *issuer, const ca_row_t *row,
                                apr_int64_t number, ca_db_t *db, const char *ca,
                                apr_pool_t *p)
{
    ca_crl_spec_t spec;
    const unsigned char *sig;
    apr_size_t siglen, got;
    apr_int64_t upto = ca_col_i64(row, "revoked_upto", -1);
    apr_int64_t entries = ca_col_i64(row, "entries", -1);
    apr_pool_t *step = NULL;
    apr_status_t rv;

    if (upto < 0 || !*ca_col(row, "md")
        || ca_bytea_out(&sig, &siglen, ca_col(row, "signature"), p) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10627", APR_EINVAL, "CRL %" APR_INT64_T_FMT " of %s: a row "
               "without its signature's fields", number, ca);
        return APR_EGENERAL;
    }
    if (rb->seq > upto) {
        /* a CRL older than the last one built (a standby promoted without
         * the newest revocations): read from the start */
        ca_crl_set_clear(rb->set);
        rb->seq = 0;
    }
    /* the revocations since the last build, in steps whose rows go with
     * their own pool; merged once at the end (the first build of a server
     * reads a million) */
    if ((rv = apr_pool_create(&step, p)) != APR_SUCCESS) {
        return rv;
    }
    do {
        apr_pool_clear(step);
        rv = crl_sync(&got, &rb->seq, rb->set, db, ca, upto, CRL_REBUILD_CHUNK, 0, step);
    } while (rv == APR_SUCCESS && got == CRL_REBUILD_CHUNK);
    apr_pool_destroy(step);
    if (rv != APR_SUCCESS || (rv = ca_crl_set_merge(rb->set)) != APR_SUCCESS) {
        return rv;
    }
    memset(&spec, 0, sizeof(spec));
    spec.issuer = issuer;
    spec.md = ca_col(row, "md");
    spec.this_update = ca_col_i64(row, "this_update", 0);
    spec.next_update = ca_col_i64(row, "next_update", 0);
    spec.crl_number = (uint64_t)number;
    rv = (apr_int64_t)ca_crl_set_count(rb->set) != entries ? APR_EINVAL
         : ca_crl_set_signed(pder, plen, rb->set, &spec, sig, siglen, p);
    if (rv == APR_EINVAL) {
        /* never serve a CRL that is not the one signed: a revocation
         * changed or gone since, another CA certificate, a damaged row */
        ca_log(CA_LOG_ERR, "CA10628", APR_SUCCESS, "CRL %" APR_INT64_T_FMT " of %s: the "
               "body built from %" APR_SIZE_T_FMT " revocations (the row says %"
               APR_INT64_T_FMT ") does not match its signature; not served", number, ca,
               ca_crl_set_count(rb->set), entries);
        ca_crl_set_clear(rb->set);
        rb->seq = 0;
        rv = APR_EMISMATCH;
    }
    return rv;
}

apr_status_t ca_issue_latest_crl(unsigned char **pder, apr_size_t *plen,
                                 apr_int64_t *pnumber, ca_crl_rebuild_t *rb, X509 *issuer,
                                 ca_db_t *db, const char *ca, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv = ca_db_row(&row, db, "cacert_iss_latest_crl", CA_ARGS(ca), p);

    *pder = NULL;
    *plen = 0;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *pnumber = ca_col_i64(row, "crl_number", 0);
    /* (mod_dbd's PostgreSQL driver gives a NULL as "") */
    if (!*ca_col(row, "signature")) {
        return crl_body(pder, plen, row, *pnumber, db, ca, p);
    }
    return crl_rebuild(pder, plen, rb, issuer, row, *pnumber, db, ca, p);
}

apr_status_t ca_issue_latest_crl_number(apr_int64_t *pnumber, ca_db_t *db, const char *ca,
                                        apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv = ca_db_row(&row, db, "cacert_iss_latest_crl_number", CA_ARGS(ca), p);

    if (rv == APR_SUCCESS) {
        *pnumber = ca_col_i64(row, "crl_number", 0);
    }
    return rv;
}

apr_status_t ca_issue_settings(ca_db_t *db, const char *cert_id, const char *member_id,
                               const char *description, int login_disabled, apr_pool_t *p)
{
    const char *desc;

    if (!ca_is_id(cert_id)) {
        return APR_NOTFOUND;
    }
    if (ca_issue_description(&desc, description, p)) {
        return APR_EINVAL;
    }
    return ca_db_query_one(db, "cacert_iss_settings",
                           CA_ARGS(desc, login_disabled ? "true" : "false", cert_id, member_id),
                           p);
}

/* what cacert_iss_mailinfo gives, and cacert_iss_expiring with the days of
 * the warning */
static const ca_col_map_t mailinfo_map[] = {
    CA_COLS(ca_mailinfo_t, address, language, serial, subject, not_after),
    CA_FIELD(STR, ca_mailinfo_t, cert_id, "id"), { NULL }
};
static const ca_col_map_t expiring_map[] = {
    CA_COLS(ca_mailinfo_t, address, language, serial, subject, not_after, days),
    CA_FIELD(STR, ca_mailinfo_t, cert_id, "id"), { NULL }
};

CA_DB_GETTER(ca_issue_mailinfo, ca_mailinfo_t, (const char *req_id), ca_db_new_row,
             mailinfo_map, "cacert_iss_mailinfo", CA_ARGS(req_id))

CA_DB_LISTER(ca_issue_expiring, ca_mailinfo_t, (const char *days), expiring_map,
             "cacert_iss_expiring", CA_ARGS(days))

apr_status_t ca_issue_warned(ca_db_t *db, const ca_mailinfo_t *m, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_iss_warned", CA_ARGS(m->cert_id, m->days), p);
}

apr_status_t ca_issue_wal_lsn(const char **plsn, ca_db_t *db, apr_pool_t *p)
{
    apr_status_t rv = ca_db_value(plsn, db, "cacert_iss_wal_lsn", "lsn", CA_NOARGS, p);

    if (rv == APR_SUCCESS && (!*plsn || !**plsn)) {
        rv = APR_EGENERAL;
    }
    return rv;
}

apr_status_t ca_issue_replayed(int *preplayed, ca_db_t *db, const char *lsn, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv = ca_db_row(&row, db, "cacert_iss_replayed", CA_ARGS(lsn), p);

    *preplayed = 0;
    if (rv == APR_SUCCESS) {
        *preplayed = ca_col_true(row, "replayed");
    }
    return rv;
}

apr_status_t ca_issue_status(int *pstatus, apr_int64_t *prevoked_at, int *preason,
                             ca_db_t *db, const char *ca, const char *serial_hex,
                             apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv = ca_db_row(&row, db, "cacert_iss_status", CA_ARGS(ca, serial_hex), p);

    *pstatus = CA_CERT_UNKNOWN;
    *prevoked_at = 0;
    *preason = 0;
    if (rv == APR_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (ca_col_true(row, "revoked")) {
        *pstatus = CA_CERT_REVOKED;
        *prevoked_at = ca_col_i64(row, "revoked_at", 0);
        *preason = ca_col_int(row, "reason", 0);
    }
    else {
        *pstatus = CA_CERT_GOOD;
    }
    return APR_SUCCESS;
}
