"""Accuracy: Wilson intervals, honest SLA verdicts, QA sampling and what counts as checked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from billing.accuracy import (
    AccuracyStatus,
    QAStatus,
    judge,
    load_quality,
    measure,
    qa_sample,
    wilson_interval,
)
from core.db import CorrectionRow, DocumentRow, QueueItemRow, init_db, session_scope


@pytest.mark.parametrize(
    ("correct", "n", "low", "high"),
    [  # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(correct, n, low, high):
    got_low, got_high = wilson_interval(correct, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_is_symmetric_and_bounded():
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and low == pytest.approx(1 - wilson_interval(0, 20)[1])
    with pytest.raises(ValueError):
        wilson_interval(0, 0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_verdicts_are_statistically_honest():
    # 300 fields all correct: 100 %, but the interval reaches below 99.5 %
    small = judge(300, 300, 0.995)
    assert small.status is AccuracyStatus.TOO_SMALL
    assert "sample too small to tell" in small.message
    assert small.low < 0.995 < small.high
    # the same perfect record over 5,000 fields clears the SLA
    assert judge(5000, 5000, 0.995).status is AccuracyStatus.MET
    # 97 % over 2,000 fields is a clear miss
    missed = judge(1940, 2000, 0.995)
    assert missed.status is AccuracyStatus.MISSED and missed.high < 0.995
    assert judge(0, 0, 0.995).status is AccuracyStatus.NO_DATA
    assert judge(10, 10, None).status is AccuracyStatus.NO_SLA


def test_qa_sample_is_deterministic_and_close_to_its_rate():
    ids = [f"{i:064x}" for i in range(20000)]
    first = [qa_sample(i, 0.02) for i in ids]
    assert first == [qa_sample(i, "0.02") for i in ids]
    assert 0.017 < sum(first) / len(ids) < 0.023
    assert not any(qa_sample(i, 0) for i in ids[:1000])
    assert all(qa_sample(i, 1) for i in ids[:1000])
    # a higher rate keeps every document the lower rate chose (the sample only grows)
    assert all(qa_sample(i, 0.05) for i, chosen in zip(ids, first, strict=True) if chosen)
    with pytest.raises(ValueError):
        qa_sample(ids[0], 1.5)


def test_qa_items_without_corrections_count_as_all_correct(tmp_path):
    engine = init_db(f"sqlite:///{tmp_path / 'q.db'}")
    fields = {name: {"value": "x"} for name in ("a", "b", "c", "d")}
    with session_scope(engine) as s:
        for doc in ("clean", "wrong", "open", "reviewed", "unsampled"):
            s.add(
                DocumentRow(
                    id=doc,
                    client="acme",
                    source_uri=doc,
                    filename=doc,
                    size=1,
                    status="posted",
                    received_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
                    extraction={"fields": fields},
                )
            )
        s.add(QueueItemRow(document_id="clean", client="acme", queue="qa", state="done"))
        s.add(QueueItemRow(document_id="wrong", client="acme", queue="qa", state="done"))
        s.add(QueueItemRow(document_id="open", client="acme", queue="qa", state="claimed"))
        for name, old, new in (
            ("a", "1", "2"),
            ("a", "2", "3"),
            ("b", "x", "x"),
            ("missing", None, "7"),
        ):
            s.add(
                CorrectionRow(
                    document_id="wrong",
                    client="acme",
                    field=name,
                    old_value=old,
                    new_value=new,
                    source="qa",
                    reviewer="bob",
                )
            )
        s.add(
            CorrectionRow(
                document_id="reviewed",
                client="acme",
                field="c",
                old_value="1",
                new_value="2",
                source="review",
                reviewer="alice",
            )
        )
    with session_scope(engine) as s:
        q = load_quality(s, "acme", select(DocumentRow.id), reviewed=["reviewed"])
    assert q["clean"].qa_status is QAStatus.PASSED
    assert (q["clean"].qa_checked, q["clean"].qa_wrong) == (4, 0)
    # 'a' changed twice counts once; 'b' unchanged is not an error; 'missing' was not delivered
    assert q["wrong"].qa_status is QAStatus.FAILED
    assert (q["wrong"].qa_checked, q["wrong"].qa_wrong) == (5, 2)
    assert q["open"].qa_status is QAStatus.PENDING
    assert "unsampled" not in q
    assert (q["reviewed"].review_checked, q["reviewed"].review_wrong) == (4, 1)

    qa = measure(q.values(), source="qa", unit="field", sla=0.995)
    assert (qa.correct, qa.n, qa.documents) == (7, 9, 2)
    docs = measure(q.values(), source="qa", unit="document", sla=0.995)
    assert (docs.correct, docs.n) == (1, 2)
    review = measure(q.values(), source="review", unit="field", sla=None)
    assert (review.correct, review.n) == (3, 4)
