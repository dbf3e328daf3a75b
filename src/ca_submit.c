/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The one way into issuance (see ca_submit.h). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/x509v3.h>

#include "ca_submit.h"
#include "ca_account.h"
#include "ca_form.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_org.h"
#include "ca_valid.h"
#include "ca_wire.h"

const ca_stmt_t ca_submit_stmts[] = {
    /* requests for one key wait for each other: the check below and the
     * insert are one step for every key, whoever asks */
    { "cacert_sub_key_lock",
      "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7366325))" },
    /* a key is another member's once a certificate of theirs or a request
     * of theirs still on its way carries it */
    { "cacert_sub_key_used",
      "SELECT 1 AS used FROM certificates WHERE spki_sha256 = %s AND member_id <> %s::bigint"
      " UNION ALL SELECT 1 FROM signer_requests WHERE spki_sha256 = %s AND kind = 'sign'"
      " AND state IN ('queued', 'sent') AND member_id <> %s::bigint LIMIT 1" },
    { "cacert_sub_member",
      "SELECT given_name, middle_name, family_name, suffix FROM members"
      " WHERE id = %s::bigint" },
    { "cacert_sub_enqueue",
      "INSERT INTO signer_requests (kind, member_id, organisation_id, ca, profile, csr_der,"
      " description, payload, spki_sha256) VALUES ('sign', %s::bigint, %s::bigint, %s, %s,"
      " %s::bytea, %s, %s::bytea, %s) RETURNING id" },
    { "cacert_sub_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { NULL, NULL }
};

/* one request on its way through the decision */
typedef struct {
    ca_db_t *db;
    const char *member_id;
    const ca_submit_t *ask;
    const ca_submit_cfg_t *cfg;
    ca_refusal_t *refusal;
    ca_profile_t profile;
    const char *md, *description, *org_id;
    ca_cert_choice_t choice;            /* NEW, RENEW */
    const char *org[5];                 /* ORG: O, OU, L, ST, C */
    ca_csr_t *csr;
    const char *csr_error;              /* ORG: told after the names */
    ca_grant_t grant;
    ca_cert_names_t names;
    apr_pool_t *p;
} submit_t;

static void refuse(submit_t *s, const char *field, const char *key)
{
    s->refusal->field = field;
    s->refusal->key = key;
}

const char *ca_issue_description(const char **pdesc, const char *text, apr_pool_t *p)
{
    const char *d = ca_trim(text ? text : "", p);

    if (ca_utf8_len(d, strlen(d)) > CA_ISSUE_DESCRIPTION_MAX) {
        return "field.toolong";
    }
    *pdesc = d;
    return NULL;
}

/* the field a refusal of ca_policy_names concerns */
static const char *names_field(const char *key)
{
    if (!strncmp(key, "policy.host", 11) || !strcmp(key, "policy.wildcard")
        || !strcmp(key, "policy.server.names")) {
        return "hosts";
    }
    if (!strncmp(key, "policy.email", 12) || !strncmp(key, "policy.name", 11)) {
        return "emails";
    }
    return !strcmp(key, "policy.md") ? "md" : "profile";
}

static const char *full_name(const ca_row_t *m, apr_pool_t *p)
{
    const char *n = ca_col(m, "given_name"), *x;

    if ((x = ca_col(m, "middle_name")) && *x) {
        n = apr_pstrcat(p, n, " ", x, NULL);
    }
    n = apr_pstrcat(p, n, " ", ca_col(m, "family_name"), NULL);
    if ((x = ca_col(m, "suffix")) && *x) {
        n = apr_pstrcat(p, n, " ", x, NULL);
    }
    return n;
}

/* a host was not in a domain verified enough for the root: when it lies
 * in one of the member's domains that passed a check, just not as many as
 * this root needs (the Assured SubRoot's two methods), the refusal says
 * which domain */
static apr_status_t more_checks(submit_t *s, const ca_member_facts_t *facts)
{
    const apr_array_header_t *hosts = s->choice.hosts;
    apr_array_header_t *list;
    const ca_domain_t *d;
    const char *h = NULL, *dom;
    apr_status_t rv;
    int i;

    for (i = 0; hosts && i < hosts->nelts; i++) {
        const char *c = APR_ARRAY_IDX(hosts, i, const char *);
        if (ca_host_in_domains(&dom, c, facts->domains) && !dom) {
            h = c;
            break;
        }
    }
    if (!h || !s->grant.ca) {
        return APR_SUCCESS;
    }
    if ((rv = ca_domain_list(&list, s->db, s->member_id, s->p)) != APR_SUCCESS) {
        return rv;
    }
    d = ca_domain_short_of(list, h, ca_domain_rule(s->cfg->domains, s->grant.ca));
    if (d) {
        s->refusal->key = "policy.host.morechecks";
        s->refusal->domain_id = d->id;
        s->refusal->domain_name = d->name;
    }
    return APR_SUCCESS;
}

/* a member's certificate: what their standing grants for the profile, the
 * names from what they have verified under that root */
static apr_status_t member_names(submit_t *s)
{
    ca_member_facts_t facts;
    ca_standing_t st;
    const ca_row_t *m;
    const char *e;
    apr_status_t rv;
    int i;

    memset(&facts, 0, sizeof(facts));
    if ((rv = ca_account_standing(&st, s->db, s->member_id, s->p)) != APR_SUCCESS
        || (rv = ca_db_row(&m, s->db, "cacert_sub_member", CA_ARGS(s->member_id), s->p))
           != APR_SUCCESS) {
        return rv;
    }
    ca_policy_grant(&s->grant, &st, s->profile, &s->cfg->policy);
    if ((s->grant.ca || s->ask->kind == CA_SUBMIT_RENEW)
        && (rv = ca_issue_facts_for(&facts, s->db, s->member_id, s->grant.ca,
                                    s->cfg->domains, s->p)) != APR_SUCCESS) {
        return rv;
    }
    if (s->ask->kind == CA_SUBMIT_NEW && s->ask->proven && s->ask->proven->nelts) {
        apr_array_header_t *d = facts.domains ? apr_array_copy(s->p, facts.domains)
                                              : apr_array_make(s->p, 4, sizeof(const char *));
        apr_array_cat(d, s->ask->proven);
        facts.domains = d;
    }
    facts.name = full_name(m, s->p);
    if (s->ask->kind == CA_SUBMIT_NEW && s->ask->picks && facts.emails) {
        apr_array_header_t *emails = apr_array_make(s->p, 4, sizeof(const char *));
        for (i = 0; i < s->ask->picks->nelts; i++) {
            int k = APR_ARRAY_IDX(s->ask->picks, i, int);
            if (k >= 0 && k < facts.emails->nelts) {
                APR_ARRAY_PUSH(emails, const char *) =
                    APR_ARRAY_IDX(facts.emails, k, const char *);
            }
        }
        s->choice.emails = emails;
    }
    if (!(e = ca_policy_names(&s->names, &s->grant, &s->choice, &facts, s->p))) {
        return APR_SUCCESS;
    }
    refuse(s, s->ask->kind == CA_SUBMIT_RENEW ? NULL : names_field(e), e);
    if (!strcmp(e, "policy.host.unverified") && s->ask->kind == CA_SUBMIT_NEW) {
        return more_checks(s, &facts);
    }
    return APR_SUCCESS;
}

/* an organisation's certificate: the O-Admin still one and still an
 * Assurer (APR_EACCES), the names within the organisation's domains */
static apr_status_t org_names(submit_t *s)
{
    ca_org_facts_t facts;
    ca_org_choice_t choice;
    const char *e;
    apr_status_t rv;

    if ((rv = ca_org_requester_check(s->db, s->org_id, s->member_id, s->p)) != APR_SUCCESS
        || (rv = ca_org_facts(&facts, s->db, s->org_id, s->p)) != APR_SUCCESS) {
        return rv == APR_NOTFOUND ? APR_EACCES : rv;
    }
    memset(&choice, 0, sizeof(choice));
    choice.profile = s->profile;
    choice.unit = ca_trim(s->ask->unit, s->p);
    choice.cn = ca_trim(s->ask->cn, s->p);
    choice.emails = s->ask->emails;
    choice.hosts = s->ask->hosts;
    choice.md = s->md;
    ca_policy_org_grant(&s->grant, s->profile, &s->cfg->policy);
    if ((e = ca_policy_org_names(&s->names, s->org, &s->grant, &choice, &facts, s->p))) {
        refuse(s, NULL, e);
    }
    else if (s->csr_error) {
        refuse(s, NULL, s->csr_error);
    }
    return APR_SUCCESS;
}

/* the names of a certificate to renew, as it carries them */
static apr_status_t renewed_choice(submit_t *s)
{
    ca_cert_t *c;
    const unsigned char *d;
    GENERAL_NAMES *gens;
    apr_array_header_t *emails, *hosts;
    X509_NAME *sn;
    unsigned char *cn = NULL;
    X509 *x;
    apr_status_t rv;
    int i, idx;

    if ((rv = ca_issue_cert(&c, s->db, s->ask->cert_id, s->member_id, s->p)) != APR_SUCCESS) {
        return rv;
    }
    d = c->der;
    if (!(x = d2i_X509(NULL, &d, (long)c->der_len))) {
        ca_log(CA_LOG_ERR, "CA21301", APR_EGENERAL, "certificate %s: the stored DER does "
               "not parse", c->id);
        return APR_EGENERAL;
    }
    s->profile = ca_profile_from_name(c->profile);
    s->md = c->md;
    s->description = c->description;
    emails = apr_array_make(s->p, 4, sizeof(const char *));
    hosts = apr_array_make(s->p, 4, sizeof(const char *));
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_EMAIL || g->type == GEN_DNS) {
            const char *v = apr_pstrmemdup(s->p, (const char *)ASN1_STRING_get0_data(g->d.ia5),
                                           (apr_size_t)ASN1_STRING_length(g->d.ia5));
            APR_ARRAY_PUSH(g->type == GEN_EMAIL ? emails : hosts, const char *) = v;
        }
    }
    GENERAL_NAMES_free(gens);
    sn = X509_get_subject_name(x);
    idx = X509_NAME_get_index_by_NID(sn, NID_commonName, -1);
    if (idx >= 0 && ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(
                                            X509_NAME_get_entry(sn, idx))) >= 0) {
        s->choice.use_name = s->profile != CA_PROFILE_SERVER
                             && strcmp((const char *)cn, CA_ANON_CN) != 0;
    }
    OPENSSL_free(cn);
    X509_free(x);
    s->choice.emails = emails;
    s->choice.hosts = hosts;
    if ((s->csr_error = ca_csr_parse(&s->csr, (const char *)c->csr_der, c->csr_len,
                                     s->cfg->weak, s->p))) {
        refuse(s, NULL, s->csr_error);
    }
    return APR_SUCCESS;
}

