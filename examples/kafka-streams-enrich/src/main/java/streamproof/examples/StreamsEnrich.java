package streamproof.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams filter-and-enrich topology: every click and conversion of the input comes out once, enriched (its
 * channel group, whether the channel is paid, when it was processed), keyed by its user; impressions are dropped.
 * Usage: {@code StreamsEnrich exactly-once|overfilter|at-least-once}.
 *
 * <ul>
 *   <li>{@code exactly-once}: processing.guarantee exactly_once_v2. The correct pipeline.</li>
 *   <li>{@code overfilter}: the same, with a filter bug: it also drops the clicks whose user_seq % 7 == 3.</li>
 *   <li>{@code at-least-once}: processing.guarantee at_least_once: after a kill -9, what was written since the last
 *       offset commit is written again.</li>
 * </ul>
 *
 * application.id is STREAMPROOF_GROUP_ID (the consumer group whose committed offsets streamproof reads), the state
 * directory lives under STREAMPROOF_LAKE_DIR (or the temp dir). Every other setting is Kafka Streams' default.
 */
public final class StreamsEnrich {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        String mode = args.length == 1 ? args[0] : "";
        String guarantee = switch (mode) {
            case "exactly-once", "overfilter" -> StreamsConfig.EXACTLY_ONCE_V2;
            case "at-least-once" -> StreamsConfig.AT_LEAST_ONCE;
            default -> {
                System.err.println("usage: StreamsEnrich exactly-once|overfilter|at-least-once");
                System.exit(64);
                yield "";
            }
        };
        boolean overfilter = mode.equals("overfilter");
        String input = require("STREAMPROOF_INPUT_TOPIC");
        String output = require("STREAMPROOF_OUTPUT_TOPIC");

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, require("STREAMPROOF_GROUP_ID"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, require("STREAMPROOF_BOOTSTRAP_SERVERS"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir("kafka-streams-enrich").toString());

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
            // Parse; a value that is not a JSON object is logged and dropped (the input is ours: it never happens).
            .flatMapValues(StreamsEnrich::parse)
            .filter((user, event) -> keep(event, overfilter))
            .mapValues(StreamsEnrich::enrich)
            .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
        Topology topology = builder.build();
        System.out.println(topology.describe());
        runUntilStopped(new KafkaStreams(topology, props));
    }

    static List<ObjectNode> parse(byte[] value) {
        try {
            JsonNode node = value == null ? null : JSON.readTree(value);
            if (node instanceof ObjectNode object) return List.of(object);
        } catch (java.io.IOException e) {
            // fall through
        }
        System.err.println("dropping an input value that is not a JSON object");
        return List.of();
    }

    /** Clicks and conversions pass; impressions do not. The overfilter bug also drops one click in seven. */
    static boolean keep(ObjectNode event, boolean overfilter) {
        String type = event.path("type").asText();
        if (overfilter && type.equals("click") && event.path("user_seq").asLong() % 7 == 3) return false;
        return type.equals("click") || type.equals("conversion");
    }

    /** The output: the source event's identity (event_id, user_id, user_seq, sent_at) and what this step adds. */
    static byte[] enrich(ObjectNode event) {
        String channel = event.path("channel").asText("unknown");
        ObjectNode out = JSON.createObjectNode();
        for (String field : new String[] {"event_id", "user_id", "user_seq", "type", "sent_at", "event_time",
                "channel", "campaign", "revenue", "currency"}) {
            if (event.has(field)) out.set(field, event.get(field));
        }
        out.put("channel_group", channelGroup(channel));
        out.put("is_paid", isPaid(channel));
        out.put("processed_at", System.currentTimeMillis());
        try {
            return JSON.writeValueAsBytes(out);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String channelGroup(String channel) {
        return switch (channel) {
            case "search", "display", "social" -> "media";
            case "affiliate" -> "partner";
            case "email" -> "owned";
            case "direct" -> "direct";
            default -> "other";
        };
    }

    static boolean isPaid(String channel) {
        return switch (channel) {
            case "search", "display", "social", "affiliate" -> true;
            default -> false;
        };
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

    static Path stateDir(String name) throws java.io.IOException {
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
