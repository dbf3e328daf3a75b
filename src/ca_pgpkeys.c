/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* OpenPGP keys on the web side.  See ca_pgpkeys.h.  Log tags CA902xx. */
#include <string.h>

#include <apr_strings.h>

#include "ca_account.h"
#include "ca_log.h"
#include "ca_valid.h"
#include "ca_pgpkeys.h"
#include "ca_wire.h"

#define TS(col) CA_SQL_TS(col)

const ca_stmt_t ca_pgpkeys_stmts[] = {
    { "cacert_pgp_store",
      "INSERT INTO openpgp_keys (member_id, fingerprint, algo, key)"
      " VALUES (%s::bigint, %s, %s, %s::bytea) RETURNING id" },
    { "cacert_pgp_list",
      "SELECT k.id, k.fingerprint, k.algo, " TS("k.created_at") " AS created,"
      " s.id AS sig_id, s.uids AS sig_uids, " TS("s.expires_at") " AS sig_expires,"
      " s.expires_at < now() AS sig_expired,"
      " EXISTS (SELECT 1 FROM openpgp_requests o JOIN signer_requests r"
      "  ON r.id = o.request_id WHERE o.key_id = k.id AND r.state IN ('queued', 'sent'))"
      " AS pending"
      " FROM openpgp_keys k LEFT JOIN LATERAL (SELECT * FROM openpgp_signatures x"
      "  WHERE x.key_id = k.id ORDER BY x.id DESC LIMIT 1) s ON true"
      " WHERE k.member_id = %s::bigint ORDER BY k.id DESC" },
    { "cacert_pgp_get",
      "SELECT k.id, k.fingerprint, k.algo, " TS("k.created_at") " AS created, k.key,"
      " k.member_id"
      " FROM openpgp_keys k WHERE k.id = %s::bigint" },
    { "cacert_pgp_sigs",
      "SELECT id, key_id, uids, " TS("expires_at") " AS expires,"
      " " TS("created_at") " AS created, expires_at < now() AS expired"
      " FROM openpgp_signatures WHERE key_id = %s::bigint"
      " ORDER BY id DESC" },
    { "cacert_pgp_sig",
      "SELECT s.id, s.key_id, s.uids, " TS("s.expires_at") " AS expires,"
      " " TS("s.created_at") " AS created, s.expires_at < now() AS expired,"
      " k.fingerprint, s.signed_key, s.member_id"
      " FROM openpgp_signatures s JOIN openpgp_keys k ON k.id = s.key_id"
      " WHERE s.id = %s::bigint" },
    { "cacert_pgp_enqueue",
      "INSERT INTO signer_requests (kind, member_id, ca, payload)"
      " VALUES ('pgpsign', %s::bigint, 'openpgp', %s::bytea) RETURNING id" },
    { "cacert_pgp_enqueue_req",
      "INSERT INTO openpgp_requests (request_id, key_id, uids)"
      " VALUES (%s::bigint, %s::bigint, %s)" },
    { "cacert_pgp_request",
      "SELECT r.id, r.state, r.reason, o.key_id,"
      " (SELECT s.id FROM openpgp_signatures s WHERE s.request_id = r.id) AS sig_id"
      " FROM signer_requests r JOIN openpgp_requests o ON o.request_id = r.id"
      " WHERE r.id = %s::bigint AND r.member_id = %s::bigint AND r.kind = 'pgpsign'" },
    { "cacert_pgp_request_lock",
      "SELECT o.key_id, o.uids, r.member_id, k.fingerprint"
      " FROM signer_requests r JOIN openpgp_requests o ON o.request_id = r.id"
      " JOIN openpgp_keys k ON k.id = o.key_id"
      " WHERE r.id = %s::bigint AND r.kind = 'pgpsign' AND r.state IN ('queued', 'sent')"
      " FOR UPDATE OF r" },
    { "cacert_pgp_insert_sig",
      "INSERT INTO openpgp_signatures (key_id, member_id, request_id, uids, certifications,"
      " signed_key, expires_at) VALUES (%s::bigint, %s::bigint, %s::bigint, %s,"
      " %s::integer, %s::bytea, to_timestamp(%s::float8))" },
    { "cacert_pgp_done",
      "UPDATE signer_requests SET state = 'done', done_at = now(), answer = %s::bytea"
      " WHERE id = %s::bigint AND state IN ('queued', 'sent')" },
    { "cacert_pgp_mailinfo",
      "SELECT e.address, m.language, k.fingerprint, s.uids, " TS("s.expires_at") " AS expires,"
      " s.id AS sig_id, s.key_id FROM openpgp_signatures s JOIN openpgp_keys k ON k.id = s.key_id"
      " JOIN members m ON m.id = s.member_id"
      " JOIN emails e ON e.member_id = m.id AND e.is_primary AND e.deleted_at IS NULL"
      "  AND e.verified_at IS NOT NULL"
      " WHERE s.request_id = %s::bigint" },
    { "cacert_pgp_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { NULL, NULL }
};

static const char *join_lines(const apr_array_header_t *a, apr_pool_t *p)
{
    const char *s = "";
    int i;

    for (i = 0; i < a->nelts; i++) {
        s = apr_pstrcat(p, s, i ? "\n" : "", APR_ARRAY_IDX(a, i, const char *), NULL);
    }
    return s;
}

apr_status_t ca_pgpkeys_store(const char **pkey_id, ca_db_t *db, const char *member_id,
                              const ca_pgp_key_t *key, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pkey_id = NULL;
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_pgp_store",
                       CA_ARGS(member_id, key->fpr_hex, key->algo_name,
                               ca_bytea_in(key->bin, key->len, p)), p);
    if (rv == APR_SUCCESS) {
        *pkey_id = ca_col(row, "id");
        rv = ca_db_query(NULL, db, "cacert_pgp_audit",
                         CA_ARGS(member_id, member_id, "openpgp.upload",
                                 apr_pstrcat(p, "key=", *pkey_id, " fpr=", key->fpr_hex,
                                             NULL)), p);
    }
    if (rv != APR_SUCCESS) {
        *pkey_id = NULL;
    }
    return ca_db_end(db, rv, p);
}