/* what signerd is asked to sign: the TLVs of protocol section 4 */
static const unsigned char *sign_payload(apr_size_t *plen, const submit_t *s)
{
    static const uint8_t org_tags[5] = { CA_TAG_ORG_O, CA_TAG_ORG_OU, CA_TAG_ORG_L,
                                         CA_TAG_ORG_ST, CA_TAG_ORG_C };
    apr_array_header_t *buf = apr_array_make(s->p, 1024, 1);
    unsigned char days[2];
    int i;

    ca_tlv_add_str(buf, CA_TAG_CA, s->grant.ca);
    ca_tlv_add_str(buf, CA_TAG_PROFILE, ca_profile_name(s->profile));
    if (s->names.cn) {
        ca_tlv_add_str(buf, CA_TAG_CN, s->names.cn);
    }
    if (s->names.email) {
        ca_tlv_add_str(buf, CA_TAG_EMAIL, s->names.email);
    }
    for (i = 0; s->org_id && i < 5; i++) {
        if (s->org[i] && *s->org[i]) {
            ca_tlv_add_str(buf, org_tags[i], s->org[i]);
        }
    }
    for (i = 0; i < s->names.sans->nelts; i++) {
        const ca_san_t *san = &APR_ARRAY_IDX(s->names.sans, i, ca_san_t);
        ca_tlv_add_str(buf, san->type == CA_SAN_EMAIL ? CA_TAG_SAN_EMAIL : CA_TAG_SAN_DNS,
                       san->value);
    }
    ca_tlv_add(buf, CA_TAG_SPKI, s->csr->spki, s->csr->spki_len);
    days[0] = (unsigned char)(s->grant.days >> 8);
    days[1] = (unsigned char)(s->grant.days & 0xff);
    ca_tlv_add(buf, CA_TAG_DAYS, days, 2);
    ca_tlv_add_str(buf, CA_TAG_MD, s->md);
    *plen = (apr_size_t)buf->nelts;
    return (const unsigned char *)buf->elts;
}

