"""At-least-once copy on confluent-kafka (librdkafka), the way most pipelines start: a consumer with librdkafka's
default auto-commit (enable.auto.commit=true, every 5 s in the background, of the offsets already handed to the
application) and a plain producer. A kill -9 keeps the records written since the last auto-commit but not the
consumer's progress past them, so the restarted copier writes them again: duplicates. auto.offset.reset=earliest: a new group copies
the input from its start. Everything else is a default.
"""

import sys

from common import (
    BOOTSTRAP, GROUP_ID, INPUT_TOPIC, INSTANCE, OUTPUT_TOPIC, Stop, log, on_assign, on_lost, on_revoke, produce,
)
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer


def main() -> int:
    stop = Stop()
    consumer = Consumer({
        "bootstrap.servers": BOOTSTRAP,
        "group.id": GROUP_ID,
        "client.id": f"py-alo-copier-{INSTANCE}",
        "auto.offset.reset": "earliest",
    })
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "client.id": f"py-alo-copier-{INSTANCE}"})
    copied = reported = 0
    code = 0
    try:
        consumer.subscribe([INPUT_TOPIC], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
        log(f"copying {INPUT_TOPIC} -> {OUTPUT_TOPIC} (group {GROUP_ID}, auto-commit)")
        while not stop.requested:
            for m in consumer.consume(num_messages=1000, timeout=0.1):
                if m.error():
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        log(f"consumer: {m.error()}")
                    continue
                produce(producer, OUTPUT_TOPIC, m.key(), m.value())
                copied += 1
            producer.poll(0)
            if copied - reported >= 10_000:
                log(f"copied {copied} records")
                reported = copied
    except KafkaException as e:
        log(f"fatal: {e.args[0]}")
        code = 1
    finally:
        log(f"closing after {copied} records")
        # Deliver what was written before the consumer's close commits the offsets past it.
        producer.flush(10)
        consumer.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
