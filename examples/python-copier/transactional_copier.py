"""Exactly-once copy on confluent-kafka (librdkafka): every consumed batch is written to the output topic (same key,
same value) in one transaction together with the consumed offsets (send_offsets_to_transaction with the consumer's
group metadata), read_committed input. Client settings are librdkafka's defaults except what exactly-once needs
(transactional.id, no auto-commit, read_committed) and auto.offset.reset=earliest (a group with no committed offset
yet copies the input from its start).
"""

import sys

from common import (
    BOOTSTRAP, GROUP_ID, INPUT_TOPIC, INSTANCE, OUTPUT_TOPIC, TRANSACTIONAL_ID, Stop, log, on_assign, on_lost,
    on_revoke, produce,
)
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def next_offsets(batch) -> list:
    """Past the last record of each partition in the batch."""
    last = {}
    for m in batch:
        last[(m.topic(), m.partition())] = m.offset()
    return [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]


def rewind(consumer) -> None:
    """Back to the committed offsets of every assigned partition (the start of the input when none)."""
    for tp in consumer.committed(consumer.assignment(), timeout=30):
        consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else -2))


def retrying(what: str, call) -> None:
    """Retries a transactional call for as long as librdkafka says the error is retriable."""
    while True:
        try:
            call()
            return
        except KafkaException as e:
            if not e.args[0].retriable():
                raise
            log(f"{what}: {e.args[0]}; retrying")


def main() -> int:
    stop = Stop()
    consumer = Consumer({
        "bootstrap.servers": BOOTSTRAP,
        "group.id": GROUP_ID,
        "client.id": f"py-eos-copier-{INSTANCE}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
    })
    producer = Producer({
        "bootstrap.servers": BOOTSTRAP,
        "client.id": f"py-eos-copier-{INSTANCE}",
        "transactional.id": TRANSACTIONAL_ID,
    })
    copied = aborted = 0
    code = 0
    try:
        # Fences an earlier incarnation with the same transactional.id and aborts its open transaction.
        producer.init_transactions()
        consumer.subscribe([INPUT_TOPIC], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
        log(f"copying {INPUT_TOPIC} -> {OUTPUT_TOPIC} (group {GROUP_ID}, transactional.id {TRANSACTIONAL_ID})")
        reported = 0
        while not stop.requested:
            msgs = consumer.consume(num_messages=1000, timeout=0.1)
            batch = []
            for m in msgs:
                if m.error():
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        log(f"consumer: {m.error()}")
                    continue
                batch.append(m)
            if not batch:
                continue
            try:
                producer.begin_transaction()
                for m in batch:
                    produce(producer, OUTPUT_TOPIC, m.key(), m.value())
                retrying("send_offsets_to_transaction", lambda: producer.send_offsets_to_transaction(
                    next_offsets(batch), consumer.consumer_group_metadata()))
                retrying("commit_transaction", producer.commit_transaction)
                copied += len(batch)
            except KafkaException as e:
                err = e.args[0]
                if not err.txn_requires_abort():
                    raise
                # Abortable (e.g. the group rebalanced): none of it is visible; start again from the committed offsets.
                log(f"aborting the transaction: {err}")
                retrying("abort_transaction", producer.abort_transaction)
                rewind(consumer)
                aborted += 1
            if copied - reported >= 10_000:
                log(f"copied {copied} records ({aborted} transactions aborted)")
                reported = copied
    except KafkaException as e:
        log(f"fatal: {e.args[0]}")
        code = 1
    finally:
        log(f"closing after {copied} records")
        consumer.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