static const ca_col_map_t key_map[] = {
    CA_COLS(ca_pgpkey_t, id, fingerprint, algo, created),
    CA_BYTES(ca_pgpkey_t, bin, len, "key"),
    { NULL }
};
/* a key with its newest signature */
static const ca_col_map_t key_list_map[] = {
    CA_COLS(ca_pgpkey_t, id, fingerprint, algo, created, sig_id, sig_uids, sig_expires),
    CA_FIELD(TRUE, ca_pgpkey_t, sig_expired, "sig_expired"),
    CA_FIELD(TRUE, ca_pgpkey_t, pending, "pending"),
    { NULL }
};

CA_DB_LISTER(ca_pgpkeys_list, ca_pgpkey_t, (const char *member_id), key_list_map,
             "cacert_pgp_list", CA_ARGS(member_id))


CA_DB_GETTER(ca_pgpkeys_get, ca_pgpkey_t, (const char *key_id, const char *member_id),
             ca_db_owned_new, key_map, "cacert_pgp_get", key_id, member_id)

static const ca_col_map_t sig_map[] = {
    CA_COLS(ca_pgpsig_t, id, key_id, uids, expires, created),
    CA_FIELD(TRUE, ca_pgpsig_t, expired, "expired"),
    { NULL }
};

CA_DB_LISTER(ca_pgpkeys_signatures, ca_pgpsig_t, (const char *key_id), sig_map,
             "cacert_pgp_sigs", CA_ARGS(key_id))

/* one signature: with its key's fingerprint and the signed key */
static const ca_col_map_t sig_one_map[] = {
    CA_ALSO(sig_map),
    CA_COLS(ca_pgpsig_t, fingerprint),
    CA_BYTES(ca_pgpsig_t, bin, len, "signed_key"),
    { NULL }
};

CA_DB_GETTER(ca_pgpkeys_signature, ca_pgpsig_t, (const char *sig_id, const char *member_id),
             ca_db_owned_new, sig_one_map, "cacert_pgp_sig", sig_id, member_id)

apr_status_t ca_pgpkeys_payload(const unsigned char **ppayload, apr_size_t *plen,
                                const ca_pgp_key_t *key, const apr_array_header_t *uids,
                                const apr_array_header_t *names,
                                const apr_array_header_t *emails, apr_pool_t *p)
{
    apr_array_header_t *buf = apr_array_make(p, (int)key->len + 1024, 1);
    const unsigned char *cut;
    apr_size_t cutlen;
    int i;

    *ppayload = NULL;
    *plen = 0;
    if (!uids->nelts || uids->nelts > 32 || names->nelts > 16) {
        return APR_EINVAL;
    }
    ca_pgp_filter(&cut, &cutlen, NULL, key, uids, NULL, p);
    if (cutlen > 65535) {
        return APR_EINVAL;
    }
    ca_tlv_add(buf, CA_TAG_PGP_KEY, cut, cutlen);
    ca_tlv_add(buf, CA_TAG_PGP_FPR, key->fpr, 20);
    for (i = 0; i < uids->nelts; i++) {
        ca_tlv_add_str(buf, CA_TAG_PGP_UID, APR_ARRAY_IDX(uids, i, const char *));
    }
    for (i = 0; i < names->nelts; i++) {
        ca_tlv_add_str(buf, CA_TAG_PGP_NAME, APR_ARRAY_IDX(names, i, const char *));
    }
    for (i = 0; i < emails->nelts; i++) {
        ca_tlv_add_str(buf, CA_TAG_PGP_EMAIL, APR_ARRAY_IDX(emails, i, const char *));
    }
    if (buf->nelts > CA_WIRE_MAX_PAYLOAD) {
        return APR_EINVAL;
    }
    *ppayload = (const unsigned char *)buf->elts;
    *plen = (apr_size_t)buf->nelts;
    return APR_SUCCESS;
}

