from reimbursement.checklists import build_checklist, missing_requirements, satisfied


def codes(items):
    return [item.code for item in items]


def test_inpatient_base_materials_follow_article_27():
    items = build_checklist(care_type="inpatient")
    assert [item.label for item in items] == [
        "有效身份证明材料（医保电子凭证、有效身份证件或社会保障卡）",
        "医院收费票据",
        "住院费用清单",
        "诊断证明（或出院小结）",
    ]
    assert items[0].alternatives == ("医保电子凭证", "有效身份证件", "社会保障卡")


def test_outpatient_emergency_and_maternity_base_materials():
    assert codes(build_checklist(care_type="outpatient")) == ["id_proof", "invoice", "outpatient_fee_list", "prescription_or_record"]
    assert codes(build_checklist(care_type="emergency")) == ["id_proof", "invoice", "emergency_fee_list", "emergency_diagnosis_or_record"]
    assert [i.label for i in build_checklist(care_type="maternity")][1:] == ["生育或产前检查医药费票据", "医疗费明细清单", "出院小结"]


def test_extras_add_their_items_once():
    items = build_checklist(
        care_type="inpatient",
        rescue=True,
        patient_deceased=True,
        accidental_injury=True,
        dual_channel_drugs=True,
        drugs_bought_outside=True,
    )
    assert codes(items)[4:] == [
        "rescue_record",
        "discharge_summary",
        "death_record",
        "accident_proof",
        "dual_channel_form",
        "outside_invoice",
        "outside_order_or_prescription",
    ]
    accident = next(i for i in items if i.code == "accident_proof")
    assert "外伤无第三方责任承诺书（附件7）" in accident.alternatives
    # maternity already asks for the 出院小结: rescue does not add it twice
    assert codes(build_checklist(care_type="maternity", rescue=True)).count("discharge_summary") == 1
    # an emergency visit that was not a stay needs no 出院小结
    assert "discharge_summary" not in codes(build_checklist(care_type="emergency", rescue=True))


def test_region_published_materials_come_last():
    items = build_checklist(care_type="outpatient", regional=[("region-7", "本人银行卡复印件")])
    assert items[-1].code == "region-7" and items[-1].source == "region"


def test_any_alternative_satisfies_an_item_and_missing_lists_the_rest():
    items = build_checklist(care_type="inpatient")
    diagnosis = items[3]
    assert satisfied(diagnosis, {"diagnosis_or_summary:1"}) == ["出院小结"]
    assert satisfied(diagnosis, {"diagnosis_or_summary"}) == []
    missing = missing_requirements(items, {"id_proof:0", "invoice", "diagnosis_or_summary:1"})
    assert [m.label for m in missing] == ["住院费用清单"]


def test_one_discharge_summary_satisfies_the_base_alternative_and_the_rescue_item():
    from reimbursement.checklists import expand_ticks

    items = build_checklist(care_type="inpatient", rescue=True)
    base = {"id_proof:0", "invoice", "inpatient_fee_list", "rescue_record"}
    # ticked as the base alternative 出院小结 …
    assert missing_requirements(items, base | {"diagnosis_or_summary:1"}) == []
    # … or as the rescue item 出院小结: the same paper, one tick
    assert missing_requirements(items, base | {"discharge_summary"}) == []
    assert "diagnosis_or_summary:1" in expand_ticks(items, base | {"discharge_summary"})
    # a 诊断证明 does not stand in for the 出院小结 rescue needs
    assert [m.code for m in missing_requirements(items, base | {"diagnosis_or_summary:0"})] == ["discharge_summary"]
