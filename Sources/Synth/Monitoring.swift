import Foundation
import Clinical

/// The care a practice records for a patient: BP readings, HbA1c, reviews, invitations, PCA codes,
/// smoking status, vaccinations and medication issues, at realistic and imperfect rates.
struct Monitoring {
    let generator: PracticeGenerator
    let dataTo: Day
    let age: Int

    var yearStart: Day { dataTo.adding(months: -12).adding(days: 1) }

    func add(_ p: inout SynthPatient, _ cluster: String, on date: Day, value: Double? = nil, value2: Double? = nil,
                     unit: String? = nil, kind: RecordKind = .observation, _ r: inout SynthRandom) {
        guard let c = generator.code(cluster, &r), date >= p.birth, date <= dataTo else { return }
        p.events.append(SynthEvent(date: date, code: c, value: value, value2: value2, unit: unit, kind: kind))
    }

    func recent(_ r: inout SynthRandom, months: Int = 12) -> Day {
        generator.day(between: dataTo.adding(months: -months).adding(days: 1), and: dataTo, &r)
    }

    func record(_ p: inout SynthPatient, conditions: [ConditionModel.ID: Day], _ r: inout SynthRandom) {
        let has = { (c: ConditionModel.ID) in conditions[c] != nil }
        let cardiovascular = has(.hypertension) || has(.chd) || has(.stroke) || has(.diabetes) || has(.heartFailure)
            || has(.ckd) || has(.pad)

        // Blood pressure: most patients on a CVD register have one in the year; many adults 45+ in 5 years.
        if cardiovascular || has(.smi) {
            if r.chance(0.86) {
                for _ in 0..<r.int(1...3) { bloodPressure(&p, on: recent(&r), controlled: r.chance(0.72), &r) }
            } else if r.chance(0.35) {
                // Invited twice, at least 7 days apart, no reading.
                let first = generator.day(between: yearStart, and: dataTo.adding(days: -40), &r)
                add(&p, "HYPINVITE_COD", on: first, kind: .procedure, &r)
                add(&p, "HYPINVITE_COD", on: first.adding(days: r.int(7...35)), kind: .procedure, &r)
            }
            if r.chance(0.012) { add(&p, "HYPPCADEC_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.006) { add(&p, "HYPPCAPU_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.015) { add(&p, "HTMAX_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.006) { add(&p, "BPDEC_COD", on: recent(&r), kind: .procedure, &r) }
        } else if age >= 45 {
            if r.chance(0.78) { bloodPressure(&p, on: recent(&r, months: 60), controlled: r.chance(0.8), &r) }
            if r.chance(0.01) { add(&p, "BPDEC_COD", on: recent(&r, months: 60), kind: .procedure, &r) }
        } else if age >= 18, r.chance(0.3) {
            bloodPressure(&p, on: recent(&r, months: 60), controlled: true, &r)
        }

        if has(.diabetes) {
            if r.chance(0.88) {
                for _ in 0..<r.int(1...2) {
                    let hba1c = max(30, min(150, exp(r.normal(mean: log(54), sd: 0.22))).rounded())
                    add(&p, "IFCCHBAM_COD", on: recent(&r), value: hba1c, unit: "mmol/mol", &r)
                }
            } else if r.chance(0.4) {
                let first = generator.day(between: yearStart, and: dataTo.adding(days: -40), &r)
                add(&p, "DMINVITE_COD", on: first, kind: .procedure, &r)
                add(&p, "DMINVITE_COD", on: first.adding(days: r.int(7...35)), kind: .procedure, &r)
            }
            if r.chance(0.012) { add(&p, "DMPCADEC_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.006) { add(&p, "DMPCAPU_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.01) { add(&p, "DMMAX_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.006) { add(&p, "BLDTESTDEC_COD", on: recent(&r), kind: .procedure, &r) }
        }
        if has(.ndh), r.chance(0.7) {
            add(&p, "IFCCHBAM_COD", on: recent(&r), value: Double(r.int(42...47)), unit: "mmol/mol", &r)
        }
        if age >= 65 {
            let u = r.unit()
            let frailty = u < 0.05 ? "SEVFRAIL_COD" : u < 0.16 ? "MODFRAIL_COD" : u < 0.36 ? "MILDFRAIL_COD" : nil
            if let frailty { add(&p, frailty, on: recent(&r, months: 36), kind: .observation, &r) }
        }

        // Reviews.
        if has(.asthma) {
            if r.chance(0.62) {
                let review = recent(&r)
                add(&p, "ASTCONTASS_COD", on: review, value: Double(r.int(12...25)), &r)
                add(&p, "ASTEXACB_COD", on: review, value: Double(r.int(0...3)), &r)
                add(&p, "WRITPASTP_COD", on: review, kind: .procedure, &r)
                add(&p, "REV_COD", on: review, kind: .procedure, &r)
            } else if r.chance(0.3) {
                let first = generator.day(between: yearStart, and: dataTo.adding(days: -40), &r)
                add(&p, "ASTINVITE_COD", on: first, kind: .procedure, &r)
                add(&p, "ASTINVITE_COD", on: first.adding(days: r.int(7...30)), kind: .procedure, &r)
            }
            for _ in 0..<r.int(0...6) {
                if let drug = generator.code("primis-astrx", &r) {
                    p.medications.append(SynthMedication(date: recent(&r), code: drug, quantity: Double(r.int(1...2))))
                }
            }
        }
        if has(.copd), r.chance(0.74) { add(&p, "COPDRVW_COD", on: recent(&r), kind: .procedure, &r) }
        if (has(.chd) || has(.stroke) || has(.pad) || has(.diabetes) || has(.smi)), r.chance(0.7) {
            add(&p, "CHOL2_COD", on: recent(&r), value: (r.normal(mean: 4.6, sd: 0.9) * 10).rounded() / 10, unit: "mmol/L", &r)
            add(&p, "gmsde-ldl-cholesterol", on: recent(&r), value: max(0.5, (r.normal(mean: 2.3, sd: 0.7) * 10).rounded() / 10),
                unit: "mmol/L", &r)
        }
        if age >= 25, age <= 84, r.chance(cardiovascular ? 0.4 : 0.12) {
            add(&p, "QRISKSCORE_COD", on: recent(&r, months: 36), value: Double(r.int(2...35)), unit: "%", &r)
        }
        if r.chance(cardiovascular ? 0.5 : 0.05) { add(&p, "MEDRVW_COD", on: recent(&r), kind: .procedure, &r) }

        history(&p, conditions: conditions, &r)
        careProcesses(&p, conditions: conditions)
        smoking(&p, longTermCondition: !conditions.isEmpty, &r)
        vaccinations(&p, atRisk: !conditions.isEmpty, &r)
        if p.sex == .female, age >= 16, age <= 45, r.chance(0.015) { add(&p, "PREG_COD", on: recent(&r, months: 6), kind: .condition, &r) }
        if r.chance(0.03), age >= 18 { add(&p, "gmsde-carer", on: recent(&r, months: 48), kind: .observation, &r) }
        if age >= 75, r.chance(0.05) { add(&p, "CAREHOME_COD", on: recent(&r, months: 48), kind: .observation, &r) }
        if age >= 18, r.chance(0.45) {
            add(&p, "BMIVAL_COD", on: recent(&r, months: 36), value: (r.normal(mean: 27.5, sd: 5) * 10).rounded() / 10,
                unit: "kg/m2", &r)
        }
    }

    /// Earlier years' monitoring: what a practice recorded before this QOF year, back to the diagnosis
    /// (at most five years), at the same imperfect rates.
    private func history(_ p: inout SynthPatient, conditions: [ConditionModel.ID: Day], _ r: inout SynthRandom) {
        guard let firstDiagnosis = conditions.values.min() else {
            if age >= 40, r.chance(0.5) { bloodPressure(&p, on: recent(&r, months: 120), controlled: r.chance(0.8), &r) }
            return
        }
        for yearsBack in 1...5 {
            let from = dataTo.adding(years: -yearsBack - 1).adding(days: 1)
            let to = dataTo.adding(years: -yearsBack)
            guard to > firstDiagnosis, to > p.birth else { break }
            if r.chance(0.8) {
                for _ in 0..<r.int(1...2) { bloodPressure(&p, on: generator.day(between: from, and: to, &r), controlled: r.chance(0.7), &r) }
            }
            if conditions[.diabetes] != nil {
                for _ in 0..<r.int(1...3) where r.chance(0.85) {
                    let hba1c = max(30, min(150, exp(r.normal(mean: log(55), sd: 0.24))).rounded())
                    add(&p, "IFCCHBAM_COD", on: generator.day(between: from, and: to, &r), value: hba1c, unit: "mmol/mol", &r)
                }
            }
            if conditions[.asthma] != nil, r.chance(0.6) {
                add(&p, "ASTCONTASS_COD", on: generator.day(between: from, and: to, &r), value: Double(r.int(12...25)), &r)
            }
            if conditions[.copd] != nil, r.chance(0.7) {
                add(&p, "COPDRVW_COD", on: generator.day(between: from, and: to, &r), kind: .procedure, &r)
            }
            if r.chance(0.5) {
                add(&p, "BMIVAL_COD", on: generator.day(between: from, and: to, &r), value: (r.normal(mean: 28, sd: 5) * 10).rounded() / 10,
                    unit: "kg/m2", &r)
            }
            if r.chance(0.6) {
                add(&p, r.chance(0.13) ? "LSMOK_COD" : "gmsde-smoking-status-never", on: generator.day(between: from, and: to, &r), &r)
            }
        }
    }

    private func bloodPressure(_ p: inout SynthPatient, on date: Day, controlled: Bool, _ r: inout SynthRandom) {
        let limit = age >= 80 ? 150.0 : 140.0
        var systolic = controlled ? r.normal(mean: limit - 12, sd: 8) : r.normal(mean: limit + 14, sd: 10)
        var diastolic = controlled ? r.normal(mean: 78, sd: 6) : r.normal(mean: 88, sd: 8)
        systolic = min(230, max(85, systolic.rounded()))
        diastolic = min(130, max(45, diastolic.rounded()))
        if controlled { diastolic = min(diastolic, 90) }
        let code: UInt64 = 75367002  // Blood pressure (observable entity), in BP_COD
        p.events.append(SynthEvent(date: date, code: code, value: systolic, value2: diastolic, unit: "mm[Hg]", kind: .observation))
    }

    private func smoking(_ p: inout SynthPatient, longTermCondition: Bool, _ r: inout SynthRandom) {
        guard age >= 15 else { return }
        let u = r.unit()
        let status = u < 0.127 ? "LSMOK_COD" : u < 0.38 ? "EXSMOK_COD" : "gmsde-smoking-status-never"
        let recorded = r.chance(longTermCondition ? 0.88 : 0.35)
        let date = recorded ? recent(&r) : recent(&r, months: 120)
        add(&p, status, on: date, &r)
    }

    private func vaccinations(_ p: inout SynthPatient, atRisk: Bool, _ r: inout SynthRandom) {
        // Seasonal flu: children are vaccinated from 1 September, adults from 1 October (a few adult doses are
        // recorded in September, as in practice, for the VACC_BEFORE_START check); on a day up to the data-to date.
        let year = dataTo.components.month >= 9 ? dataTo.year : dataTo.year - 1
        let early = age >= 18 && r.chance(0.01)
        let seasonStart = Day(year: year, month: age >= 18 && !early ? 10 : 9, day: 1)!
        if dataTo >= seasonStart {
            let uptake = age >= 65 ? 0.75 : atRisk && age >= 18 ? 0.42 : age >= 2 && age <= 3 ? 0.43 : 0.04
            if r.chance(uptake) {
                let cluster = r.chance(0.7) ? "qofd-flu-given-by-practice" : "qofd-flu-given-elsewhere"
                let last = early ? min(dataTo, Day(year: year, month: 9, day: 30)!) : dataTo
                add(&p, cluster, on: generator.day(between: seasonStart, and: last, &r), kind: .immunization, &r)
            }
        }
        if age >= 70, age <= 80, r.chance(0.6) {
            add(&p, "SHVACGP_COD", on: generator.day(between: p.birth.adding(years: 70), and: dataTo, &r), kind: .immunization, &r)
        }
        // Childhood schedule: DTaP-containing vaccine at 8, 12 and 16 weeks; MMR at 1 year and 3 years 4 months.
        if age <= 6 {
            for weeks in [8, 12, 16] where r.chance(0.93) {
                add(&p, "cprdaurum-vacc_dtap_ipv_hib_hepb_menc_combined_medcodes",
                    on: p.birth.adding(days: 7 * weeks + r.int(0...20)), kind: .immunization, &r)
            }
            if r.chance(0.9) { add(&p, "gmsde-mmr-vaccination", on: p.birth.adding(years: 1).adding(days: r.int(0...60)), kind: .immunization, &r) }
            if r.chance(0.85) {
                let preschool = p.birth.adding(months: 40).adding(days: r.int(0...90))
                add(&p, "gmsde-mmr-vaccination", on: preschool, kind: .immunization, &r)
                if r.chance(0.95) { add(&p, "cprdaurum-vacc_dtap_ipv_hib_hepb_menc_combined_medcodes", on: preschool, kind: .immunization, &r) }
            }
        }
    }
}
