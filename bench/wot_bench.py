#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Web benchmark of mod_cacert_assure: starts its own stack, builds a small
community in the database (--members members, each assured by two to four
of --assurers Assurers; the Assurer who is measured gave many of them),
logs the Assurer in and measures with wrk (keep-alive, loopback):
  - GET /wot/points   (logged in: session, roles, standing, the assurances
                       received and given, the policy grants)
  - GET /wot/stats    (public: aggregate counts over every member and
                       assurance, two SVG charts drawn by the server)
  - GET /wot/         (logged in: the overview)
and prints requests/s and latency for each.  Bounded: each run lasts
--seconds (default 10)."""

import argparse
import os
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import cacertstack  # noqa: E402
from web_bench import login_member, register_member, wrk  # noqa: E402

COMMUNITY_SQL = """
INSERT INTO members (given_name, family_name, dob, password_hash)
    SELECT 'Member', 'No' || g, DATE '1970-01-01' + g, '$argon2id$none'
    FROM generate_series(1, %(members)d) g;
INSERT INTO emails (member_id, address, is_primary, verified_at)
    SELECT id, 'm' || id || '@bench.example', true, now() FROM members
    WHERE family_name LIKE 'No%%';
UPDATE members SET assurer_challenge_at = now()
    WHERE family_name LIKE 'No%%' AND id IN (SELECT id FROM members
        WHERE family_name LIKE 'No%%' ORDER BY id LIMIT %(assurers)d);
-- the Assurers: 100 points each from three others
INSERT INTO assurances (assurer_id, assuree_id, points, location, documents,
                        cca_agreed, face_to_face, created_at)
    SELECT b.id, a.id, 34, 'Bench', 2, true, true, now() - (a.id %% 300) * interval '1 day'
    FROM members a JOIN members b ON b.id <> a.id AND b.assurer_challenge_at IS NOT NULL
    WHERE a.assurer_challenge_at IS NOT NULL
    AND (b.id + a.id) %% %(assurers)d < 3;
-- every other member: two to four assurances
INSERT INTO assurances (assurer_id, assuree_id, points, location, documents,
                        cca_agreed, face_to_face, created_at)
    SELECT b.id, a.id, 15, 'Bench', 2, true, true, now() - (a.id %% 330) * interval '1 day'
    FROM members a JOIN members b ON b.assurer_challenge_at IS NOT NULL
    WHERE a.assurer_challenge_at IS NULL AND a.family_name LIKE 'No%%'
    AND (b.id * 7 + a.id) %% %(assurers)d < 2 + a.id %% 3;
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--members", type=int, default=5000)
    ap.add_argument("--assurers", type=int, default=100)
    ap.add_argument("--stats-cache", default="5m",
                    help="CAcertStatsCacheTime (0: count at every request)")
    args = ap.parse_args()

    d = tempfile.mkdtemp(prefix="cacert-bench-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1",
                              extra_conf=[f"CAcertStatsCacheTime {args.stats_cache}"])
    try:
        stack.start()
        stack.psql(COMMUNITY_SQL % {"members": args.members, "assurers": args.assurers})
        s, data = register_member(stack, "assurer@bench.example.org")
        v = stack.cert_file
        # the measured Assurer: 100 points, the challenge, and 40 assurances given
        stack.psql(f"""
            UPDATE members SET assurer_challenge_at = now() WHERE id = (SELECT member_id
                FROM emails WHERE address = '{data["email"]}');
            INSERT INTO assurances (assurer_id, assuree_id, points, location)
                SELECT id, (SELECT member_id FROM emails WHERE address = '{data["email"]}'),
                       35, 'Bench' FROM members WHERE assurer_challenge_at IS NOT NULL
                       AND family_name LIKE 'No%' ORDER BY id LIMIT 3;
            INSERT INTO assurances (assurer_id, assuree_id, points, location, documents,
                                    cca_agreed, face_to_face)
                SELECT (SELECT member_id FROM emails WHERE address = '{data["email"]}'), id,
                       10, 'Bench', 2, true, true FROM members
                WHERE assurer_challenge_at IS NULL AND family_name LIKE 'No%'
                ORDER BY id LIMIT 40;""")
        session, _ = login_member(stack, s, data)
        page = s.get(stack.url + "/wot/points", verify=v).text
        assert "up to 35 points" in page, page[:2000]
        counts = stack.psql("SELECT (SELECT count(*) FROM members) || ' members, ' ||"
                            " (SELECT count(*) FROM assurances) || ' assurances'").stdout.strip()
        print(f"mod_cacert_assure on {stack.url} ({counts}, CAcertStatsCacheTime "
              f"{args.stats_cache}), wrk -t2 -c{args.connections} "
              f"-d{args.seconds}s, keep-alive, loopback, {os.cpu_count()} cores")
        cookie = [f"Cookie: __Host-cacert-session={session}"]
        rows = [("GET /wot/points (logged in, 43 assurances)",)
                + wrk(stack.url + "/wot/points", args.seconds, args.connections, headers=cookie),
                ("GET /wot/stats (public, aggregates + SVG)",)
                + wrk(stack.url + "/wot/stats", args.seconds, args.connections),
                ("GET /wot/ (logged in, overview)",)
                + wrk(stack.url + "/wot/", args.seconds, args.connections, headers=cookie)]
        for name, rps, p50, p99, non2xx, errors in rows:
            print(f"  {name:44s} {rps:10.1f} req/s   p50 {p50:>8s}  p99 {p99:>8s}"
                  + (f"  non-2xx/3xx: {non2xx}" if non2xx else "") + (f"  {errors}" if errors else ""))
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
