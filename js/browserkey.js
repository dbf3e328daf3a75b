// Copyright 2026 The cacert-httpd authors
// SPDX-License-Identifier: Apache-2.0
//
// The in-browser key page (/certs/key, docs/browser-keys.md).  Two modes,
// chosen by the page (data-mode on #bk):
//
//   request  the request form: WebCrypto makes the key pair, pkijs builds and
//            signs the PKCS#10 request, the key pair goes into IndexedDB and
//            the PEM request is posted through the ordinary form field "csr"
//            (the same form and the same core call as a pasted request);
//   p12      an issued certificate (its chain is in the page): the key that
//            belongs to it is looked up in IndexedDB by its public key, and a
//            password-protected PKCS#12 is assembled here and offered as a
//            download; afterwards the key can be deleted from the browser.
//
// The private key is never sent anywhere.  Every text a person reads comes
// from the page (templates/*/certs_key.html), never from this file.
import * as asn1js from "asn1js";
import {
    AttributeTypeAndValue, Attribute, AuthenticatedSafe, CertBag, Certificate,
    CertificationRequest, PFX, PKCS8ShroudedKeyBag, PrivateKeyInfo, SafeBag,
    SafeContents,
} from "pkijs";
// the "legacy" file only: the key encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC
// (PKCS#12 PBE), which WebCrypto and pkijs cannot do (docs/browser-keys.md)
import forge from "node-forge/lib/forge";
import "node-forge/lib/asn1";
import "node-forge/lib/des";
import "node-forge/lib/pbe";

const DB_NAME = "cacert-keys";
const STORE = "keys";
// PBKDF2 and the PKCS#12 MAC: iterations (docs/browser-keys.md); the legacy
// file has OpenSSL's historical count
const ITER_MODERN = 100000;
const ITER_LEGACY = 2048;

function binToBytes(s) {
    const u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return u.buffer;
}

function bytesToBin(buf) {
    let s = "";
    const u = new Uint8Array(buf);
    for (let i = 0; i < u.length; i += 0x8000) {
        s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
    }
    return s;
}

// EncryptedPrivateKeyInfo (DER) of a PKCS#8 key with Triple-DES and the
// PKCS#12 key derivation (SHA-1), as old Windows, macOS and Android read it
function legacyShroud(pkcs8, password) {
    const info = forge.asn1.fromDer(forge.util.createBuffer(bytesToBin(pkcs8)));
    const enc = forge.pki.encryptPrivateKeyInfo(info, password,
                                                { algorithm: "3des", count: ITER_LEGACY,
                                                  saltSize: 8 });
    return binToBytes(forge.asn1.toDer(enc).getBytes());
}

// ---- IndexedDB ----------------------------------------------------------

function openDb() {
    return new Promise((resolve, reject) => {
        const rq = indexedDB.open(DB_NAME, 1);
        rq.onupgradeneeded = () => rq.result.createObjectStore(STORE, { keyPath: "id" });
        rq.onsuccess = () => resolve(rq.result);
        rq.onerror = () => reject(rq.error);
    });
}

async function dbDo(mode, fn) {
    const db = await openDb();
    try {
        return await new Promise((resolve, reject) => {
            const tx = db.transaction(STORE, mode);
            const rq = fn(tx.objectStore(STORE));
            tx.oncomplete = () => resolve(rq ? rq.result : undefined);
            tx.onerror = () => reject(tx.error);
            tx.onabort = () => reject(tx.error);
        });
    } finally {
        db.close();
    }
}

const dbPut = (rec) => dbDo("readwrite", (s) => s.put(rec));
const dbGet = (id) => dbDo("readonly", (s) => s.get(id));
const dbDel = (id) => dbDo("readwrite", (s) => s.delete(id));

// ---- helpers ------------------------------------------------------------

