"""The benchmarks' own arithmetic: what their tables print must add up."""

from __future__ import annotations

import os
import threading
import time

import psutil
import pytest

from benchmarks.bot.cpu import PARTS, CpuMeter, CpuUse


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
