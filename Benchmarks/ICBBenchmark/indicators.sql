-- HYP008, DM020, BP002 (qof-2025-26) and FLU_65PLUS (flu-2025-26) counts in plain SQL, for DuckDB and
-- PostgreSQL alike: the reference the ICB benchmark times qofd against and checks qofd's counts with.
-- Written from the same rule logic as the rule files (not from qofd's code): achievement date and
-- PPED 2026-03-31, PPSD 2025-04-01 (flu 2025-09-01), ages on 2026-03-31; "latest X in the 12 months"
-- is the latest record dated after PPED - 12 months and not after the achievement date; several
-- records on the chosen day keep the lowest values (a reading with two values beats lone values) and
-- the smallest concept id.
--
-- Tables: patients(patient_id, date_of_birth, sex, date_of_death), registrations(patient_id,
-- start_date, end_date), events(patient_id, date, code, value, value2), clusters(cluster, code).
WITH pop AS (
    SELECT p.patient_id, min(r.start_date) AS reg_dat,
           extract(year FROM DATE '2026-03-31') - extract(year FROM p.date_of_birth)
             - CASE WHEN extract(month FROM p.date_of_birth) * 100 + extract(day FROM p.date_of_birth) > 331 THEN 1 ELSE 0 END AS age
    FROM patients p JOIN registrations r ON r.patient_id = p.patient_id
    WHERE r.start_date <= DATE '2026-03-31' AND (r.end_date IS NULL OR r.end_date >= DATE '2026-03-31')
      AND (p.date_of_death IS NULL OR p.date_of_death > DATE '2026-03-31')
    GROUP BY p.patient_id, p.date_of_birth
),
ev AS (
    SELECT e.patient_id, e.date, e.code, e.value, e.value2, c.cluster
    FROM events e JOIN clusters c ON c.code = e.code
    WHERE e.date <= DATE '2026-03-31'
),
-- Latest-record fields with the same-day rule, one CTE pair each (day, then that day's values).
bp_day AS (SELECT patient_id, max(date) AS d FROM ev WHERE cluster IN ('BP_COD', 'HOMEBP_COD', 'ABPM_COD') AND date > DATE '2025-03-31' GROUP BY patient_id),
bp AS (
    SELECT b.patient_id, b.d,
           CASE WHEN count(e.value2) > 0 THEN min(CASE WHEN e.value2 IS NOT NULL THEN e.value END) ELSE min(e.value) END AS v1,
           min(e.value2) AS v2,
           CASE WHEN count(e.value2) > 0 THEN min(CASE WHEN e.value2 IS NOT NULL THEN e.code END) ELSE min(e.code) END AS code
    FROM bp_day b JOIN ev e ON e.patient_id = b.patient_id AND e.date = b.d AND e.cluster IN ('BP_COD', 'HOMEBP_COD', 'ABPM_COD')
    GROUP BY b.patient_id, b.d
),
sys_day AS (SELECT patient_id, max(date) AS d FROM ev WHERE cluster = 'SYSBP_COD' AND date > DATE '2025-03-31' GROUP BY patient_id),
sys AS (
    SELECT s.patient_id, s.d, CASE WHEN count(e.value2) > 0 THEN min(CASE WHEN e.value2 IS NOT NULL THEN e.value END) ELSE min(e.value) END AS v1
    FROM sys_day s JOIN ev e ON e.patient_id = s.patient_id AND e.date = s.d AND e.cluster = 'SYSBP_COD' GROUP BY s.patient_id, s.d
),
dia_day AS (SELECT patient_id, max(date) AS d FROM ev WHERE cluster = 'DIABP_COD' AND date > DATE '2025-03-31' GROUP BY patient_id),
dia AS (
    SELECT s.patient_id, s.d, CASE WHEN count(e.value2) > 0 THEN min(CASE WHEN e.value2 IS NOT NULL THEN e.value END) ELSE min(e.value) END AS v1
    FROM dia_day s JOIN ev e ON e.patient_id = s.patient_id AND e.date = s.d AND e.cluster = 'DIABP_COD' GROUP BY s.patient_id, s.d
),
hba_day AS (SELECT patient_id, max(date) AS d FROM ev WHERE cluster = 'IFCCHBAM_COD' AND date > DATE '2025-03-31' GROUP BY patient_id),
hba AS (
    SELECT s.patient_id, s.d, CASE WHEN count(e.value2) > 0 THEN min(CASE WHEN e.value2 IS NOT NULL THEN e.value END) ELSE min(e.value) END AS v1
    FROM hba_day s JOIN ev e ON e.patient_id = s.patient_id AND e.date = s.d AND e.cluster = 'IFCCHBAM_COD' GROUP BY s.patient_id, s.d
),
frail_day AS (SELECT patient_id, max(date) AS d FROM ev WHERE cluster IN ('MILDFRAIL_COD', 'MODFRAIL_COD', 'SEVFRAIL_COD') GROUP BY patient_id),
frail AS (
    SELECT s.patient_id, CASE WHEN count(e.value2) > 0 THEN min(CASE WHEN e.value2 IS NOT NULL THEN e.code END) ELSE min(e.code) END AS code
    FROM frail_day s JOIN ev e ON e.patient_id = s.patient_id AND e.date = s.d AND e.cluster IN ('MILDFRAIL_COD', 'MODFRAIL_COD', 'SEVFRAIL_COD')
    GROUP BY s.patient_id
),
-- Per-patient flags in one pass: codes present in a window, and the latest "resolved" codes.
flags AS (
    SELECT patient_id,
           max(CASE WHEN date > DATE '2025-03-31' AND cluster IN ('HTMAX_COD', 'HYPPCAPU_COD', 'BPDEC_COD', 'HBPMDEC_COD', 'HYPPCADEC_COD') THEN 1 ELSE 0 END) AS hyp_pca,
           max(CASE WHEN date > DATE '2025-03-31' AND cluster = 'SERFRUC_COD' THEN 1 ELSE 0 END) AS serfruc,
           max(CASE WHEN date > DATE '2025-03-31' AND cluster IN ('DMMAX_COD', 'DMPCAPU_COD', 'BLDTESTDEC_COD', 'DMPCADEC_COD') THEN 1 ELSE 0 END) AS dm_pca,
           max(CASE WHEN date > DATE '2021-03-31' AND cluster = 'BP_COD' THEN 1 ELSE 0 END) AS bp5,
           max(CASE WHEN date > DATE '2021-03-31' AND cluster = 'BPDEC_COD' THEN 1 ELSE 0 END) AS bpdec5,
           max(CASE WHEN date >= DATE '2025-09-01' AND cluster IN ('qofd-flu-given-by-practice', 'qofd-flu-given-elsewhere') THEN 1 ELSE 0 END) AS flu,
           max(CASE WHEN cluster = 'HYPRES_COD' THEN date END) AS hypres_lat,
           max(CASE WHEN cluster = 'DMRES_COD' THEN date END) AS dmres_lat
    FROM ev GROUP BY patient_id
),
-- First invitation this year, and the first at least 7 days after it.
inv1 AS (SELECT patient_id, cluster, min(date) AS d FROM ev WHERE cluster IN ('HYPINVITE_COD', 'DMINVITE_COD') AND date >= DATE '2025-04-01' GROUP BY patient_id, cluster),
inv AS (
    SELECT i.patient_id, i.cluster, i.d AS first_d, min(e.date) AS second_d
    FROM inv1 i LEFT JOIN ev e ON e.patient_id = i.patient_id AND e.cluster = i.cluster AND e.date >= i.d + 7
    GROUP BY i.patient_id, i.cluster, i.d
),
-- Hypertension.
hyp AS (SELECT patient_id, max(date) AS lat, min(date) AS first_d FROM ev WHERE cluster = 'HYP_COD' GROUP BY patient_id),
hyp_reg AS (
    SELECT h.patient_id, h.first_d, pop.age, pop.reg_dat, f.hyp_pca
    FROM hyp h JOIN pop ON pop.patient_id = h.patient_id JOIN flags f ON f.patient_id = h.patient_id
    WHERE f.hypres_lat IS NULL OR f.hypres_lat <= h.lat
),
hyp008 AS (
    SELECT CASE
        WHEN h.age > 79 THEN 'excluded'
        WHEN bp.d IS NOT NULL AND (
               (bp.code NOT IN (SELECT code FROM clusters WHERE cluster IN ('HOMEBP_COD', 'ABPM_COD')) AND bp.v2 IS NOT NULL AND bp.v1 <= 140 AND bp.v2 <= 90)
            OR (bp.code IN (SELECT code FROM clusters WHERE cluster IN ('HOMEBP_COD', 'ABPM_COD')) AND bp.v2 IS NOT NULL AND bp.v1 <= 135 AND bp.v2 <= 85)
            OR (bp.v2 IS NULL AND sys.d = bp.d AND dia.d = bp.d AND sys.v1 <= 140 AND dia.v1 <= 90)) THEN 'numerator'
        WHEN h.hyp_pca = 1 THEN 'pca'
        WHEN (bp.d IS NOT NULL AND i.first_d > bp.d AND i.second_d IS NOT NULL) OR (bp.d IS NULL AND i.first_d IS NOT NULL AND i.second_d IS NOT NULL) THEN 'pca'
        WHEN h.first_d > DATE '2025-06-30' OR h.reg_dat > DATE '2025-06-30' THEN 'pca'
        ELSE 'denominator' END AS outcome
    FROM hyp_reg h
    LEFT JOIN bp ON bp.patient_id = h.patient_id
    LEFT JOIN sys ON sys.patient_id = h.patient_id
    LEFT JOIN dia ON dia.patient_id = h.patient_id
    LEFT JOIN inv i ON i.patient_id = h.patient_id AND i.cluster = 'HYPINVITE_COD'
),
-- Diabetes.
dm AS (SELECT patient_id, max(date) AS lat, min(date) AS first_d FROM ev WHERE cluster = 'DM_COD' GROUP BY patient_id),
dm_reg AS (
    SELECT d.patient_id, d.first_d, pop.reg_dat, f.serfruc, f.dm_pca
    FROM dm d JOIN pop ON pop.patient_id = d.patient_id JOIN flags f ON f.patient_id = d.patient_id
    WHERE pop.age >= 17 AND (f.dmres_lat IS NULL OR f.dmres_lat <= d.lat)
),
dm020 AS (
    SELECT CASE
        WHEN f.code IN (SELECT code FROM clusters WHERE cluster IN ('MODFRAIL_COD', 'SEVFRAIL_COD')) THEN 'excluded'
        WHEN hba.d IS NOT NULL AND hba.v1 <= 58 THEN 'numerator'
        WHEN hba.d IS NULL AND d.serfruc = 1 THEN 'pca'
        WHEN d.dm_pca = 1 THEN 'pca'
        WHEN (hba.d IS NOT NULL AND i.first_d > hba.d AND i.second_d IS NOT NULL) OR (hba.d IS NULL AND i.first_d IS NOT NULL AND i.second_d IS NOT NULL) THEN 'pca'
        WHEN d.first_d > DATE '2025-06-30' OR d.reg_dat > DATE '2025-06-30' THEN 'pca'
        ELSE 'denominator' END AS outcome
    FROM dm_reg d
    LEFT JOIN frail f ON f.patient_id = d.patient_id
    LEFT JOIN hba ON hba.patient_id = d.patient_id
    LEFT JOIN inv i ON i.patient_id = d.patient_id AND i.cluster = 'DMINVITE_COD'
),
-- Blood pressure in the last 5 years, aged 45 or over.
bp002 AS (
    SELECT CASE
        WHEN p.age < 45 THEN 'excluded'
        WHEN f.bp5 = 1 THEN 'numerator'
        WHEN f.bpdec5 = 1 THEN 'pca'
        WHEN p.reg_dat > DATE '2025-12-31' THEN 'pca'
        ELSE 'denominator' END AS outcome
    FROM pop p LEFT JOIN flags f ON f.patient_id = p.patient_id
),
-- Flu, aged 65 and over on 31 March 2026, vaccinated from 1 September 2025.
flu65 AS (
    SELECT CASE
        WHEN p.age < 65 THEN 'excluded'
        WHEN f.flu = 1 THEN 'numerator'
        ELSE 'denominator' END AS outcome
    FROM pop p LEFT JOIN flags f ON f.patient_id = p.patient_id
)
SELECT 'HYP008' AS indicator, count(*) AS register,
       sum(CASE WHEN outcome IN ('numerator', 'denominator') THEN 1 ELSE 0 END) AS denominator,
       sum(CASE WHEN outcome = 'numerator' THEN 1 ELSE 0 END) AS numerator FROM hyp008
UNION ALL
SELECT 'DM020', count(*), sum(CASE WHEN outcome IN ('numerator', 'denominator') THEN 1 ELSE 0 END),
       sum(CASE WHEN outcome = 'numerator' THEN 1 ELSE 0 END) FROM dm020
UNION ALL
SELECT 'BP002', count(*), sum(CASE WHEN outcome IN ('numerator', 'denominator') THEN 1 ELSE 0 END),
       sum(CASE WHEN outcome = 'numerator' THEN 1 ELSE 0 END) FROM bp002
UNION ALL
SELECT 'FLU_65PLUS', count(*), sum(CASE WHEN outcome IN ('numerator', 'denominator') THEN 1 ELSE 0 END),
       sum(CASE WHEN outcome = 'numerator' THEN 1 ELSE 0 END) FROM flu65
ORDER BY 1
