package streamproof.examples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.Consumer;

/** The streamproof SUT env contract, and a SIGTERM hook that lets the poll loop finish and close its clients. */
final class Env {
    final String bootstrap = require("STREAMPROOF_BOOTSTRAP_SERVERS");
    final String inputTopic = require("STREAMPROOF_INPUT_TOPIC");
    final String outputTopic = require("STREAMPROOF_OUTPUT_TOPIC");
    final String groupId = require("STREAMPROOF_GROUP_ID");
    final String transactionalId = require("STREAMPROOF_TRANSACTIONAL_ID");
    final String instance = System.getenv().getOrDefault("STREAMPROOF_INSTANCE", "0");

    private static String require(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            System.err.println(name + " is not set (see the env contract in harness/runner/sut.ts)");
            System.exit(64);
        }
        return v;
    }

    static void log(String fmt, Object... args) {
        System.out.printf("%tT.%<tL %s%n", System.currentTimeMillis(), String.format(fmt, args));
    }

    /** Set by the SIGTERM hook; the loop checks it between batches. */
    static final class Shutdown {
        private volatile boolean requested;
        private final CountDownLatch closed = new CountDownLatch(1);

        /** On SIGTERM: ask the loop to stop, wake the consumer out of poll(), wait (bounded) for the clients to close. */
        static Shutdown install(Consumer<?, ?> consumer) {
            Shutdown s = new Shutdown();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                s.requested = true;
                consumer.wakeup();
                try {
                    s.closed.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "sigterm"));
            return s;
        }

        boolean requested() {
            return requested;
        }

        void closed() {
            closed.countDown();
        }
    }
}
