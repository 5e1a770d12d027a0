package streamproof.examples;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Exactly-once consume-transform-produce copy: every poll's records are written to the output topic (same key, same
 * value, partitioned by key) in one transaction together with the consumed offsets
 * ({@code sendOffsetsToTransaction(offsets, consumer.groupMetadata())}), read_committed input. Client settings are
 * Kafka's defaults except what exactly-once needs (a transactional.id, no auto-commit, read_committed) and
 * {@code auto.offset.reset=earliest} (a group with no committed offset yet must copy the input from its start).
 */
public final class ExactlyOnceCopier {
    public static void main(String[] args) {
        Env env = new Env();

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env.bootstrap);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, env.groupId);
        cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "eos-copier-" + env.instance);
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, env.bootstrap);
        pp.put(ProducerConfig.CLIENT_ID_CONFIG, "eos-copier-" + env.instance);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, env.transactionalId);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
        Env.Shutdown shutdown = Env.Shutdown.install(consumer);
        int exit = 0;
        long copied = 0;
        long aborted = 0;
        long lastReport = System.currentTimeMillis();
        try {
            // Fences an earlier incarnation with the same transactional.id and aborts its open transaction.
            producer.initTransactions();
            consumer.subscribe(List.of(env.inputTopic), new Logging());
            Env.log("copying %s -> %s (group %s, transactional.id %s)", env.inputTopic, env.outputTopic, env.groupId,
                env.transactionalId);
            while (!shutdown.requested()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (!records.isEmpty()) {
                    try {
                        producer.beginTransaction();
                        for (ConsumerRecord<byte[], byte[]> r : records) {
                            producer.send(new ProducerRecord<>(env.outputTopic, r.key(), r.value()));
                        }
                        producer.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());
                        commit(producer);
                        copied += records.count();
                    } catch (ProducerFencedException | FencedInstanceIdException | OutOfOrderSequenceException
                             | AuthorizationException | UnsupportedVersionException e) {
                        throw e; // fatal for this producer: a newer incarnation owns the transactional.id
                    } catch (KafkaException e) {
                        // Abortable (e.g. the group rebalanced and the offsets' generation is stale): nothing of the
                        // transaction is visible; start again from the committed offsets.
                        Env.log("aborting the transaction: %s", e);
                        producer.abortTransaction();
                        rewind(consumer);
                        aborted++;
                    }
                }
                long now = System.currentTimeMillis();
                if (now - lastReport >= 5000) {
                    Env.log("copied %d records (%d transactions aborted)", copied, aborted);
                    lastReport = now;
                }
            }
        } catch (WakeupException e) {
            if (!shutdown.requested()) throw e;
        } catch (RuntimeException e) {
            e.printStackTrace();
            exit = 1;
        } finally {
            Env.log("closing after %d records", copied);
            producer.close(Duration.ofSeconds(5));
            consumer.close();
            shutdown.closed();
        }
        if (exit != 0) System.exit(exit);
    }

    /** The offsets to commit: past the last record of each partition in this batch. */
    static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> rs = records.records(tp);
            offsets.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
        }
        return offsets;
    }

    /** A commit that timed out may still complete on the broker: retry it (an abort is not allowed then). */
    private static void commit(KafkaProducer<byte[], byte[]> producer) {
        for (;;) {
            try {
                producer.commitTransaction();
                return;
            } catch (TimeoutException e) {
                Env.log("commitTransaction timed out, retrying: %s", e.getMessage());
            }
        }
    }

    /** Back to the last committed offsets of every assigned partition (the start of the input when none). */
    static void rewind(KafkaConsumer<byte[], byte[]> consumer) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
        for (TopicPartition tp : consumer.assignment()) {
            OffsetAndMetadata o = committed.get(tp);
            if (o != null) consumer.seek(tp, o.offset());
            else consumer.seekToBeginning(List.of(tp));
        }
    }

    /** Logs assignment changes (the moments a kill's recovery is made of). */
    static final class Logging implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            Env.log("revoked %s", partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            Env.log("assigned %s", partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            Env.log("lost %s", partitions);
        }
    }
}
