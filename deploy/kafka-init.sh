#!/bin/sh
# One-shot topic creation for the compose stack (service `kafka-init`, run in the apache/kafka
# image once Kafka is healthy). Creates every wirewatch topic with an explicit partition count;
# topics that exist are left alone, so it is safe to run on every `docker compose up`.
#
# Reads the workers' own variables: WIREWATCH_BROKER (first URL), WIREWATCH_TOPIC_PREFIX,
# WIREWATCH_PARTITIONS, WIREWATCH_REPLICATION_FACTOR. KAFKA_BIN locates kafka-topics.sh.
# The topic list mirrors agents/settings.py (Topics) and agents/kafka.py (topic_partitions);
# tests/deploy/test_compose.py runs this script against a stub and compares.
set -eu

KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
broker=${WIREWATCH_BROKER:-kafka://kafka:9092}
broker=${broker%%;*}
bootstrap=${broker#kafka://}
prefix=${WIREWATCH_TOPIC_PREFIX-wirewatch.}
partitions=${WIREWATCH_PARTITIONS:-4}
replication=${WIREWATCH_REPLICATION_FACTOR:-1}

topics="articles.raw $partitions
articles.valid 1
articles.unique $partitions
articles.duplicates $partitions
articles.tagged $partitions
articles.enriched $partitions
alerts $partitions
deadletter $partitions"
# articles.valid has ONE partition: de-duplication needs one global view of what has been seen.

echo "kafka-init: creating topics on $bootstrap (prefix '$prefix', $partitions partitions, replication $replication)"
echo "$topics" | while read -r name count; do
    "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$prefix$name" --partitions "$count" --replication-factor "$replication"
done

# An existing topic keeps its partitions: adding some moves keys to other partitions (see
# README, "Scale out"), so that is an operator's decision, not a start-up side effect.
counts=$("$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe \
    | awk '/PartitionCount:/ { for (i = 1; i < NF; i++) { if ($i == "Topic:") t = $(i + 1); if ($i == "PartitionCount:") c = $(i + 1) } print t, c }')
echo "$topics" | while read -r name count; do
    actual=$(echo "$counts" | awk -v t="$prefix$name" '$1 == t { print $2 }')
    if [ -n "$actual" ] && [ "$actual" != "$count" ]; then
        echo "kafka-init: WARNING: $prefix$name has $actual partitions, wirewatch expects $count" >&2
    fi
done
echo "kafka-init: done"