function hex(buf) {
    return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

function b64(buf) {
    return btoa(bytesToBin(buf));
}

function pem(label, der) {
    const lines = b64(der).match(/.{1,64}/g).join("\n");
    return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

function unpem(text) {
    const out = [];
    const re = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g;
    let m;
    while ((m = re.exec(text)) !== null) {
        const bin = atob(m[1].replace(/\s+/g, ""));
        const u = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
        out.push(u.buffer);
    }
    return out;
}

// the name a key is stored under: SHA-256 of its SubjectPublicKeyInfo
async function keyId(spki) {
    return hex(await crypto.subtle.digest("SHA-256", spki));
}

const $ = (id) => document.getElementById(id);

function msg(name) {
    const el = document.querySelector(`#bk-msgs [data-msg="${name}"]`);
    return el ? el.textContent : name;
}

function say(el, name, cls) {
    el.textContent = msg(name);
    el.className = cls || "";
    el.hidden = false;
}

// ---- mode "request" -----------------------------------------------------

const KEY_TYPES = {
    "p256": { name: "ECDSA", namedCurve: "P-256" },
    "rsa2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048,
                 publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    "rsa3072": { name: "RSASSA-PKCS1-v1_5", modulusLength: 3072,
                 publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
};

async function makeRequest(type) {
    const alg = KEY_TYPES[type] || KEY_TYPES.p256;
    // extractable: the key has to go into the PKCS#12 later; it stays in
    // this browser's IndexedDB until then
    const pair = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
    const csr = new CertificationRequest();
    // what goes into the certificate comes from what the member has proved,
    // not from the request: the subject here is only a placeholder
    csr.subject.typesAndValues.push(new AttributeTypeAndValue({
        type: "2.5.4.3", value: new asn1js.Utf8String({ value: "CAcert browser key" }),
    }));
    await csr.subjectPublicKeyInfo.importKey(pair.publicKey);
    await csr.sign(pair.privateKey, "SHA-256");
    const der = csr.toSchema().toBER(false);
    const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
    const rec = {
        id: await keyId(spki), type, created: new Date().toISOString(),
        privateKey: pair.privateKey, publicKey: pair.publicKey,
    };
    await dbPut(rec);
    return { id: rec.id, pem: pem("CERTIFICATE REQUEST", der) };
}

// the key of the request last sent from this tab: kept in sessionStorage
// until the answer shows; when the site refused the request (the form comes
// back with its errors), that key will never have a certificate and goes
const LAST = "cacert-keys-last";

async function forgetRefused(root) {
    let last = null;
    try {
        last = sessionStorage.getItem(LAST);
        sessionStorage.removeItem(LAST);
    } catch (e) {
        return;
    }
    if (last && root.dataset.refused) {
        await dbDel(last);
    }
}

async function initRequest(root) {
    const form = root.querySelector("form");
    const button = $("bk-submit");
    const status = $("bk-status");
    if (!form || !button || !window.crypto || !crypto.subtle || !window.indexedDB) {
        if (status) say(status, "nocrypto", "error");
        return;
    }
    await forgetRefused(root);
    button.disabled = false;
    form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        button.disabled = true;
        say(status, "making");
        try {
            const sel = form.querySelector('input[name="keytype"]:checked');
            const made = await makeRequest(sel ? sel.value : "p256");
            $("csr").value = made.pem;
            try {
                sessionStorage.setItem(LAST, made.id);
            } catch (e) {
                // no session storage: a refused request leaves its key behind
            }
            say(status, "sending");
            form.submit();
        } catch (e) {
            console.error(e);
            say(status, "failed", "error");
            button.disabled = false;
        }
    });
}

// ---- mode "p12" ---------------------------------------------------------

// a rough strength estimate: bits from the length and the kinds of
// characters used, less for repeats; 0..4 for the meter
function strength(pw) {
    if (!pw) return 0;
    let pool = 0;
    if (/[a-z]/.test(pw)) pool += 26;
    if (/[A-Z]/.test(pw)) pool += 26;
    if (/[0-9]/.test(pw)) pool += 10;
    if (/[^a-zA-Z0-9]/.test(pw)) pool += 33;
    const distinct = new Set(pw).size;
    const bits = Math.log2(Math.max(pool, 2)) * Math.min(pw.length, distinct * 2);
    if (bits < 28) return 0;
    if (bits < 45) return 1;
    if (bits < 60) return 2;
    if (bits < 80) return 3;
    return 4;
}

// modern: key and certificates with PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA-256),
// an HMAC-SHA-256 MAC; legacy: the key with Triple-DES (PKCS#12 PBE), the
// certificates unencrypted, an HMAC-SHA-1 MAC
async function makePfx(rec, certs, password, friendly, legacy) {
    const pw = new TextEncoder().encode(password).buffer;
    const hash = legacy ? "SHA-1" : "SHA-256";
    const iter = legacy ? ITER_LEGACY : ITER_MODERN;
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", rec.privateKey);
    const localKeyId = await crypto.subtle.digest("SHA-1", certs[0].toSchema().toBER(false));
    const attrs = () => [
        new Attribute({ type: "1.2.840.113549.1.9.20",
                        values: [new asn1js.BmpString({ value: friendly })] }),
        new Attribute({ type: "1.2.840.113549.1.9.21",
                        values: [new asn1js.OctetString({ valueHex: localKeyId })] }),
    ];
    const keyBag = legacy ? PKCS8ShroudedKeyBag.fromBER(legacyShroud(pkcs8, password))
                          : new PKCS8ShroudedKeyBag({ parsedValue: PrivateKeyInfo.fromBER(pkcs8) });
    const pfx = new PFX({
        parsedValue: {
            integrityMode: 0,
            authenticatedSafe: new AuthenticatedSafe({
                parsedValue: {
                    safeContents: [
                        { privacyMode: 0, value: new SafeContents({ safeBags: [
                            new SafeBag({ bagId: "1.2.840.113549.1.12.10.1.2",
                                          bagValue: keyBag, bagAttributes: attrs() }),
                        ] }) },
                        { privacyMode: legacy ? 0 : 1, value: new SafeContents({
                            safeBags: certs.map((c, i) =>
                                new SafeBag({ bagId: "1.2.840.113549.1.12.10.1.3",
                                              bagValue: new CertBag({ parsedValue: c }),
                                              bagAttributes: i === 0 ? attrs() : undefined })) }) },
                    ],
                },
            }),
        },
    });
    const pbes2 = { password: pw, contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 },
                    hmacHashAlgorithm: "SHA-256", iterationCount: iter };
    if (!legacy) {
        await keyBag.makeInternalValues(pbes2);
    }
    await pfx.parsedValue.authenticatedSafe.makeInternalValues({
        safeContents: [{}, legacy ? {} : pbes2] });
    await pfx.makeInternalValues({ password: pw, iterations: iter,
                                   pbkdf2HashAlgorithm: hash, hmacHashAlgorithm: hash });
    return pfx.toSchema().toBER(false);
}