static apr_status_t enqueue(const char **preq_id, submit_t *s)
{
    const unsigned char *payload;
    const ca_row_t *row;
    apr_size_t len;
    apr_status_t rv;

    payload = sign_payload(&len, s);
    rv = ca_db_row(&row, s->db, "cacert_sub_enqueue",
                   CA_ARGS(s->member_id, s->org_id, s->grant.ca, ca_profile_name(s->profile),
                           ca_bytea_in(s->csr->der, s->csr->der_len, s->p), s->description,
                           ca_bytea_in(payload, len, s->p), s->csr->spki_sha256), s->p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *preq_id = ca_col(row, "id");
    return ca_db_query(NULL, s->db, "cacert_sub_audit",
                       CA_ARGS(s->member_id, s->member_id, "cert.request",
                               apr_pstrcat(s->p, "request=", *preq_id, " ca=", s->grant.ca,
                                           " profile=", ca_profile_name(s->profile),
                                           s->org_id ? " org=" : "", s->org_id, NULL)), s->p);
}

/* the part before the transaction: what the request says by itself */
static void read_ask(submit_t *s)
{
    const ca_submit_t *ask = s->ask;

    s->md = ask->md && *ask->md ? ask->md : "sha256";
    s->profile = ask->profile;
    s->description = "";
    s->choice.md = s->md;
    s->choice.use_name = ask->use_name;
    s->choice.hosts = ask->hosts;
    if (ask->kind == CA_SUBMIT_ORG) {
        s->org_id = ask->org_id;
        /* an organisation's CSR is judged after its names */
        s->csr_error = ca_csr_parse(&s->csr, ask->csr, ask->csr_len, s->cfg->weak, s->p);
        return;
    }
    if (!s->profile || s->profile == CA_PROFILE_ORG_CLIENT
        || s->profile == CA_PROFILE_ORG_SERVER) {
        refuse(s, "profile", "policy.profile");
        return;
    }
    if ((s->csr_error = ca_csr_parse(&s->csr, ask->csr, ask->csr_len, s->cfg->weak, s->p))) {
        refuse(s, "csr", s->csr_error);
    }
}

apr_status_t ca_issue_submit(const char **preq_id, ca_refusal_t *refusal, ca_db_t *db,
                             const char *member_id, const ca_submit_t *ask,
                             const ca_submit_cfg_t *cfg, apr_pool_t *p)
{
    submit_t s = { .db = db, .member_id = member_id, .ask = ask, .cfg = cfg,
                   .refusal = refusal, .p = p, .choice.profile = ask->profile };
    const ca_row_t *row;
    apr_status_t rv;

    *preq_id = NULL;
    memset(refusal, 0, sizeof(*refusal));
    if (ask->kind != CA_SUBMIT_RENEW) {
        read_ask(&s);
        s.choice.profile = s.profile;
        if (refusal->key) {
            return APR_SUCCESS;
        }
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if (ask->kind == CA_SUBMIT_RENEW) {
        rv = renewed_choice(&s);
        s.choice.profile = s.profile;
        s.choice.md = s.md;
    }
    /* the key's lock first: a second request for the same key waits here
     * until the first is queued (or refused), then sees it */
    if (rv == APR_SUCCESS && !refusal->key && s.csr) {
        rv = ca_db_row(&row, db, "cacert_sub_key_lock", CA_ARGS(s.csr->spki_sha256), p);
    }
    if (rv == APR_SUCCESS && !refusal->key) {
        rv = ask->kind == CA_SUBMIT_ORG ? org_names(&s) : member_names(&s);
    }
    if (rv == APR_SUCCESS && !refusal->key) {
        const char *k = s.csr->spki_sha256;
        rv = ca_db_row(&row, db, "cacert_sub_key_used", CA_ARGS(k, member_id, k, member_id), p);
        if (rv == APR_SUCCESS) {
            refuse(&s, ask->kind == CA_SUBMIT_NEW ? "csr" : NULL, "csr.keyused");
        }
        rv = rv == APR_NOTFOUND ? APR_SUCCESS : rv;
    }
    if (rv == APR_SUCCESS && !refusal->key) {
        const char *e = ca_issue_description(&s.description, ask->kind == CA_SUBMIT_NEW
                                                             ? ask->description
                                                             : s.description, p);
        if (e) {
            refuse(&s, "description", e);
        }
    }
    if (rv == APR_SUCCESS && !refusal->key) {
        rv = enqueue(preq_id, &s);
    }
    if (rv == APR_SUCCESS && !refusal->key && ask->queued) {
        rv = ask->queued(db, *preq_id, ask->queued_baton, p);
    }
    if (rv != APR_SUCCESS || refusal->key) {
        *preq_id = NULL;
        ca_db_rollback(db, p);
        return rv;
    }
    if ((rv = ca_db_commit(db, p)) != APR_SUCCESS) {
        *preq_id = NULL;
    }
    return rv;
}
