# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Fill a cacert-httpd database to CAcert's size, in bulk (set-based SQL).

    from bigdata_fill import fill
    info = fill(stack, members=300000, certs=3000000, revoked=300000,
                assurances=1000000, heavy=[id, ...])

`stack` is a tools/cacertstack.Stack, a dict of psycopg2.connect() keyword
arguments, or a libpq connection string.  What it writes, as the
application writes it (sql/*.sql):

  - members: names, a date of birth, an unusable password hash ('!bigdata':
    no password verifies against it; only the `heavy` members, made by the
    caller through the web, can log in), created over the last ten years;
    one in ten (the first ones) passed the Assurer Challenge (members
    .assurer_challenge_at and a challenge_passes row, source 'import');
  - emails: one verified primary address each (bd<id>@bigdata.example), a
    second verified address for one member in five; cca_agreements: one each;
  - assurances: `assurances` live ones, face to face, 10..35 points, one
    per assurer/assuree pair, never self; every Assurer gets at least 100
    points from four; dated after both members joined;
  - certificates: `certs` of them, each with its signer_requests row (kind
    'sign', state 'done'); the CA drawn by ca_weights ({ca: weight}; the
    stack's CAs are member, assured, org), the profile by the CA; serials
    of 16 bytes (first byte 01..7f, lowercase hex, as signerd makes them),
    unique; validity 6 months (member CA) or 24 months; exactly `revoked`
    of them revoked (plus the heavy members' share), each with its 'revoke'
    signer_requests row, a revocation time inside the validity and an
    RFC 5280 reason (0, 1, 3, 4, 5);
  - for every member id in `heavy` (existing members, e.g. registered
    through the web): Assurer status, `heavy_received` assurances of 35
    points received, `heavy_given` assurances given, `heavy_certs`
    certificates of which `heavy_revoked` are revoked.

Not filled: certificate DER and CSRs (a two-byte placeholder '\\x3000':
the pages, the OCSP responder and the CRL builder read serials, states and
dates, never the DER of these rows), lost-password answers, sessions, the
audit log (its hash chain is written one row at a time by a trigger), CRLs.

Returns a dict: the counts, the id ranges and the seconds each step took."""

import random
import time

import psycopg2

DEFAULT_CA_WEIGHTS = {"member": 0.55, "assured": 0.45}
# per CA: (profiles and their weights, validity in days)
CA_PROFILES = {
    "member": ((("client", 0.7), ("server", 0.3)), 180),
    "assured": ((("client", 0.6), ("server", 0.35), ("codesign", 0.05)), 730),
    "org": ((("org-client", 0.5), ("org-server", 0.5)), 730),
}
# RFC 5280 reasons a member or support picks, and how often
REASONS = ((0, 0.5), (1, 0.1), (3, 0.1), (4, 0.2), (5, 0.1))


def _connect(target):
    if hasattr(target, "pg_connect_args"):
        return psycopg2.connect(**target.pg_connect_args(), connect_timeout=10)
    if isinstance(target, dict):
        return psycopg2.connect(**target, connect_timeout=10)
    return psycopg2.connect(target, connect_timeout=10)


def _coprime(n, start):
    from math import gcd
    p = start
    while gcd(p, max(n, 1)) != 1:
        p += 1
    return p


def _case(var, choices, cast="text"):
    """CASE WHEN var < w1 THEN v1 ... END over cumulative weights (the
    values are literals made here, never outside input)."""
    if len(choices) == 1:
        v = choices[0][0]
        return f"'{v}'" if cast == "text" else str(int(v))
    total = sum(w for _, w in choices)
    acc = 0.0
    parts = []
    for i, (v, w) in enumerate(choices):
        acc += w / total
        lit = f"'{v}'" if cast == "text" else str(int(v))
        if i == len(choices) - 1:
            parts.append(f"ELSE {lit}")
        else:
            parts.append(f"WHEN {var} < {acc!r} THEN {lit}")
    return "(CASE " + " ".join(parts) + " END)"


def _next_id(cur, table):
    cur.execute(f"SELECT greatest(coalesce(max(id), 0),"
                f" (SELECT last_value FROM {table}_id_seq)) FROM {table}")
    return cur.fetchone()[0] + 1


def _bump(cur, table):
    cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")


def fill(target, members=300000, certs=3000000, revoked=300000, assurances=1000000,
         ca_weights=None, heavy=(), heavy_certs=300, heavy_revoked=30, heavy_given=300,
         heavy_received=5, seed=19, log=None, analyze=True):
    ca_weights = dict(ca_weights or DEFAULT_CA_WEIGHTS)
    for ca in ca_weights:
        if ca not in CA_PROFILES:
            raise ValueError(f"unknown CA {ca!r} (known: {', '.join(CA_PROFILES)})")
    if members < 2 or revoked > certs:
        raise ValueError("need at least two members and revoked <= certs")
    heavy = [int(h) for h in heavy]
    log = log or (lambda msg: None)
    M, C, R, N = int(members), int(certs), int(revoked), int(assurances)
    # the Assurers: the first tenth; each gets ka assurances (enough for
    # 100 points), the others share the rest evenly
    A = min(M - 1, max(M // 10, heavy_received + 1, 5))
    ka = max(3, -(-N // M))
    rest = N - A * ka
    per, extra = rest // (M - A), rest % (M - A)
    kmax = max(ka, per + (1 if extra else 0))
    if rest < 0 or kmax + 1 > A:
        raise ValueError(f"{N} assurances over {M} members: too few or too many")
    steps = {}
    t_all = time.monotonic()
    conn = _connect(target)
    try:
        cur = conn.cursor()
        cur.execute("SET statement_timeout = 0")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SELECT setseed(%s)", (random.Random(seed).random() * 2 - 1,))

        def step(name, sql, args=None):
            t0 = time.monotonic()
            cur.execute(sql, args)
            conn.commit()
            steps[name] = round(time.monotonic() - t0, 1)
            log(f"{name}: {steps[name]} s")

        m0 = _next_id(cur, "members")
        # -- members: the first A are the Assurers
        step("members", """
            INSERT INTO members (id, given_name, family_name, dob, password_hash, language,
                                 created_at, assurer_challenge_at)
            SELECT %(m0)s + j,
                   (ARRAY['Anna','Ben','Chloe','David','Eva','Felix','Grace','Hugo','Ines',
                          'Jan','Karin','Lukas','Mia','Noah','Olga','Paul'])[1 + (j %% 16)::int],
                   'Bigdata' || j, DATE '1940-01-01' + (j * 7919 %% 22000)::int,
                   '!bigdata', (ARRAY['en','de','fr','nl','es'])[1 + (j %% 5)::int],
                   now() - make_interval(days => 3650 - (j * 3650 / %(M)s)::int),
                   CASE WHEN j < %(A)s THEN now() - make_interval(days => (j %% 1000)::int) END
            FROM generate_series(0::bigint, %(M)s - 1) j""", dict(m0=m0, M=M, A=A))
        _bump(cur, "members")
        step("challenge_passes", """
            INSERT INTO challenge_passes (member_id, passed_on, variant, source)
            SELECT id, assurer_challenge_at::date, 'CATS', 'import' FROM members
            WHERE id BETWEEN %(m0)s AND %(m0)s + %(A)s - 1""", dict(m0=m0, A=A))
        if heavy:
            step("heavy assurers", """
                UPDATE members SET assurer_challenge_at = coalesce(assurer_challenge_at, now())
                WHERE id = ANY(%(h)s);
                INSERT INTO challenge_passes (member_id, passed_on, variant, source)
                SELECT h, current_date, 'CATS', 'import' FROM unnest(%(h)s::bigint[]) h
                ON CONFLICT DO NOTHING""", dict(h=heavy))
        e0 = _next_id(cur, "emails")
        step("emails", """
            INSERT INTO emails (id, member_id, address, is_primary, created_at, verified_at)
            SELECT %(e0)s + j * 2 + s, %(m0)s + j,
                   CASE WHEN s = 0 THEN 'bd' || (%(m0)s + j) || '@bigdata.example'
                        ELSE 'bd' || (%(m0)s + j) || '.second@bigdata.example' END,
                   s = 0, m.created_at, m.created_at + interval '1 hour'
            FROM generate_series(0::bigint, %(M)s - 1) j
            JOIN members m ON m.id = %(m0)s + j
            CROSS JOIN generate_series(0, 1) s
            WHERE s = 0 OR j %% 5 = 0""", dict(e0=e0, m0=m0, M=M))
        _bump(cur, "emails")
        step("cca_agreements", """
            INSERT INTO cca_agreements (member_id, version, agreed_at, client_addr)
            SELECT id, 'CCA 2009-06', created_at, '192.0.2.' || (id %% 250 + 1) FROM members
            WHERE id BETWEEN %(m0)s AND %(m0)s + %(M)s - 1""", dict(m0=m0, M=M))

        # -- assurances: assuree j gets per (+1 for j < extra) from distinct
        # Assurers (the first A members), never from itself
        step("assurances", f"""
            INSERT INTO assurances (assurer_id, assuree_id, points, method, location,
                                    assured_on, created_at, documents, cca_agreed,
                                    face_to_face, entered_name, entered_dob)
            SELECT %(m0)s + x.assurer, %(m0)s + x.j,
                   CASE WHEN x.j < %(A)s AND %(ka)s >= 4 THEN 25 + 5 * (x.k %% 3)
                        WHEN x.j < %(A)s THEN 35
                        ELSE {_case('x.u', ((10, .3), (15, .2), (20, .15), (25, .1), (30, .1),
                                           (35, .15)), cast='int')} END,
                   'face-to-face',
                   (ARRAY['Berlin','Paris','Amsterdam','Sydney','Vienna','Madrid',
                          'Brisbane','Munich'])[1 + (x.j %% 8)::int],
                   x.at::date, x.at, 2, true, true,
                   ma.given_name || ' ' || ma.family_name, ma.dob
            FROM (SELECT g.j, g.k, g.u,
                         CASE WHEN g.idx = g.j THEN (g.b + g.kn) %% %(A)s ELSE g.idx END
                             AS assurer,
                         greatest(mj.created_at, mi.created_at) + (now() - greatest(
                             mj.created_at, mi.created_at)) * random() AS at
                  FROM (SELECT j, k, kn, b, (b + k) %% %(A)s AS idx, random() AS u
                        FROM (SELECT j, (j * 7919) %% %(A)s AS b,
                                     CASE WHEN j < %(A)s THEN %(ka)s
                                          ELSE %(per)s + CASE WHEN j - %(A)s < %(extra)s
                                                              THEN 1 ELSE 0 END END AS kn
                              FROM generate_series(0::bigint, %(M)s - 1) j) jj,
                        LATERAL generate_series(0, jj.kn - 1) k) g
                  JOIN members mj ON mj.id = %(m0)s + g.j
                  JOIN members mi ON mi.id = %(m0)s +
                      CASE WHEN g.idx = g.j THEN (g.b + g.kn) %% %(A)s ELSE g.idx END) x
            JOIN members ma ON ma.id = %(m0)s + x.j""",
             dict(m0=m0, M=M, A=A, ka=ka, per=per, extra=extra))
        if heavy:
            step("heavy assurances", """
                INSERT INTO assurances (assurer_id, assuree_id, points, method, location,
                                        assured_on, created_at, documents, cca_agreed,
                                        face_to_face)
                SELECT %(m0)s + (hi * 37 + k) %% %(A)s, h, 35, 'face-to-face', 'Bigdata',
                       current_date - (k * 30)::int, now() - make_interval(days => (k * 30)::int),
                       2, true, true
                FROM unnest(%(h)s::bigint[]) WITH ORDINALITY hh(h, hi),
                     generate_series(0, %(rec)s - 1) k;
                INSERT INTO assurances (assurer_id, assuree_id, points, method, location,
                                        assured_on, created_at, documents, cca_agreed,
                                        face_to_face, entered_name, entered_dob)
                SELECT h, m.id, 10 + 5 * (k %% 6), 'face-to-face', 'Bigdata',
                       current_date - (k %% 2000)::int, now() - make_interval(days => (k %% 2000)::int),
                       2, true, true, m.given_name || ' ' || m.family_name, m.dob
                FROM unnest(%(h)s::bigint[]) WITH ORDINALITY hh(h, hi)
                CROSS JOIN generate_series(0, %(given)s - 1) k
                JOIN members m ON m.id = %(m0)s + %(A)s
                                  + ((hi - 1) * %(given)s + k) %% (%(M)s - %(A)s)""",
                 dict(m0=m0, M=M, A=A, h=heavy, rec=min(heavy_received, A),
                      given=min(heavy_given, M - A)))

        # -- certificates: one work table, then the requests and the certificates
        P = _coprime(C, 1000003)
        cas = sorted(ca_weights.items())
        prof_case = "(CASE " + " ".join(
            f"WHEN ca = '{ca}' THEN {_case('u3', CA_PROFILES[ca][0])}" for ca, _ in cas) \
            + " END)"
        days_case = "(CASE " + " ".join(
            f"WHEN ca = '{ca}' THEN {CA_PROFILES[ca][1]}" for ca, _ in cas) + " END)"
        hc, hr = int(heavy_certs) if heavy else 0, int(heavy_revoked) if heavy else 0
        step("work table", f"""
            DROP TABLE IF EXISTS bd_certs;
            CREATE TEMP TABLE bd_certs AS
            SELECT n, member_id, ca, {prof_case} AS profile, created,
                   created + make_interval(days => {days_case}) AS not_after, revoked,
                   u4, u5,
                   lpad(to_hex(1 + get_byte(decode(md5(%(salt)s || n), 'hex'), 0) %% 127), 2,
                        '0') || substr(md5(%(salt)s || n), 3) AS serial,
                   md5(n || 'spki' || %(salt)s) || md5(%(salt)s || 'spki' || n) AS spki
            FROM (SELECT n, member_id, {_case('u2', cas)} AS ca, u3, u4, u5, revoked,
                         now() - make_interval(secs => 3650 * 86400 * power(u1, 1.5)) AS created
                  FROM (SELECT n, %(m0)s + least(floor(%(M)s * power(random(), 1.25))::bigint,
                                                 %(M)s - 1) AS member_id,
                               random() AS u1, random() AS u2, random() AS u3,
                               random() AS u4, random() AS u5,
                               (n * %(P)s) %% %(C)s < %(R)s AS revoked
                        FROM generate_series(0::bigint, %(C)s - 1) n
                        UNION ALL
                        SELECT %(C)s + (hi - 1) * %(hc)s + k, h,
                               random() * 0.3, random(), random(), random(), random(),
                               k < %(hr)s
                        FROM unnest(%(h)s::bigint[]) WITH ORDINALITY hh(h, hi),
                             generate_series(0::bigint, %(hc)s - 1) k) a) b;
            ANALYZE bd_certs""",
             dict(m0=m0, M=M, C=C, R=R, P=P, h=heavy, hc=hc, hr=hr, salt=f"bd{seed}:"))
        r0 = _next_id(cur, "signer_requests")
        c0 = _next_id(cur, "certificates")
        step("signer_requests (sign)", """
            INSERT INTO signer_requests (id, kind, member_id, ca, profile, csr_der, payload,
                                         state, attempts, created_at, sent_at, done_at,
                                         spki_sha256)
            SELECT %(r0)s + n, 'sign', member_id, ca, profile, '\\x3000'::bytea,
                   '\\x00'::bytea, 'done', 1, created - interval '2 s',
                   created - interval '2 s', created, spki
            FROM bd_certs""", dict(r0=r0))
        step("certificates", f"""
            INSERT INTO certificates (id, member_id, request_id, ca, profile, serial, subject,
                                      sans, spki_sha256, md, not_before, not_after, der,
                                      csr_der, created_at, revoked_at, revoke_reason,
                                      revoked_by)
            SELECT %(c0)s + n, member_id, %(r0)s + n, ca, profile, serial,
                   CASE WHEN profile LIKE '%%server' THEN 'CN=www.bd' || member_id || '.example'
                        ELSE 'CN=CAcert WoT Member,emailAddress=bd' || member_id
                             || '@bigdata.example' END,
                   CASE WHEN profile LIKE '%%server' THEN 'DNS:www.bd' || member_id || '.example'
                        ELSE 'email:bd' || member_id || '@bigdata.example' END,
                   spki, 'sha256', created, not_after, '\\x3000'::bytea, '\\x3000'::bytea,
                   created, ra, rr, rb
            FROM (SELECT *,
                         CASE WHEN revoked THEN created + (least(not_after, now()) - created)
                              * (0.05 + 0.9 * u4) END AS ra,
                         CASE WHEN revoked THEN {_case('u5', REASONS, cast='int')} END AS rr,
                         CASE WHEN revoked THEN member_id END AS rb
                  FROM bd_certs) c""", dict(c0=c0, r0=r0))
        step("signer_requests (revoke)", """
            INSERT INTO signer_requests (id, kind, member_id, ca, cert_id, payload, state,
                                         attempts, created_at, sent_at, done_at)
            SELECT %(r0)s + (SELECT count(*) FROM bd_certs) - 1
                       + row_number() OVER (ORDER BY c.id),
                   'revoke', c.member_id, c.ca, c.id, '\\x00'::bytea, 'done', 1,
                   c.revoked_at - interval '1 s', c.revoked_at - interval '1 s', c.revoked_at
            FROM certificates c WHERE c.id >= %(c0)s AND c.revoked_at IS NOT NULL""",
             dict(r0=r0, c0=c0))
        _bump(cur, "signer_requests")
        _bump(cur, "certificates")
        cur.execute("DROP TABLE bd_certs")
        conn.commit()
        if analyze:
            conn.autocommit = True
            step("analyze", "ANALYZE members, emails, assurances, challenge_passes,"
                            " cca_agreements, signer_requests, certificates")
        cur.execute("SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM certificates),"
                    " (SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL),"
                    " (SELECT count(*) FROM assurances WHERE revoked_at IS NULL)")
        tm, tc, tr, ta = cur.fetchone()
    finally:
        conn.close()
    return dict(members=tm, certificates=tc, revoked=tr, assurances=ta,
                member_ids=(m0, m0 + M - 1), assurers=A, cert_ids=(c0, c0 + C + len(heavy) * hc - 1),
                steps=steps, seconds=round(time.monotonic() - t_all, 1))