async function initP12(root) {
    const status = $("bk-status");
    const panel = $("bk-p12");
    const chain = unpem($("bk-chain").textContent);
    if (!window.crypto || !crypto.subtle || !window.indexedDB || !chain.length) {
        say(status, "nocrypto", "error");
        return;
    }
    const certs = chain.map((der) => Certificate.fromBER(der));
    const spki = certs[0].subjectPublicKeyInfo.toSchema().toBER(false);
    const id = await keyId(spki);
    let rec;
    try {
        rec = await dbGet(id);
    } catch (e) {
        console.error(e);
    }
    if (!rec) {
        say(status, "nokey", "error");
        return;
    }
    try {
        sessionStorage.removeItem(LAST);
    } catch (e) {
        // nothing to forget
    }
    status.hidden = true;
    panel.hidden = false;
    const pw = $("bk-password"), pw2 = $("bk-password2"), meter = $("bk-strength");
    const label = $("bk-strength-label"), make = $("bk-make"), out = $("bk-result");
    const link = $("bk-download"), del = $("bk-delete"), err = $("bk-error");
    const levels = ["weak", "weak", "fair", "good", "strong"];
    pw.addEventListener("input", () => {
        const s = strength(pw.value);
        meter.value = s;
        label.textContent = pw.value ? msg(`strength.${levels[s]}`) : "";
    });
    make.addEventListener("click", async () => {
        err.hidden = true;
        if (pw.value.length < 8 || strength(pw.value) < 1) {
            say(err, "pw.weak", "field-error");
            return;
        }
        if (pw.value !== pw2.value) {
            say(err, "pw.mismatch", "field-error");
            return;
        }
        make.disabled = true;
        say(status, "assembling");
        try {
            const der = await makePfx(rec, certs, pw.value, $("bk-friendly").value || "CAcert",
                                      $("bk-legacy").checked);
            if (link.href) URL.revokeObjectURL(link.href);
            link.href = URL.createObjectURL(new Blob([der], { type: "application/x-pkcs12" }));
            status.hidden = true;
            out.hidden = false;
            link.focus();
        } catch (e) {
            console.error(e);
            say(status, "failed", "error");
        }
        make.disabled = false;
    });
    link.addEventListener("click", () => {
        $("bk-after").hidden = false;
    });
    del.addEventListener("click", async () => {
        await dbDel(id);
        panel.hidden = true;
        say(status, "deleted");
    });
}

function main() {
    const root = $("bk");
    if (!root) return;
    const run = root.dataset.mode === "p12" ? initP12 : initRequest;
    Promise.resolve(run(root)).catch((e) => {
        console.error(e);
        const status = $("bk-status");
        if (status) say(status, "failed", "error");
    });
}

if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", main);
} else {
    main();
}
