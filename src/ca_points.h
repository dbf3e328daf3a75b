/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The points engine: the Assurance Policy and the TTP programme as pure
 * functions (DESIGN.md "Assurance points").  No I/O, no clock: callers
 * pass the facts (sums read from the assurance rows, today's date) and the
 * rules (directives).  Every rule about points is here and only here; the
 * certificate policy (ca_policy.c) and the web of trust (ca_wot.c) ask it. */
#ifndef CA_POINTS_H
#define CA_POINTS_H

#define CA_POINTS_RECEIVED_MAX   100  /* received points count up to this */
#define CA_POINTS_EXPERIENCE_MAX 50   /* experience points count up to this */
#define CA_POINTS_TOTAL_MAX      150
#define CA_POINTS_ASSURED        50   /* an Assured Member ... */
#define CA_POINTS_ASSURED_BY     2    /* ... from at least this many assurers */
#define CA_POINTS_ASSURER        100  /* received points an Assurer needs */
#define CA_POINTS_AWARD_MAX      35   /* the most any assurance may carry */
#define CA_POINTS_TTP_EACH       35   /* per TTP assurance */
#define CA_POINTS_TTP_TOTAL      70   /* from TTP assurances in all */
#define CA_POINTS_TTP_COUNT      2    /* TTP assurances, from different TTPs */
#define CA_POINTS_ADULT_AGE      18
#define CA_POINTS_EXP_PER_ASSURANCE 2 /* experience per face-to-face assurance given */

/* the rules operators set by directive; ca_points_rules_default() gives
 * the policy's values */
typedef struct {
    int junior_max;          /* most an Assurer under 18 awards: 10 */
    int junior_ttp;          /* the TTP programme is open to under-18s: 0 */
    int topup_max;           /* TTP top-up cap: 30 (the programme text says 35) */
} ca_points_rules_t;

void ca_points_rules_default(ca_points_rules_t *rules);

/* received points as they count: 0..100 */
int ca_points_received(int sum_received);
/* experience points: 2 per face-to-face assurance given, 0..50 */
int ca_points_experience(int given_face_to_face);
/* the total: min(received, 100) + experience (<= 50), 0..150 (ca_policy's
 * ca_points_total of a standing is this) */
int ca_points_sum(int sum_received, int given_face_to_face);
/* Assured Member: >= 50 received points from >= 2 different assurers */
int ca_points_assured_member(int sum_received, int distinct_assurers);
/* Assurer: >= 100 received points, challenge passed, not blocked */
int ca_points_assurer(int sum_received, int challenge_passed, int blocked);
/* the most an Assurer may award: 10 at 100 points, 15/20/25/30/35 at
 * 10/20/30/40/50 experience points, at most junior_max under 18; 0 for a
 * member who is not an Assurer */
int ca_points_max_award(int is_assurer, int experience, int junior,
                        const ca_points_rules_t *rules);
/* what the next level would allow: the experience points still needed for
 * the next step of ca_points_max_award (0 at the top) */
int ca_points_experience_to_next(int experience);

/* age in whole years on `today` of someone born on `dob` (both
 * "YYYY-MM-DD"); -1 if either is not such a date */
int ca_points_age(const char *dob, const char *today);
/* 1 if born on dob is under 18 on today (an unreadable date counts as
 * under 18: the stricter rules) */
int ca_points_junior(const char *dob, const char *today);

/* the identity documents an assurance needs: at least one government-issued
 * photo ID; the full procedure -- more than 10 points in a face-to-face
 * assurance -- needs two.  NULL, wot.documents.none or wot.documents.two */
#define CA_POINTS_ONE_DOCUMENT_MAX 10
const char *ca_points_documents_check(int documents, int points, int face_to_face);

/* a live TTP assurance a member holds */
typedef struct {
    const char *assurer_id;  /* the TTP-admin who entered it */
    const char *ttp;         /* the TTP */
    int points;
    int topup;               /* 1: a TTP top-up */
} ca_ttp_held_t;

/* Whether a TTP assurance (topup 0) or a TTP top-up (topup 1) of `points`
 * by TTP-admin `admin_id` for TTP `ttp` may be entered for a member who
 * holds the `n` live TTP assurances `held`; junior: the member is under 18;
 * challenge: the member passed the Assurer Challenge.  NULL if allowed, else
 * the message key of the refusal:
 *   wot.ttp.junior      under 18 and the programme is closed to them
 *   wot.points.range    points < 0 or above 35 (TTP) / topup_max (top-up)
 *   wot.ttp.count       two TTP assurances already
 *   wot.ttp.total       more than 70 points from TTP assurances
 *   wot.ttp.samettp     the same TTP twice
 *   wot.ttp.sameadmin   the same TTP-admin twice (pairs are unique anyway)
 *   wot.topup.challenge top-up before the challenge
 *   wot.topup.needttp   top-up without the two TTP assurances
 *   wot.topup.done      a second top-up */
const char *ca_points_ttp_check(const ca_ttp_held_t *held, int n, const char *admin_id,
                                const char *ttp, int points, int topup, int junior,
                                int challenge, const ca_points_rules_t *rules);

#endif