apr_status_t ca_pgpkeys_enqueue(const char **preq_id, ca_db_t *db, const char *member_id,
                                const char *key_id, const ca_pgp_key_t *key,
                                const apr_array_header_t *uids,
                                const apr_array_header_t *names,
                                const apr_array_header_t *emails, apr_pool_t *p)
{
    const unsigned char *payload;
    apr_size_t len;
    const ca_row_t *row;
    apr_status_t rv;

    *preq_id = NULL;
    if ((rv = ca_pgpkeys_payload(&payload, &len, key, uids, names, emails, p))
        != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_pgp_enqueue",
                       CA_ARGS(member_id, ca_bytea_in(payload, len, p)), p);
    if (rv == APR_SUCCESS) {
        *preq_id = ca_col(row, "id");
        rv = ca_db_query(NULL, db, "cacert_pgp_enqueue_req",
                         CA_ARGS(*preq_id, key_id, join_lines(uids, p)), p);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_pgp_audit",
                         CA_ARGS(member_id, member_id, "openpgp.request",
                                 apr_psprintf(p, "request=%s key=%s uids=%d", *preq_id,
                                              key_id, uids->nelts)), p);
    }
    if (rv != APR_SUCCESS) {
        *preq_id = NULL;
    }
    return ca_db_end(db, rv, p);
}

static const ca_col_map_t pgpreq_map[] = {
    CA_COLS(ca_pgpreq_t, id, state, reason, key_id, sig_id),
    { NULL }
};

CA_DB_GETTER(ca_pgpkeys_request, ca_pgpreq_t, (const char *req_id, const char *member_id),
             ca_db_id_new, pgpreq_map, "cacert_pgp_request", req_id, member_id)

apr_status_t ca_pgpkeys_answer(const char **pwhy, ca_db_t *db, const char *req_id,
                               const unsigned char *ca_keyid,
                               const unsigned char *answer, apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *tlvs, *uids;
    const ca_tlv_t *kt, *tt, *ct;
    ca_pgp_key_t *key;
    const ca_row_t *row;
    const char *e, *key_id, *uids_text, *member_id, *fpr;
    int64_t expires = 0;
    int i;
    apr_status_t rv;

    *pwhy = NULL;
    if (ca_tlv_parse(&tlvs, answer, len, p) != APR_SUCCESS
        || !(kt = ca_tlv_get(tlvs, CA_TAG_PGP_KEY)) || !(tt = ca_tlv_get(tlvs, CA_TAG_TIME))
        || !(ct = ca_tlv_get(tlvs, CA_TAG_COUNT))) {
        *pwhy = "the answer is malformed";
        return APR_EINVAL;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_pgp_request_lock", CA_ARGS(req_id), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    key_id = ca_col(row, "key_id");
    uids_text = ca_col(row, "uids");
    member_id = ca_col(row, "member_id");
    fpr = ca_col(row, "fingerprint");
    uids = ca_split_lines(uids_text, p);
    if ((e = ca_pgp_parse(&key, kt->value, kt->len, p))) {
        *pwhy = apr_pstrcat(p, "the signed key does not parse: ", e, NULL);
        rv = APR_EINVAL;
        goto leave;
    }
    if (strcmp(key->fpr_hex, fpr)) {
        *pwhy = "the signed key is not the one asked for";
        rv = APR_EINVAL;
        goto leave;
    }
    if (key->uids->nelts != uids->nelts
        || (apr_int64_t)ca_tlv_uint(ct) != uids->nelts) {
        *pwhy = "the signed key does not carry exactly the chosen user IDs";
        rv = APR_EINVAL;
        goto leave;
    }
    for (i = 0; i < uids->nelts; i++) {
        int64_t x;
        if (ca_pgp_count_certs(&x, key, APR_ARRAY_IDX(uids, i, const char *), ca_keyid) != 1) {
            *pwhy = "a chosen user ID does not carry exactly one certification by the CA";
            rv = APR_EINVAL;
            goto leave;
        }
        if (!expires || (x && x < expires)) {
            expires = x;
        }
    }
    if (expires <= 0) {
        expires = (int64_t)ca_tlv_uint(tt);
    }
    rv = ca_db_query(NULL, db, "cacert_pgp_insert_sig",
                     CA_ARGS(key_id, member_id, req_id, uids_text,
                             apr_itoa(p, uids->nelts), ca_bytea_in(key->bin, key->len, p),
                             apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)expires)), p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_pgp_done",
                         CA_ARGS(ca_bytea_in(answer, len, p), req_id), p);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_pgp_audit",
                         CA_ARGS(NULL, member_id, "openpgp.signed",
                                 apr_psprintf(p, "request=%s key=%s fpr=%s uids=%d", req_id,
                                              key_id, fpr, uids->nelts)), p);
    }
leave:
    return ca_db_end(db, rv, p);
}

static const ca_col_map_t mail_map[] = {
    CA_COLS(ca_pgpmail_t, address, language, fingerprint, uids, expires, sig_id, key_id),
    { NULL }
};

CA_DB_GETTER(ca_pgpkeys_mailinfo, ca_pgpmail_t, (const char *req_id), ca_db_new_row, mail_map,
             "cacert_pgp_mailinfo", CA_ARGS(req_id))
