/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* CA keys on PKCS#11 tokens, for signerd and cacert-ca (ca_p11.h): libp11
 * logs in and gives each key as an EVP_PKEY whose operations run on the
 * token; the key's attributes are read, and new keys made, through the
 * module's own function list.  Not in libcacert: only the programs that
 * hold CA keys link it (libcacert_p11). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libp11.h>
#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>

#include "ca_log.h"
#include "ca_p11uri.h"
#include "ca_p11.h"

#define MAX_LOGINS 16

struct ca_p11_t {
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int nslots;
    void *dl;                       /* the module, for its function list */
    CK_FUNCTION_LIST_PTR f;
    PKCS11_SLOT *logged_in[MAX_LOGINS];
    int nlogins;
    const char *module;
};

apr_status_t ca_p11_open(ca_p11_t **pt, const char *module, apr_pool_t *p)
{
    ca_p11_t *t = apr_pcalloc(p, sizeof(*t));
    CK_C_GetFunctionList get;

    *pt = NULL;
    t->module = module;
    if (!(t->ctx = PKCS11_CTX_new()) || PKCS11_CTX_load(t->ctx, module) != 0) {
        ca_log(CA_LOG_ERR, "CA10701", APR_EGENERAL, "cannot load the PKCS#11 module %s",
               module);
        goto fail;
    }
    /* the module libp11 loaded (and initialised): the same copy in this
     * process, so its sessions see the login */
    if (!(t->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL))
        || !(get = (CK_C_GetFunctionList)dlsym(t->dl, "C_GetFunctionList"))
        || get(&t->f) != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA10702", APR_EGENERAL, "%s: no C_GetFunctionList", module);
        goto fail;
    }
    if (PKCS11_enumerate_slots(t->ctx, &t->slots, &t->nslots) != 0) {
        ca_log(CA_LOG_ERR, "CA10703", APR_EGENERAL, "%s: cannot list its slots", module);
        goto fail;
    }
    *pt = t;
    return APR_SUCCESS;

fail:
    ca_p11_close(t);
    return APR_EINVAL;
}

static int same(const char *want, const char *have)
{
    return !want || (have && !strcmp(want, have));
}

/* the one slot whose token the URI names */
static PKCS11_SLOT *find_slot(ca_p11_t *t, const ca_p11uri_t *u, const char *uri)
{
    PKCS11_SLOT *found = NULL;
    unsigned int i;

    for (i = 0; i < t->nslots; i++) {
        PKCS11_TOKEN *tok = t->slots[i].token;
        if (!tok || !tok->initialized || !same(u->token, tok->label)
            || !same(u->manufacturer, tok->manufacturer) || !same(u->model, tok->model)
            || !same(u->serial, tok->serialnr)) {
            continue;
        }
        if (found) {
            ca_log(CA_LOG_ERR, "CA10704", APR_SUCCESS, "%s: more than one token matches; "
                   "name it by token= and serial=", uri);
            return NULL;
        }
        found = &t->slots[i];
    }
    if (!found) {
        ca_log(CA_LOG_ERR, "CA10705", APR_SUCCESS, "%s: no such token in %s", uri,
               t->module);
    }
    return found;
}

static apr_status_t login(ca_p11_t *t, PKCS11_SLOT *slot, const char *pin)
{
    int i, in = 0;

    for (i = 0; i < t->nlogins; i++) {
        if (t->logged_in[i] == slot) {
            return APR_SUCCESS;
        }
    }
    if (t->nlogins == MAX_LOGINS) {
        ca_log(CA_LOG_ERR, "CA10706", APR_SUCCESS, "more than %d tokens", MAX_LOGINS);
        return APR_EINVAL;
    }
    if (!pin) {
        ca_log(CA_LOG_ERR, "CA10707", APR_SUCCESS, "token %s needs its PIN: give it with "
               "--passphrase-file or --passphrase-fd", slot->token->label);
        return APR_EINVAL;
    }
    if (PKCS11_is_logged_in(slot, 0, &in) != 0 || !in) {
        if (PKCS11_login(slot, 0, pin) != 0) {
            ca_log(CA_LOG_ERR, "CA10708", APR_SUCCESS, "token %s: login failed (wrong PIN, "
                   "or the PIN is locked)", slot->token->label);
            return APR_EINVAL;
        }
    }
    t->logged_in[t->nlogins++] = slot;
    return APR_SUCCESS;
}

/* the key's protection, read from the token itself: refused when it can
 * leave the token; a warning when it once could (imported, or made
 * extractable and changed later: a copy may exist outside) */
