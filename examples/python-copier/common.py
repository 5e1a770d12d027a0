"""The streamproof SUT env contract and the small pieces both Python copiers share."""

import os
import signal
import sys
import time


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        print(f"{name} is not set (see the env contract in harness/runner/sut.ts)", file=sys.stderr)
        sys.exit(64)
    return value


BOOTSTRAP = env("STREAMPROOF_BOOTSTRAP_SERVERS")
INPUT_TOPIC = env("STREAMPROOF_INPUT_TOPIC")
OUTPUT_TOPIC = env("STREAMPROOF_OUTPUT_TOPIC")
GROUP_ID = env("STREAMPROOF_GROUP_ID")
TRANSACTIONAL_ID = env("STREAMPROOF_TRANSACTIONAL_ID")
INSTANCE = os.environ.get("STREAMPROOF_INSTANCE", "0")


def log(msg: str) -> None:
    t = time.time()
    print(f"{time.strftime('%H:%M:%S', time.localtime(t))}.{int(t * 1000) % 1000:03d} {msg}", flush=True)


class Stop:
    """Set by SIGTERM / SIGINT; the poll loop checks it between batches and closes its clients."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGTERM, self._set)
        signal.signal(signal.SIGINT, self._set)

    def _set(self, signum, frame) -> None:  # noqa: ARG002
        self.requested = True


def on_assign(consumer, partitions) -> None:  # noqa: ARG001
    log(f"assigned {[p.partition for p in partitions]}")


def on_revoke(consumer, partitions) -> None:  # noqa: ARG001
    log(f"revoked {[p.partition for p in partitions]}")


def on_lost(consumer, partitions) -> None:  # noqa: ARG001
    log(f"lost {[p.partition for p in partitions]}")


def produce(producer, topic: str, key, value) -> None:
    """produce(), waiting for room when the local queue is full."""
    while True:
        try:
            producer.produce(topic, key=key, value=value)
            return
        except BufferError:
            producer.poll(0.05)
