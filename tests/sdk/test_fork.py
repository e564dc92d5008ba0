"""Fork safety: a forked child records and ships on its own; the parent is unaffected."""

from __future__ import annotations

import os
import sys

import pytest

from mlvitals import Monitor
from tests.sdk.conftest import Receiver, validate_wire

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")


def windows_by_instance(records: list[dict[str, object]]) -> dict[object, int]:
    out: dict[object, int] = {}
    for r in records:
        if r["kind"] == "serving_window":
            out[r["instance"]] = out.get(r["instance"], 0) + int(r["calls"])  # type: ignore[call-overload]
    return out


@pytest.mark.parametrize("given_instance", [None, "pod-a"])
def test_child_ships_its_own_calls_and_the_parent_keeps_its_own(
    receiver: Receiver, given_instance: str | None
) -> None:
    m = Monitor("svc", server=receiver.url, instance=given_instance, nvml=False, tick=0.05)
    predict = m.track("predict")(lambda: None)
    for _ in range(3):
        predict()  # buffered in the parent, not shipped yet
    parent = m.instance

    pid = os.fork()
    if pid == 0:  # the child: record, flush, report through the exit code
        code = 3
        try:
            for _ in range(5):
                predict()
            shipped = m.flush(5)
            ok_instance = (
                m.instance == f"{given_instance or parent.rsplit(':', 1)[0]}:{os.getpid()}"
            )
            code = 0 if shipped and ok_instance else 4
            m.close(1)
        except BaseException as exc:  # pragma: no cover - reported via the exit code
            sys.stderr.write(f"child failed: {exc!r}\n")
        finally:
            os._exit(code)

    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child = f"{given_instance or parent.rsplit(':', 1)[0]}:{pid}"
    seen = windows_by_instance(receiver.records)
    # The child shipped its own 5 calls and none of the parent's 3. The parent's may have
    # shipped meanwhile (when a window closed during the test), but only under its own name.
    assert seen.get(child) == 5
    assert set(seen) <= {child, parent} and seen.get(parent, 0) <= 3

    for _ in range(2):
        predict()  # the parent goes on as before
    assert m.flush(5)
    m.close()
    validate_wire(receiver.records)
    assert windows_by_instance(receiver.records) == {child: 5, parent: 5}
    samples = {r["instance"] for r in receiver.records if r["kind"] == "instance_sample"}
    assert samples == {child, parent}
