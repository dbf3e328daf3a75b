/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_lib.h>

#include "ca_points.h"

void ca_points_rules_default(ca_points_rules_t *rules)
{
    rules->junior_max = 10;
    rules->junior_ttp = 0;
    rules->topup_max = 30;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int ca_points_received(int sum_received)
{
    return clamp(sum_received, 0, CA_POINTS_RECEIVED_MAX);
}

int ca_points_experience(int given_face_to_face)
{
    /* no overflow: more assurances than the cap needs count as the cap */
    if (given_face_to_face <= 0) {
        return 0;
    }
    if (given_face_to_face >= CA_POINTS_EXPERIENCE_MAX) {
        return CA_POINTS_EXPERIENCE_MAX;
    }
    return clamp(given_face_to_face * CA_POINTS_EXP_PER_ASSURANCE, 0,
                 CA_POINTS_EXPERIENCE_MAX);
}

int ca_points_sum(int sum_received, int given_face_to_face)
{
    return ca_points_received(sum_received) + ca_points_experience(given_face_to_face);
}

int ca_points_assured_member(int sum_received, int distinct_assurers)
{
    return sum_received >= CA_POINTS_ASSURED && distinct_assurers >= CA_POINTS_ASSURED_BY;
}

int ca_points_assurer(int sum_received, int challenge_passed, int blocked)
{
    return sum_received >= CA_POINTS_ASSURER && challenge_passed && !blocked;
}

int ca_points_max_award(int is_assurer, int experience, int junior,
                        const ca_points_rules_t *rules)
{
    int max;

    if (!is_assurer) {
        return 0;
    }
    experience = clamp(experience, 0, CA_POINTS_EXPERIENCE_MAX);
    /* 10 at 100 points, +5 per 10 experience points: 15 .. 35 */
    max = 10 + 5 * (experience / 10);
    if (junior) {
        max = max < rules->junior_max ? max : rules->junior_max;
    }
    return clamp(max, 0, CA_POINTS_AWARD_MAX);
}

int ca_points_experience_to_next(int experience)
{
    experience = clamp(experience, 0, CA_POINTS_EXPERIENCE_MAX);
    if (experience >= CA_POINTS_EXPERIENCE_MAX) {
        return 0;
    }
    return 10 - experience % 10;
}

/* "YYYY-MM-DD" -> y, m, d; 0 if it is not a date of the calendar */
static int parse_date(int *y, int *m, int *d, const char *s)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int i;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !apr_isdigit(s[i])) {
            return 0;
        }
    }
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1]) {
        return 0;
    }
    if (*m == 2 && *d == 29 && !((*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0)) {
        return 0;
    }
    return 1;
}

int ca_points_age(const char *dob, const char *today)
{
    int by, bm, bd, ty, tm, td, age;

    if (!parse_date(&by, &bm, &bd, dob) || !parse_date(&ty, &tm, &td, today)) {
        return -1;
    }
    age = ty - by;
    if (tm < bm || (tm == bm && td < bd)) {
        age--;
    }
    return age < 0 ? -1 : age;
}

int ca_points_junior(const char *dob, const char *today)
{
    int age = ca_points_age(dob, today);

    return age < 0 || age < CA_POINTS_ADULT_AGE;
}

const char *ca_points_ttp_check(const ca_ttp_held_t *held, int n, const char *admin_id,
                                const char *ttp, int points, int topup, int junior,
                                int challenge, const ca_points_rules_t *rules)
{
    int i, nttp = 0, sum = 0, ntopup = 0;

    if (junior && !rules->junior_ttp) {
        return "wot.ttp.junior";
    }
    if (points < 0 || points > (topup ? clamp(rules->topup_max, 0, CA_POINTS_AWARD_MAX)
                                      : CA_POINTS_TTP_EACH)) {
        return "wot.points.range";
    }
    for (i = 0; i < n; i++) {
        if (held[i].topup) {
            ntopup++;
        }
        else {
            nttp++;
            sum += held[i].points;
        }
        if (admin_id && held[i].assurer_id && !strcmp(admin_id, held[i].assurer_id)) {
            return "wot.ttp.sameadmin";
        }
    }
    if (!topup) {
        if (nttp >= CA_POINTS_TTP_COUNT) {
            return "wot.ttp.count";
        }
        for (i = 0; i < n; i++) {
            if (!held[i].topup && ttp && held[i].ttp && !strcasecmp(ttp, held[i].ttp)) {
                return "wot.ttp.samettp";
            }
        }
        if (sum + points > CA_POINTS_TTP_TOTAL) {
            return "wot.ttp.total";
        }
        return NULL;
    }
    if (ntopup) {
        return "wot.topup.done";
    }
    if (nttp < CA_POINTS_TTP_COUNT) {
        return "wot.topup.needttp";
    }
    if (!challenge) {
        return "wot.topup.challenge";
    }
    return NULL;
}

const char *ca_points_documents_check(int documents, int points, int face_to_face)
{
    if (documents < 1) {
        return "wot.documents.none";
    }
    if (face_to_face && documents < 2 && points > CA_POINTS_ONE_DOCUMENT_MAX) {
        return "wot.documents.two";
    }
    return NULL;
}
