#!/usr/bin/env python3
"""The reported failure itself: redis-py under asynkit's eager task factory.

Usage: seed_redis.py PORT (a redis-server on 127.0.0.1:PORT).

A parent gathers 100 children; each sends `ECHO child-i` through one
redis-py client whose pool already holds connected connections. Taking
one from redis-py's pool runs
`can_read_destructive()`, a zero timeout around a read. Under asyncio's
default task factory each child is its own task before that runs, and
every child gets its own reply. Under asynkit's eager task factory the
child's first step runs inside `create_task`, while the *parent* is the
current task: the zero timeout belongs to the parent, and when it fires the
parent is cancelled.

Run by `cargo run --release --example repro` beside rows 25 and 26 when
`redis-server`, redis-py and asynkit are installed (`pip install
redis==5.0.3 asynkit`). Prints one line per task factory; exits 2 if a
package is missing. The outcome is information for the contrast, not a test.
"""

import asyncio
import sys

CHILDREN = 100


async def parent(port):
    import redis.asyncio

    client = redis.asyncio.Redis(host="127.0.0.1", port=port)
    try:
        # Fill the pool first: the failure needs a pooled, connected
        # connection, whose `can_read_destructive()` then runs in the
        # child's first (eager) step instead of after a connect.
        await asyncio.gather(*(client.ping() for _ in range(CHILDREN)))
        replies = await asyncio.gather(
            *(client.echo(f"child-{i}") for i in range(CHILDREN)),
            return_exceptions=True,
        )
    except asyncio.CancelledError:
        return "the PARENT was cancelled: CancelledError raised in gather()"
    finally:
        await client.aclose()
    own = sum(
        1 for i, r in enumerate(replies) if r in (f"child-{i}", f"child-{i}".encode())
    )
    errors = sorted({type(r).__name__ for r in replies if isinstance(r, BaseException)})
    if own == CHILDREN:
        return f"each of the {CHILDREN} children got its own reply"
    return f"{own}/{CHILDREN} children got their own reply; errors: {', '.join(errors) or 'none'}"


def run(port, factory):
    loop = asyncio.new_event_loop()
    try:
        if factory is not None:
            loop.set_task_factory(factory)
        return loop.run_until_complete(parent(port))
    except asyncio.CancelledError:
        return "the PARENT was cancelled: CancelledError escaped the event loop"
    finally:
        loop.close()


def main():
    if len(sys.argv) != 2:
        print("usage: seed_redis.py PORT")
        return 2
    port = int(sys.argv[1])
    try:
        import asynkit
        import redis
    except ImportError as e:
        print(f"{e.name} is not installed: pip install redis==5.0.3 asynkit")
        return 2
    factory = getattr(asynkit, "eager_task_factory", None)
    if factory is None:
        factory = asynkit.create_eager_factory()
    print(f"redis-py {redis.__version__} against redis-server on port {port}")
    print(f"default task factory: {run(port, None)}")
    print(f"asynkit eager task factory: {run(port, factory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
