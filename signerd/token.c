/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* signerd's CA keys on PKCS#11 tokens: libp11 logs in and gives each key
 * as an EVP_PKEY whose operations run on the token; the key's attributes
 * are read through the module's own function list, so that a key that can
 * leave the token (extractable, or not sensitive) is refused before
 * anything is signed with it.  See docs/signerd.md ("Keys on a PKCS#11
 * token") and ca_p11uri.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <string.h>

#include <apr_strings.h>
#include <libp11.h>
#include <p11-kit/pkcs11.h>

#include "ca_log.h"
#include "ca_p11uri.h"
#include "signerd.h"

#define MAX_LOGINS 16

struct signerd_token_t {
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned int nslots;
    void *dl;                       /* the module, for its function list */
    CK_FUNCTION_LIST_PTR f;
    PKCS11_SLOT *logged_in[MAX_LOGINS];
    int nlogins;
    const char *module;
};

apr_status_t signerd_token_open(signerd_token_t **pt, const char *module, apr_pool_t *p)
{
    signerd_token_t *t = apr_pcalloc(p, sizeof(*t));
    CK_C_GetFunctionList get;

    *pt = NULL;
    t->module = module;
    if (!(t->ctx = PKCS11_CTX_new()) || PKCS11_CTX_load(t->ctx, module) != 0) {
        ca_log(CA_LOG_ERR, "CA61501", APR_EGENERAL, "cannot load the PKCS#11 module %s",
               module);
        goto fail;
    }
    /* the module libp11 loaded (and initialised): the same copy in this
     * process, so its sessions see the login */
    if (!(t->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL))
        || !(get = (CK_C_GetFunctionList)dlsym(t->dl, "C_GetFunctionList"))
        || get(&t->f) != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA61502", APR_EGENERAL, "%s: no C_GetFunctionList", module);
        goto fail;
    }
    if (PKCS11_enumerate_slots(t->ctx, &t->slots, &t->nslots) != 0) {
        ca_log(CA_LOG_ERR, "CA61503", APR_EGENERAL, "%s: cannot list its slots", module);
        goto fail;
    }
    *pt = t;
    return APR_SUCCESS;

fail:
    signerd_token_close(t);
    return APR_EINVAL;
}

static int same(const char *want, const char *have)
{
    return !want || (have && !strcmp(want, have));
}

/* the one slot whose token the URI names */
static PKCS11_SLOT *find_slot(signerd_token_t *t, const ca_p11uri_t *u, const char *uri)
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
            ca_log(CA_LOG_ERR, "CA61504", APR_SUCCESS, "%s: more than one token matches; "
                   "name it by token= and serial=", uri);
            return NULL;
        }
        found = &t->slots[i];
    }
    if (!found) {
        ca_log(CA_LOG_ERR, "CA61505", APR_SUCCESS, "%s: no such token in %s", uri,
               t->module);
    }
    return found;
}

static apr_status_t login(signerd_token_t *t, PKCS11_SLOT *slot, const char *pin)
{
    int i, in = 0;

    for (i = 0; i < t->nlogins; i++) {
        if (t->logged_in[i] == slot) {
            return APR_SUCCESS;
        }
    }
    if (t->nlogins == MAX_LOGINS) {
        ca_log(CA_LOG_ERR, "CA61506", APR_SUCCESS, "more than %d tokens", MAX_LOGINS);
        return APR_EINVAL;
    }
    if (!pin) {
        ca_log(CA_LOG_ERR, "CA61507", APR_SUCCESS, "token %s needs its PIN: give it with "
               "--passphrase-file or --passphrase-fd", slot->token->label);
        return APR_EINVAL;
    }
    if (PKCS11_is_logged_in(slot, 0, &in) != 0 || !in) {
        if (PKCS11_login(slot, 0, pin) != 0) {
            ca_log(CA_LOG_ERR, "CA61508", APR_SUCCESS, "token %s: login failed (wrong PIN, "
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
static apr_status_t check_attributes(signerd_token_t *t, PKCS11_SLOT *slot,
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
        ca_log(CA_LOG_ERR, "CA61509", APR_SUCCESS, "%s: cannot open a session (0x%lx)", uri,
               (unsigned long)r);
        return APR_EINVAL;
    }
    if ((r = t->f->C_FindObjectsInit(h, find, nfind)) == CKR_OK) {
        r = t->f->C_FindObjects(h, obj, 2, &n);
        t->f->C_FindObjectsFinal(h);
    }
    if (r != CKR_OK || n != 1) {
        ca_log(CA_LOG_ERR, "CA61510", APR_SUCCESS, "%s: %s", uri,
               r != CKR_OK ? "cannot search the token" : n ? "names more than one private key"
                                                           : "no such private key on the token");
        goto leave;
    }
    if ((r = t->f->C_GetAttributeValue(h, obj[0], attrs, 4)) != CKR_OK) {
        ca_log(CA_LOG_ERR, "CA61511", APR_SUCCESS, "%s: cannot read the key's attributes "
               "(0x%lx)", uri, (unsigned long)r);
        goto leave;
    }
    if (extractable || !sensitive) {
        ca_log(CA_LOG_ERR, "CA61512", APR_SUCCESS, "%s: the key is %s: it could leave the "
               "token, so signerd does not use it (make it anew on the token with "
               "CKA_EXTRACTABLE false and CKA_SENSITIVE true; docs/key-ceremony.md)", uri,
               extractable && !sensitive ? "extractable and not sensitive"
               : extractable ? "extractable" : "not sensitive");
        goto leave;
    }
    if (!never || !always) {
        ca_log(CA_LOG_WARN, "CA61513", APR_SUCCESS, "%s: the key was not always kept on the "
               "token (%s): a copy may exist outside it", uri,
               !never ? "it was extractable once, or imported" : "it was not always sensitive");
    }
    rv = APR_SUCCESS;
leave:
    t->f->C_CloseSession(h);
    return rv;
}

EVP_PKEY *signerd_token_key(signerd_token_t *t, const char *uri, const char *pin,
                            apr_pool_t *p)
{
    PKCS11_KEY *keys = NULL, *key = NULL;
    unsigned int nkeys = 0, i;
    PKCS11_SLOT *slot;
    ca_p11uri_t u;
    const char *why;
    EVP_PKEY *pk;

    if ((why = ca_p11uri_parse(&u, uri, p))) {
        ca_log(CA_LOG_ERR, "CA61514", APR_SUCCESS, "%s: %s", uri, why);
        return NULL;
    }
    if (!(slot = find_slot(t, &u, uri)) || login(t, slot, pin) != APR_SUCCESS
        || check_attributes(t, slot, &u, uri) != APR_SUCCESS) {
        return NULL;
    }
    if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0) {
        ca_log(CA_LOG_ERR, "CA61515", APR_SUCCESS, "%s: cannot list the token's keys", uri);
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
        ca_log(CA_LOG_ERR, "CA61516", APR_SUCCESS, "%s: the key cannot be used", uri);
        return NULL;
    }
    return pk;
}

void signerd_token_close(signerd_token_t *t)
{
    int i;

    if (!t) {
        return;
    }
    for (i = 0; i < t->nlogins; i++) {
        PKCS11_logout(t->logged_in[i]);
    }
    if (t->nlogins) {
        ca_log(CA_LOG_NOTICE, "CA61517", APR_SUCCESS, "logged out of %d token%s", t->nlogins,
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
