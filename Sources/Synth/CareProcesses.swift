import Clinical

/// The rest of the QOF care a practice records: stroke risk scores and anticoagulants for AF,
/// antiplatelets, statins, heart failure drugs and reviews, diabetes foot checks and education,
/// asthma diagnosis tests, dementia and mental health care plans, smoking support and cervical
/// screening. Most of these clusters are not in the shipped code lists: `add` records nothing for a
/// cluster without codes, so this care appears only once a site has imported the PCD refset release.
/// It draws from its own random stream (seeded by the patient id), so the rest of a generated
/// population is the same whether or not these clusters have codes.
extension Monitoring {
    func careProcesses(_ p: inout SynthPatient, conditions: [ConditionModel.ID: Day]) {
        var r = SynthRandom.derived(FNV1a.hash(p.id), 0xCA2E)
        let has = { (c: ConditionModel.ID) in conditions[c] != nil }
        let issueWindow = dataTo.adding(months: -6).adding(days: 1)
        func issue(_ cluster: String, _ r: inout SynthRandom) {
            guard let code = generator.code(cluster, &r) else { return }
            for _ in 0..<r.int(1...3) {
                p.medications.append(SynthMedication(date: generator.day(between: issueWindow, and: dataTo, &r), code: code, quantity: 28))
            }
        }

        if let af = conditions[.af] {
            let score = Double(min(9, max(0, (age >= 75 ? 2 : age >= 65 ? 1 : 0) + (p.sex == .female ? 1 : 0) + r.int(0...3))))
            if r.chance(0.75) { add(&p, "CHADVASC_COD", on: recent(&r), value: score, &r) }
            else if r.chance(0.5) { add(&p, "CHADVASC_COD", on: generator.day(between: af, and: dataTo, &r), value: score, &r) }
            if score >= 2 {
                if r.chance(0.8) { issue("DOAC_COD", &r) }
                else if r.chance(0.3) { issue("VKA_COD", &r); add(&p, "ORANTICOAGDEC_COD", on: recent(&r), kind: .procedure, &r) }
            }
            if r.chance(0.02) { add(&p, "AFIBPCADEC_COD", on: recent(&r), kind: .procedure, &r) }
        }
        if has(.chd) || has(.stroke) || has(.pad) {
            if r.chance(0.85) { issue("ANTIPLT_COD", &r) } else if r.chance(0.2) { add(&p, "XSAL_COD", on: recent(&r, months: 60), &r) }
        }
        if has(.stroke), r.chance(0.7) { add(&p, "TIA_COD", on: recent(&r, months: 120), kind: .condition, &r) }
        let cvd = has(.chd) || has(.stroke) || has(.pad) || has(.ckd)
        if cvd || (has(.diabetes) && age >= 40) {
            if r.chance(0.78) { issue("STAT_COD", &r) }
            else if r.chance(0.3) { add(&p, "STATINDEC_COD", on: recent(&r), kind: .procedure, &r); if r.chance(0.5) { issue("LLT_COD", &r) } }
        }
        if has(.heartFailure) {
            if r.chance(0.45) { add(&p, "HFLVSD_COD", on: conditions[.heartFailure]!, kind: .condition, &r) }
            if r.chance(0.8) { issue(r.chance(0.6) ? "ACE_COD" : "AII_COD", &r) }
            if r.chance(0.75) { issue("LBB_COD", &r) }
            if r.chance(0.7) { add(&p, "HFRVW_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.75) { add(&p, "ECOG_COD", on: conditions[.heartFailure]!.adding(days: r.int(-60...150)), kind: .procedure, &r) }
        }
        if let dm = conditions[.diabetes] {
            if r.chance(0.08) { add(&p, r.chance(0.7) ? "MAL_COD" : "PRT_COD", on: generator.day(between: dm, and: dataTo, &r), &r); issue(r.chance(0.6) ? "ACE_COD" : "AII_COD", &r) }
            if r.chance(0.8) { add(&p, "FRC_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.75) { add(&p, "DSEP_COD", on: dm.adding(days: r.int(7...300)), kind: .procedure, &r) }
        }
        if let ast = conditions[.asthma] {
            if r.chance(0.6) { add(&p, age >= 16 ? "FENO_COD" : "ASTSPIR_COD", on: ast.adding(days: r.int(-80...80)), &r) }
        }
        if has(.dementia), r.chance(0.65) { add(&p, "DEMCPRVW_COD", on: recent(&r), kind: .procedure, &r) }
        if has(.smi) {
            if r.chance(0.75) { add(&p, "MHP_COD", on: recent(&r), kind: .procedure, &r) }
            if r.chance(0.8) { add(&p, "ALC_COD", on: recent(&r), &r) }
        }
        if age >= 15, r.chance(0.09) { add(&p, "REFERSSSA_COD", on: recent(&r, months: 24), kind: .procedure, &r) }
        if p.sex == .female, age >= 25, age <= 64 {
            if r.chance(0.04) { add(&p, "NOCX_COD", on: recent(&r, months: 240), kind: .procedure, &r) }
            if r.chance(0.72) { add(&p, "SMEAR_COD", on: recent(&r, months: age < 50 ? 42 : 66), kind: .procedure, &r) }
        }
        // HDL cholesterol beside the total (for cholesterol ratios: QRISK3) and the palliative care register, from
        // their own stream so the rest of the record is unchanged.
        var h = SynthRandom.derived(FNV1a.hash(p.id), 0x4D1C)
        if age >= 25, h.chance(cvd || has(.diabetes) || age >= 40 ? 0.6 : 0.15) {
            add(&p, "HDLCCHOL_COD", on: recent(&h, months: 36), value: (min(3.0, max(0.5, h.normal(mean: 1.4, sd: 0.4))) * 10).rounded() / 10,
                unit: "mmol/L", &h)
        }
        if h.chance(age >= 85 ? 0.03 : age >= 75 ? 0.01 : 0.001) { add(&p, "PALCARE_COD", on: recent(&h, months: 12), kind: .procedure, &h) }
        // Urgent suspected lower-GI cancer referrals (about 1 % of adults 40+ a year; IIF CAN-04), most with a FIT
        // result in the 21 days before, some with one too early, and a few with none.
        if age >= 40, r.chance(0.012) {
            let referral = recent(&r)
            add(&p, "GICANREF_COD", on: referral, kind: .procedure, &r)
            if r.chance(0.74) {
                add(&p, "FAECIMM_COD", on: referral.adding(days: -r.int(0...21)), value: Double(r.int(10...400)), unit: "ug/g", &r)
            } else if r.chance(0.4) {
                add(&p, "FAECIMM_COD", on: referral.adding(days: -r.int(22...90)), value: Double(r.int(10...400)), unit: "ug/g", &r)
            }
        }
    }
}
