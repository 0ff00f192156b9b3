"""agents/app.py: the consumer never commits over a record no agent finished.

Faust's commit arithmetic runs on a consumer built without a broker: only the
bookkeeping fields ``_new_offset`` reads are set.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest
from faust.types import TP as TopicPartition
from intervaltree import IntervalTree

from agents.app import _Consumer

TP = TopicPartition("raw", 0)


def consumer(committed: int | None, acked: list[int], handed: list[int]) -> Any:
    c = object.__new__(_Consumer)
    c._committed_offset = defaultdict(lambda: None, {TP: committed})
    c._acked = defaultdict(list, {TP: list(acked)})
    c._acked_index = defaultdict(set, {TP: set(acked)})
    c._gap = defaultdict(IntervalTree)
    c._lowest_handed = {TP: min(handed)} if handed else {}
    c._sought = {}
    return c


def test_the_commit_holds_at_a_committed_offset_no_agent_was_handed() -> None:
    # Faust alone commits 13 here (it allows for a transaction marker at 10,
    # which wirewatch's topics never hold): after a restart that was a record
    # its fetch loop skipped, committed unprocessed.
    c = consumer(10, [11, 12], handed=[])
    assert c._new_offset(TP) is None


def test_offsets_the_fetch_loop_skipped_are_not_counted_as_done() -> None:
    # Committed 4590, first record handed on 4593: Faust's fetch loop reports
    # 4591-4593 as a gap, which Faust alone counts as done.
    c = consumer(4590, [4593, 4594], handed=[4593, 4594])
    asyncio.run(c._add_gap(TP, 4591, 4593))
    assert not c._gap[TP]
    assert c._new_offset(TP) is None


def test_a_handed_on_record_nobody_acked_holds_the_commit() -> None:
    c = consumer(10, [11, 12], handed=[10, 11, 12])
    assert c._new_offset(TP) is None
    c._acked[TP].insert(0, 10)  # acked after all (fetched again and processed)
    c._acked_index[TP].add(10)
    assert c._new_offset(TP) == 13
    assert TP not in c._lowest_handed  # forgotten once committed


def test_without_a_commit_the_lowest_offset_handed_on_is_the_head() -> None:
    assert consumer(None, [1, 2], handed=[0, 1, 2])._new_offset(TP) is None
    assert consumer(None, [0, 1, 2], handed=[0, 1, 2])._new_offset(TP) == 3


def test_later_holes_are_left_to_faust() -> None:
    # Faust commits the run that starts at the committed offset and stops at a hole.
    c = consumer(10, [10, 11, 13], handed=[10, 11, 12, 13])
    assert c._new_offset(TP) == 12
    assert TP not in c._lowest_handed  # forgotten once committed


def test_the_lowest_offset_handed_on_of_a_revoked_partition_is_forgotten(monkeypatch) -> None:
    c = consumer(10, [], handed=[10, 11])
    revoked: list[Any] = []

    async def faust_revoke(self: Any, partitions: set[Any]) -> None:
        revoked.append(partitions)

    monkeypatch.setattr("faust.transport.drivers.aiokafka.Consumer.on_partitions_revoked",
                        faust_revoke)
    asyncio.run(c.on_partitions_revoked({TP}))
    assert TP not in c._lowest_handed and revoked == [{TP}]


def seeking_consumer(monkeypatch, committed: dict[Any, int], fail: bool = False) -> Any:
    """A consumer whose Faust seek to ``committed`` records whether the flow was running."""
    c = consumer(None, [], handed=[])
    c.flow_active = True
    c.can_resume_flow, c.suspend_flow = asyncio.Event(), asyncio.Event()
    c._read_offset = defaultdict(lambda: None)
    c.flow_during_seek = []

    async def faust_seek_to_committed(self: Any) -> dict[Any, int]:
        self.flow_during_seek.append(self.flow_active)
        if fail:
            raise TimeoutError("no answer from the coordinator")
        return dict(committed)

    async def faust_perform_seek(self: Any) -> None:
        # Faust's own: seek, then take the committed offsets as read offsets.
        sought = await self.seek_to_committed()
        self._read_offset.update({tp: offset or None for tp, offset in sought.items()})

    monkeypatch.setattr("faust.transport.drivers.aiokafka.Consumer.seek_to_committed",
                        faust_seek_to_committed)
    monkeypatch.setattr("faust.transport.drivers.aiokafka.Consumer.perform_seek",
                        faust_perform_seek)
    return c


def test_the_seek_to_the_committed_offsets_runs_with_the_flow_stopped(monkeypatch) -> None:
    # Recovery seeks with the flow running; the fetch loop then went on
    # handing on a batch fetched before the seek. Faust's recovery resumes
    # the flow itself once it has cleared the stream queues.
    c = seeking_consumer(monkeypatch, {TP: 4590})
    asyncio.run(c.perform_seek())
    assert c.flow_during_seek == [False]
    assert not c.flow_active and c.suspend_flow.is_set()
    c._read_offset[TP] = 4593  # the record being handed on when the flow stopped
    c.resume_flow()
    assert c.flow_active and c._read_offset[TP] == 4590  # 4590-4593 are read again
    c._read_offset[TP] = 4600
    c.resume_flow()  # a later resume leaves the read offsets alone
    assert c._read_offset[TP] == 4600


def test_a_seek_that_fails_gives_back_the_flow_it_stopped(monkeypatch) -> None:
    c = seeking_consumer(monkeypatch, {}, fail=True)
    with pytest.raises(TimeoutError):
        asyncio.run(c.perform_seek())
    assert c.flow_active