static apr_status_t check_attributes(ca_p11_t *t, PKCS11_SLOT *slot,
                                     const ca_p11uri_t *u, const char *uri)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE find[3] = { { CKA_CLASS, &cls, sizeof(cls) } };
    CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE, never = CK_FALSE, always = CK_FALSE;
    CK_ATTRIBUTE attrs[4] = {
        { CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
        { CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
        { CKA_NEVER_EXTRACTABLE, &never, sizeof(never) },
        { CKA_ALWAYS_SENSITIVE, &always, sizeof(always) },
    };
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE obj[2];
    CK_ULONG nfind = 1, n = 0;
    CK_RV r;
    apr_status_t rv = APR_EINVAL;

    if (u->object) {
        find[nfind++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)u->object, strlen(u->object) };
    }
    if (u->id) {
        find[nfind++] = (CK_ATTRIBUTE){ CKA_ID, (void *)u->id, u->id_len };
    }
    r = t->f->C_OpenSession(PKCS11_get_slotid_from_slot(slot), CKF_SERIAL_SESSION, NULL,
                            NULL, &h);
    if (r != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA10709", APR_SUCCESS, "%s: cannot open a session (0x%lx)", uri,
               (unsigned long)r);
        return APR_EINVAL;
    }
    if ((r = t->f->C_FindObjectsInit(h, find, nfind)) == CKR_OK) {
        r = t->f->C_FindObjects(h, obj, 2, &n);
        t->f->C_FindObjectsFinal(h);
    }
    if (r != CKR_OK || n != 1) {
        ca_log(CA_LOG_ERR, "CA10710", APR_SUCCESS, "%s: %s", uri,
               r != CKR_OK ? "cannot search the token" : n ? "names more than one private key"
                                                           : "no such private key on the token");
        goto leave;
    }
    if ((r = t->f->C_GetAttributeValue(h, obj[0], attrs, 4)) != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA10711", APR_SUCCESS, "%s: cannot read the key's attributes "
               "(0x%lx)", uri, (unsigned long)r);
        goto leave;
    }
    if (extractable || !sensitive) {
        ca_log(CA_LOG_ERR, "CA10712", APR_SUCCESS, "%s: the key is %s: it could leave the "
               "token, so it is not used (make it anew on the token with "
               "CKA_EXTRACTABLE false and CKA_SENSITIVE true; docs/key-ceremony.md)", uri,
               extractable && !sensitive ? "extractable and not sensitive"
               : extractable ? "extractable" : "not sensitive");
        goto leave;
    }
    if (!never || !always) {
        ca_log(CA_LOG_WARN, "CA10713", APR_SUCCESS, "%s: the key was not always kept on the "
               "token (%s): a copy may exist outside it", uri,
               !never ? "it was extractable once, or imported" : "it was not always sensitive");
    }
    rv = APR_SUCCESS;
leave:
    t->f->C_CloseSession(h);
    return rv;
}

EVP_PKEY *ca_p11_key(ca_p11_t *t, const char *uri, const char *pin,
                            apr_pool_t *p)
{
    PKCS11_KEY *keys = NULL, *key = NULL;
    unsigned int nkeys = 0, i;
    PKCS11_SLOT *slot;
    ca_p11uri_t u;
    const char *why;
    EVP_PKEY *pk;

    if ((why = ca_p11uri_parse(&u, uri, p))) {
        ca_log(CA_LOG_ERR, "CA10714", APR_SUCCESS, "%s: %s", uri, why);
        return NULL;
    }
    if (!(slot = find_slot(t, &u, uri)) || login(t, slot, pin) != APR_SUCCESS
        || check_attributes(t, slot, &u, uri) != APR_SUCCESS) {
        return NULL;
    }
    if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0) {
        ca_log(CA_LOG_ERR, "CA10715", APR_SUCCESS, "%s: cannot list the token's keys", uri);
        return NULL;
    }
    for (i = 0; i < nkeys; i++) {
        if (same(u.object, keys[i].label)
            && (!u.id || (keys[i].id_len == u.id_len
                          && !memcmp(keys[i].id, u.id, u.id_len)))) {
            key = &keys[i];
            break;
        }
    }
    if (!key || !(pk = PKCS11_get_private_key(key))) {
        ca_log(CA_LOG_ERR, "CA10716", APR_SUCCESS, "%s: the key cannot be used", uri);
        return NULL;
    }
    return pk;
}

/* the token named by its label, logged in */
static PKCS11_SLOT *token_slot(ca_p11_t *t, const char *label, const char *pin, apr_pool_t *p)
{
    ca_p11uri_t u;
    PKCS11_SLOT *slot;

    memset(&u, 0, sizeof(u));
    u.token = label;
    if (!(slot = find_slot(t, &u, apr_pstrcat(p, "token ", label, NULL)))
        || login(t, slot, pin) != APR_SUCCESS) {
        return NULL;
    }
    return slot;
}

