package streamproof.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
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
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams filter-and-enrich topology: every click and conversion of the input comes out once, enriched (its
 * channel group, whether the channel is paid, when it was processed), keyed by its user; impressions are dropped.
 * Usage: {@code StreamsEnrich exactly-once|overfilter|at-least-once|drop-bad}.
 *
 * <p>Data quality: an input that is not a valid event (not a JSON object, a required field missing or of the wrong
 * type, a type or channel that is not a symbol of the schema's enums) goes, when STREAMPROOF_DLQ_TOPIC is set, to that
 * dead-letter topic unchanged, with its reason in the header {@code x-dlq-reason}, in the same transaction as the
 * output.
 *
 * <ul>
 *   <li>{@code exactly-once}: processing.guarantee exactly_once_v2. The correct pipeline.</li>
 *   <li>{@code overfilter}: the same, with a filter bug: it also drops the clicks whose user_seq % 7 == 3.</li>
 *   <li>{@code at-least-once}: processing.guarantee at_least_once: after a kill -9, what was written since the last
 *       offset commit is written again.</li>
 *   <li>{@code drop-bad}: exactly-once, but invalid inputs are dropped silently instead of dead-lettered.</li>
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
            case "exactly-once", "overfilter", "drop-bad" -> StreamsConfig.EXACTLY_ONCE_V2;
            case "at-least-once" -> StreamsConfig.AT_LEAST_ONCE;
            default -> {
                System.err.println("usage: StreamsEnrich exactly-once|overfilter|at-least-once|drop-bad");
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

        String dlq = System.getenv("STREAMPROOF_DLQ_TOPIC");
        boolean deadLetter = dlq != null && !dlq.isEmpty() && !mode.equals("drop-bad");

        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, byte[]> events = builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()));
        if (deadLetter) {
            events.processValues(DeadLetters::new)
                .to(dlq, Produced.with(Serdes.String(), Serdes.ByteArray()));
        }
        events
            // Parse and validate; an invalid input goes to the dead-letter branch above (or, without one, is dropped).
            .flatMapValues(StreamsEnrich::parse)
            .filter((user, event) -> keep(event, overfilter))
            .mapValues(StreamsEnrich::enrich)
            .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
        Topology topology = builder.build();
        System.out.println(topology.describe());
        runUntilStopped(new KafkaStreams(topology, props));
    }

    static List<ObjectNode> parse(byte[] value) {
        ObjectNode event = object(value);
        return event != null && problem(event) == null ? List.of(event) : List.of();
    }

    static ObjectNode object(byte[] value) {
        try {
            JsonNode node = value == null ? null : JSON.readTree(value);
            return node instanceof ObjectNode object ? object : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static final Set<String> TYPES = Set.of("impression", "click", "conversion");
    private static final Set<String> CHANNELS = Set.of("search", "social", "display", "email", "affiliate", "direct");

    /** Why an input is not a valid event (null when it is one): the checks of the event schema a reader applies. */
    static String problem(byte[] value) {
        ObjectNode event = object(value);
        return event == null ? "not-json-object" : problem(event);
    }

    static String problem(ObjectNode e) {
        for (String f : new String[] {"event_id", "user_id", "campaign"}) {
            if (!e.path(f).isTextual()) return "bad-field:" + f;
        }
        for (String f : new String[] {"user_seq", "event_time", "sent_at", "schema_version"}) {
            if (!e.path(f).isIntegralNumber()) return "bad-field:" + f;
        }
        if (e.path("user_seq").asLong() < 0) return "bad-field:user_seq";
        if (!e.path("type").isTextual() || !TYPES.contains(e.path("type").asText())) return "bad-enum:type";
        if (!e.path("channel").isTextual() || !CHANNELS.contains(e.path("channel").asText())) return "bad-enum:channel";
        JsonNode revenue = e.path("revenue");
        if (!revenue.isMissingNode() && !revenue.isNull() && !revenue.isNumber()) return "bad-field:revenue";
        JsonNode currency = e.path("currency");
        if (!currency.isMissingNode() && !currency.isNull() && !currency.isTextual()) return "bad-field:currency";
        return null;
    }

    /** Forwards each invalid input unchanged with its reason in the header x-dlq-reason; valid ones go nowhere. */
    static final class DeadLetters implements FixedKeyProcessor<String, byte[], byte[]> {
        private FixedKeyProcessorContext<String, byte[]> context;

        @Override
        public void init(FixedKeyProcessorContext<String, byte[]> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<String, byte[]> record) {
            String reason = problem(record.value());
            if (reason == null) return;
            record.headers().add("x-dlq-reason", reason.getBytes(StandardCharsets.UTF_8));
            context.forward(record);
        }
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
