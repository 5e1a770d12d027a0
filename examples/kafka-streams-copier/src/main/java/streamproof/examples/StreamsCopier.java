package streamproof.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams copy topology: input -> output, same key and value, stateless. Usage:
 * {@code StreamsCopier exactly-once|at-least-once} (processing.guarantee exactly_once_v2 or at_least_once).
 * application.id is STREAMPROOF_GROUP_ID (the consumer group whose committed offsets streamproof reads), the state
 * directory lives under STREAMPROOF_LAKE_DIR (or the temp dir). Every other setting is Kafka Streams' default.
 */
public final class StreamsCopier {
    public static void main(String[] args) throws Exception {
        String guarantee = switch (args.length == 1 ? args[0] : "") {
            case "exactly-once" -> StreamsConfig.EXACTLY_ONCE_V2;
            case "at-least-once" -> StreamsConfig.AT_LEAST_ONCE;
            default -> {
                System.err.println("usage: StreamsCopier exactly-once|at-least-once");
                System.exit(64);
                yield "";
            }
        };
        String bootstrap = require("STREAMPROOF_BOOTSTRAP_SERVERS");
        String input = require("STREAMPROOF_INPUT_TOPIC");
        String output = require("STREAMPROOF_OUTPUT_TOPIC");
        String appId = require("STREAMPROOF_GROUP_ID");
        String instance = System.getenv().getOrDefault("STREAMPROOF_INSTANCE", "0");
        String lake = System.getenv("STREAMPROOF_LAKE_DIR");
        Path stateDir = Path.of(lake == null || lake.isEmpty() ? System.getProperty("java.io.tmpdir") : lake,
            "kafka-streams-" + instance);
        Files.createDirectories(stateDir);

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
            .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        Topology topology = builder.build();
        System.out.println(topology.describe());

        KafkaStreams streams = new KafkaStreams(topology, props);
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

    private static String require(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            System.err.println(name + " is not set (see the env contract in harness/runner/sut.ts)");
            System.exit(64);
        }
        return v;
    }
}