/* %-escapes a label or id for a URI (RFC 7512: unreserved characters stay) */
static const char *escape(const unsigned char *v, apr_size_t n, int all, apr_pool_t *p)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, 3 * n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = v[i];
        if (!all && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                     || c == '-' || c == '.' || c == '_' || c == '~')) {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

apr_status_t ca_p11_generate(const char **puri, ca_p11_t *t, const char *token,
                             const char *label, const char *key_type, const char *pin,
                             apr_pool_t *p)
{
    static CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
    static CK_BYTE p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
    static CK_BYTE f4[] = { 0x01, 0x00, 0x01 };
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ULONG bits = 0, npub = 0, nfound = 0;
    CK_BYTE id[8];
    CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
    CK_ATTRIBUTE pub[6], priv[9], find[2];
    CK_OBJECT_HANDLE hpub, hpriv, found;
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    PKCS11_SLOT *slot;
    CK_RV r;
    apr_status_t rv = APR_EGENERAL;

    *puri = NULL;
    if (!strcmp(key_type, "ec:P-256") || !strcmp(key_type, "ec:P-384")) {
        int big = !strcmp(key_type, "ec:P-384");
        pub[npub++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, big ? p384 : p256,
                                      big ? sizeof(p384) : sizeof(p256) };
    }
    else if (!strncmp(key_type, "rsa:", 4)
             && ((bits = strtoul(key_type + 4, NULL, 10)) == 2048 || bits == 3072
                 || bits == 4096)) {
        mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        pub[npub++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
        pub[npub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, f4, sizeof(f4) };
    }
    else {
        ca_log(CA_LOG_ERR, "CA10718", APR_SUCCESS, "key type %s cannot be made on a token",
               key_type);
        return APR_EINVAL;
    }
    if (!(slot = token_slot(t, token, pin, p))) {
        return APR_EINVAL;
    }
    if (RAND_bytes(id, sizeof(id)) != 1) {
        return APR_EGENERAL;
    }
    pub[npub++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
    pub[npub++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof(yes) };
    pub[npub++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    pub[npub++] = (CK_ATTRIBUTE){ CKA_ID, id, sizeof(id) };
    /* the private key never leaves the token and only signs */
    priv[0] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
    priv[1] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof(yes) };
    priv[2] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof(yes) };
    priv[3] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &no, sizeof(no) };
    priv[4] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof(yes) };
    priv[5] = (CK_ATTRIBUTE){ CKA_DECRYPT, &no, sizeof(no) };
    priv[6] = (CK_ATTRIBUTE){ CKA_UNWRAP, &no, sizeof(no) };
    priv[7] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    priv[8] = (CK_ATTRIBUTE){ CKA_ID, id, sizeof(id) };
    find[0] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
    find[1] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
    r = t->f->C_OpenSession(PKCS11_get_slotid_from_slot(slot),
                            CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
    if (r != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA10719", APR_SUCCESS, "token %s: cannot open a session (0x%lx)",
               token, (unsigned long)r);
        return APR_EGENERAL;
    }
    if ((r = t->f->C_FindObjectsInit(h, find, 2)) == CKR_OK) {
        r = t->f->C_FindObjects(h, &found, 1, &nfound);
        t->f->C_FindObjectsFinal(h);
    }
    if (r != CKR_OK || nfound) {
        ca_log(CA_LOG_ERR, "CA10720", APR_SUCCESS, "token %s: %s %s", token,
               r != CKR_OK ? "cannot search for" : "has a private key labelled already:",
               label);
        rv = nfound ? APR_EEXIST : APR_EGENERAL;
        goto leave;
    }
    r = t->f->C_GenerateKeyPair(h, &mech, pub, npub, priv, 9, &hpub, &hpriv);
    if (r != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA10721", APR_SUCCESS, "token %s: cannot make the %s key %s "
               "(0x%lx)", token, key_type, label, (unsigned long)r);
        goto leave;
    }
    *puri = apr_psprintf(p, "pkcs11:token=%s;object=%s;id=%s;type=private",
                         escape((const unsigned char *)token, strlen(token), 0, p),
                         escape((const unsigned char *)label, strlen(label), 0, p),
                         escape(id, sizeof(id), 1, p));
    rv = APR_SUCCESS;
leave:
    t->f->C_CloseSession(h);
    return rv;
}

void ca_p11_close(ca_p11_t *t)
{
    int i;

    if (!t) {
        return;
    }
    for (i = 0; i < t->nlogins; i++) {
        PKCS11_logout(t->logged_in[i]);
    }
    if (t->nlogins) {
        ca_log(CA_LOG_NOTICE, "CA10717", APR_SUCCESS, "logged out of %d token%s", t->nlogins,
               t->nlogins == 1 ? "" : "s");
    }
    t->nlogins = 0;
    if (t->slots) {
        PKCS11_release_all_slots(t->ctx, t->slots, t->nslots);
        t->slots = NULL;
    }
    if (t->ctx) {
        PKCS11_CTX_unload(t->ctx);
        PKCS11_CTX_free(t->ctx);
        t->ctx = NULL;
    }
    if (t->dl) {
        dlclose(t->dl);
        t->dl = NULL;
    }
}
