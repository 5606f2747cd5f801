"""The benchmarks' own arithmetic: what their tables print must add up."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from types import SimpleNamespace

import psutil
import pytest

from benchmarks.bot import cpu
from benchmarks.bot.cpu import PARTS, CpuMeter, CpuUse
from benchmarks.bot.latency import InteractionClock, Reply, Samples, Timeline


def test_cpu_parts_add_up_to_the_machine_and_split_the_bot_process():
    cores = psutil.cpu_count()
    use = CpuUse(wall=2.0, loop=0.5, bot=1.5, emulator=0.4, fake=0.1, busy=2.6, steal=0.2)
    shares = use.cores()
    assert list(shares) == list(PARTS)
    assert shares["loop thread"] == pytest.approx(0.25)
    assert shares["other bot threads"] == pytest.approx(0.5)
    assert shares["rest"] == pytest.approx((2.6 - 1.5 - 0.4 - 0.1) / 2)
    assert shares["steal"] == pytest.approx(0.1)
    assert sum(shares.values()) == pytest.approx(cores)


def test_a_meter_counts_its_own_threads_work_as_the_loop_threads():
    me = os.getpid()
    with CpuMeter(me, me) as meter:
        spin_until = time.thread_time() + 0.05
        while time.thread_time() < spin_until:
            pass
    assert meter.use.loop >= 0.05
    assert meter.use.bot >= meter.use.loop - 0.001  # two clocks, read microseconds apart
    assert meter.use.wall >= meter.use.loop


def test_a_meter_left_on_another_thread_refuses_to_report():
    me = os.getpid()
    meter = CpuMeter(me, me).__enter__()
    errors = []

    def leave() -> None:
        try:
            meter.__exit__(None, None, None)
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=leave)
    thread.start()
    thread.join()
    assert errors and meter.use is None


def test_a_meter_names_the_other_threads_that_worked():
    me = os.getpid()
    worked, release = threading.Barrier(3), threading.Event()

    def spin() -> None:
        until = time.thread_time() + 0.1
        while time.thread_time() < until:
            pass
        worked.wait()
        release.wait()  # alive at the end reading, which only counts live threads

    workers = [threading.Thread(target=spin, name=f"bench8-spin_{n}") for n in range(2)]
    with CpuMeter(me, me) as meter:
        for worker in workers:
            worker.start()
        worked.wait()
    release.set()
    for worker in workers:
        worker.join()
    # Both threads' time under one name; per-thread times are in 10 ms ticks.
    assert meter.use.threads["bench8-spin"] >= 0.18
    assert "bench8-spin_0" not in meter.use.threads


def _reply(interaction_id: int, created: float, sent: float, acked: float) -> Reply:
    return Reply(acked - created, None, "ok", None, Timeline(interaction_id, created, sent, acked))


class _ListeningBot:
    """What InteractionClock uses of a discord.Client: its listeners."""

    def __init__(self) -> None:
        self.listeners: list = []

    def add_listener(self, listener, name: str) -> None:
        assert name == "on_interaction"
        self.listeners.append(listener)

    def remove_listener(self, listener, name: str) -> None:
        self.listeners.remove(listener)


def test_a_clock_puts_the_bots_side_into_each_timeline_it_saw():
    bot = _ListeningBot()
    with InteractionClock(bot) as clock:
        assert len(bot.listeners) == 1
        asyncio.run(bot.listeners[0](SimpleNamespace(id=7)))
    assert bot.listeners == []
    seen = clock.complete(_reply(7, 1.0, 1.1, 1.5))
    unseen = clock.complete(_reply(8, 1.0, 1.1, 1.5))
    assert seen.timeline.received is not None
    assert unseen.timeline.received is None and unseen.timeline.parts() is None


def test_the_slowest_deferrals_parts_are_the_means_of_the_slowest_timelines():
    samples = Samples()
    fast = [_reply(n, 0.0, 0.001, 0.010) for n in range(3)]
    slow = _reply(9, 0.0, 0.002, 0.200)
    incomplete = _reply(10, 0.0, 0.0, 5.0)  # no bot side: left out of the parts
    received = [dataclasses.replace(r.timeline, received=0.005) for r in (*fast, slow)]
    samples.add(
        [dataclasses.replace(r, timeline=t) for r, t in zip((*fast, slow), received, strict=True)]
        + [incomplete]
    )
    n, parts = samples.slowest_parts(0.25)
    assert n == 1
    assert parts == pytest.approx([0.002, 0.003, 0.195])
    n, parts = samples.slowest_parts(1.0)
    assert n == 4
    assert sum(parts) == pytest.approx((3 * 0.010 + 0.200) / 4)
    assert Samples().slowest_parts(0.05) is None


def test_cpu_pressure_is_read_in_seconds_and_shown_as_a_share(tmp_path, monkeypatch):
    pressure = tmp_path / "cpu"
    pressure.write_text(
        "some avg10=1.00 avg60=0.50 avg300=0.10 total=2500000\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    monkeypatch.setattr(cpu, "PRESSURE", pressure)
    assert cpu._cpu_pressure() == pytest.approx(2.5)
    monkeypatch.setattr(cpu, "PRESSURE", tmp_path / "absent")
    assert cpu._cpu_pressure() is None
    base = {"loop": 0, "bot": 0, "emulator": 0, "fake": 0, "busy": 0, "steal": 0}
    assert CpuUse(wall=2.0, waited=0.5, **base).waiting() == "25%"
    assert CpuUse(wall=2.0, **base).waiting() == "-"
