"""Ctrl-C during a write to the study is held until the next safe point; while scoring it lands at once."""
import os
import signal
import threading

import pytest

from tfnas.interrupts import DeferredInterrupts


@pytest.fixture(autouse=True)
def main_thread_default_handler():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_sigint_during_a_write_is_held_until_the_next_check():
    with DeferredInterrupts() as gate:
        assert gate.active
        os.kill(os.getpid(), signal.SIGINT)  # "inside a write": nothing is raised here
        assert gate.caught
        with pytest.raises(KeyboardInterrupt):
            gate.check()
        gate.check()  # raised once only
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_sigint_while_allowed_lands_at_once_and_holding_resumes_after():
    with DeferredInterrupts() as gate:
        with pytest.raises(KeyboardInterrupt):
            with gate.allowed():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):  # the handler runs between bytecodes
                    pass
        os.kill(os.getpid(), signal.SIGINT)  # held again outside allowed()
        assert gate.caught


def test_a_programs_own_handler_is_left_alone():
    mine = lambda signum, frame: None  # noqa: E731
    signal.signal(signal.SIGINT, mine)
    with DeferredInterrupts() as gate:
        assert not gate.active and signal.getsignal(signal.SIGINT) is mine
