#!/usr/bin/env bash
# Runs the Kafka Streams filter-and-enrich topology: examples/kafka-streams-enrich/run.sh exactly-once|overfilter|at-least-once|drop-bad
# (from any directory; build first with `node scripts/build-examples.mjs kafka-streams-enrich`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  exactly-once | overfilter | at-least-once | drop-bad) ;;
  *) echo "usage: $0 exactly-once|overfilter|at-least-once|drop-bad" >&2; exit 64 ;;
esac
if [ ! -f "$here/target/classpath.txt" ] || [ ! -d "$here/target/classes" ]; then
  echo "$here is not built: run node scripts/build-examples.mjs kafka-streams-enrich" >&2
  exit 3
fi
java="${STREAMPROOF_JAVA_HOME:+$STREAMPROOF_JAVA_HOME/bin/}java"
# Serial GC and C1 only: a quicker start on a small machine; neither changes what Kafka Streams does.
exec "$java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -cp "$(cat "$here/target/classpath.txt"):$here/target/classes" streamproof.examples.StreamsEnrich "$1"
