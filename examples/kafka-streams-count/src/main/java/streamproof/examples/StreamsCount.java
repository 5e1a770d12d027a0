package streamproof.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A Kafka Streams keyed count: the number of click events per user so far, in a changelog-backed store, written to
 * the output as a decimal string keyed by the user id on every change. Usage:
 * {@code StreamsCount exactly-once|at-least-once}.
 *
 * <ul>
 *   <li>{@code exactly-once}: processing.guarantee exactly_once_v2. The store's changelog, the output and the input
 *       offsets commit together: a kill -9 rolls all three back to the last commit.</li>
 *   <li>{@code at-least-once}: processing.guarantee at_least_once and no record cache
 *       ({@code statestore.cache.max.bytes=0}): every count update goes to the changelog and the output at once, the
 *       input offsets only every 30 s (commit.interval.ms). After a kill -9, the restarted instance restores the
 *       counts from the changelog and counts again the clicks read since the last commit: double counts.</li>
 * </ul>
 *
 * application.id is STREAMPROOF_GROUP_ID, the state directory lives under STREAMPROOF_LAKE_DIR (or the temp dir).
 * Every other setting is Kafka Streams' default.
 */
public final class StreamsCount {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        String mode = args.length == 1 ? args[0] : "";
        if (!mode.equals("exactly-once") && !mode.equals("at-least-once")) {
            System.err.println("usage: StreamsCount exactly-once|at-least-once");
            System.exit(64);
        }
        String input = require("STREAMPROOF_INPUT_TOPIC");
        String output = require("STREAMPROOF_OUTPUT_TOPIC");

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, require("STREAMPROOF_GROUP_ID"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, require("STREAMPROOF_BOOTSTRAP_SERVERS"));
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir("kafka-streams-count").toString());
        if (mode.equals("exactly-once")) {
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        } else {
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
            // With the default 10 MiB cache, at_least_once writes a count to the changelog only when the cache is
            // flushed, which is at a commit, right before the input offsets: a kill -9 would have to land between the
            // two to double count. Without it, every update is on the changelog long before its input is committed.
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        }

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
            .filter((user, value) -> isClick(value))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
            .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("clicks-per-user")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()))
            .toStream()
            .mapValues(String::valueOf)
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
        Topology topology = builder.build();
        System.out.println(topology.describe());
        runUntilStopped(new KafkaStreams(topology, props));
    }

    /** True for a JSON event of type click; anything else (other types, a value that does not parse) is not counted. */
    static boolean isClick(byte[] value) {
        if (value == null) return false;
        try {
            JsonNode event = JSON.readTree(value);
            return event != null && "click".equals(event.path("type").asText());
        } catch (IOException e) {
            System.err.println("skipping an input value that is not JSON: " + e.getMessage());
            return false;
        }
    }

    /** Starts the application; SIGTERM closes it; a client that went to ERROR exits 1. */
    static void runUntilStopped(KafkaStreams streams) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            System.out.printf("%tT.%<tL state %s -> %s%n", System.currentTimeMillis(), before, now);
            // ERROR: every stream thread died (the default uncaught-exception handler shuts the client down).
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(20));
            stopped.countDown();
        }, "sigterm"));
        streams.start();
        stopped.await();
        if (streams.state() == KafkaStreams.State.ERROR) {
            System.err.println("Kafka Streams is in state ERROR; exiting");
            streams.close(Duration.ofSeconds(5));
            System.exit(1);
        }
    }

    static Path stateDir(String name) throws IOException {
        String lake = System.getenv("STREAMPROOF_LAKE_DIR");
        String instance = System.getenv().getOrDefault("STREAMPROOF_INSTANCE", "0");
        Path dir = Path.of(lake == null || lake.isEmpty() ? System.getProperty("java.io.tmpdir") : lake,
            name + "-" + instance);
        Files.createDirectories(dir);
        return dir;
    }

    static String require(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            System.err.println(name + " is not set (see the SUT contract in docs/architecture.md)");
            System.exit(64);
        }
        return v;
    }
}
