#!/usr/bin/env python3
"""The failure keen is built to make impossible, reproduced in Python.

A parent gathers three operations; each enters a zero timeout around one
suspension (`asyncio.sleep(0)`). Under asyncio's default task factory every
operation is a task of its own before its first step runs. Under asynkit's
eager task factory the first step runs inside `create_task`, while the
*parent* is still the current task: `asyncio.timeout()` records the current
task, so all three deadlines belong to the parent, and the first one to fire
cancels the parent, not the operation that set it.

Run by `cargo run --release --example repro` when asynkit is importable
(`pip install asynkit`). Prints one line per task factory; exits 2 if
asynkit is missing. The outcome is information for the contrast, not a test.
"""

import asyncio
import sys


async def op(name):
    async with asyncio.timeout(0):
        await asyncio.sleep(0)
    return name


async def parent():
    try:
        results = await asyncio.gather(
            op("A"), op("B"), op("C"), return_exceptions=True
        )
    except asyncio.CancelledError:
        return "the PARENT was cancelled: CancelledError raised in gather()"
    kinds = [
        type(r).__name__ if isinstance(r, BaseException) else "ok" for r in results
    ]
    return "each operation finished on its own: " + ", ".join(kinds)


def run(factory):
    loop = asyncio.new_event_loop()
    try:
        if factory is not None:
            loop.set_task_factory(factory)
        return loop.run_until_complete(parent())
    except asyncio.CancelledError:
        return "the PARENT was cancelled: CancelledError escaped the event loop"
    finally:
        loop.close()


def main():
    try:
        import asynkit
    except ImportError:
        print("asynkit is not installed: pip install asynkit")
        return 2
    factory = getattr(asynkit, "eager_task_factory", None)
    if factory is None:
        factory = asynkit.create_eager_factory()
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"python {version}, asynkit {getattr(asynkit, '__version__', '?')}")
    print(f"default task factory: {run(None)}")
    print(f"asynkit eager task factory: {run(factory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
