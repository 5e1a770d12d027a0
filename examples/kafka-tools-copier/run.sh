#!/usr/bin/env bash
# Kafka's own org.apache.kafka.tools.TransactionalMessageCopier under the streamproof env contract, with the flags of
# Kafka's group-mode transaction system test (tests/kafkatest/tests/core/group_mode_transactions_test.py):
# --group-mode --use-group-metadata, 750 records per transaction, a 40 s transaction timeout and random aborts.
# Extra arguments are passed on (e.g. --max-messages N, or --transaction-size 200).
# Build first with `node scripts/build-examples.mjs kafka-tools-copier`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -f "$here/target/classpath.txt" ]; then
  echo "$here is not built: run node scripts/build-examples.mjs kafka-tools-copier" >&2
  exit 3
fi
for v in STREAMPROOF_BOOTSTRAP_SERVERS STREAMPROOF_INPUT_TOPIC STREAMPROOF_OUTPUT_TOPIC STREAMPROOF_GROUP_ID \
  STREAMPROOF_TRANSACTIONAL_ID; do
  if [ -z "${!v:-}" ]; then echo "$v is not set (see the env contract in harness/runner/sut.ts)" >&2; exit 64; fi
done
java="${STREAMPROOF_JAVA_HOME:+$STREAMPROOF_JAVA_HOME/bin/}java"
# Serial GC and C1 only: a quicker start on a small machine; neither changes what the Kafka clients do.
# --input-partition is required by the tool and ignored in group mode (Kafka's test passes -1 too).
exec "$java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
  -cp "$(cat "$here/target/classpath.txt")" org.apache.kafka.tools.TransactionalMessageCopier \
  --broker-list "$STREAMPROOF_BOOTSTRAP_SERVERS" \
  --transactional-id "$STREAMPROOF_TRANSACTIONAL_ID" \
  --consumer-group "$STREAMPROOF_GROUP_ID" \
  --input-topic "$STREAMPROOF_INPUT_TOPIC" \
  --input-partition -1 \
  --output-topic "$STREAMPROOF_OUTPUT_TOPIC" \
  --transaction-size 750 \
  --transaction-timeout 40000 \
  --enable-random-aborts \
  --use-group-metadata \
  --group-mode \
  "$@"
