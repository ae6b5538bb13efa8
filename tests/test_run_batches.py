"""How a run splits its pending documents: Prefect chunks per worker, validation batches."""

from __future__ import annotations

import pytest

from flows.run import chunks, growing_batches


def test_batches_double_up_to_the_largest_and_keep_every_document_in_order() -> None:
    items = list(range(1000))
    batches = growing_batches(items, 64, 256)
    assert [len(b) for b in batches] == [64, 128, 256, 256, 256, 40]
    assert [x for b in batches for x in b] == items


@pytest.mark.parametrize(("count", "sizes"), [(0, []), (10, [10]), (64, [64]), (65, [64, 1])])
def test_small_runs_are_one_first_sized_batch(count: int, sizes: list[int]) -> None:
    assert [len(b) for b in growing_batches(list(range(count)), 64, 256)] == sizes


def test_a_largest_below_the_first_keeps_the_first_size() -> None:
    assert [len(b) for b in growing_batches(list(range(10)), 4, 2)] == [4, 4, 2]


def test_chunks_share_work_among_workers_with_a_cap() -> None:
    assert [len(c) for c in chunks(list(range(10)), 2)] == [3, 3, 3, 1]
    assert [len(c) for c in chunks(list(range(100)), 2, max_size=8)] == [8] * 12 + [4]
    assert chunks([], 2) == []
