package streamproof.examples;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * At-least-once copy, the way most pipelines start: a consumer with Kafka's default auto-commit
 * (enable.auto.commit=true, every 5 s from inside poll()) and a plain (non-transactional) producer. A kill -9 keeps
 * the records written since the last auto-commit but not the consumer's progress past them, so the restarted copier
 * writes those records again: duplicates. {@code auto.offset.reset=earliest}: a new group copies the input from its
 * start. Everything else is a default.
 */
public final class AtLeastOnceCopier {
    public static void main(String[] args) {
        Env env = new Env();

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env.bootstrap);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, env.groupId);
        cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "alo-copier-" + env.instance);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, env.bootstrap);
        pp.put(ProducerConfig.CLIENT_ID_CONFIG, "alo-copier-" + env.instance);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
        Env.Shutdown shutdown = Env.Shutdown.install(consumer);
        int exit = 0;
        long copied = 0;
        long lastReport = System.currentTimeMillis();
        try {
            consumer.subscribe(List.of(env.inputTopic), new ExactlyOnceCopier.Logging());
            Env.log("copying %s -> %s (group %s, auto-commit)", env.inputTopic, env.outputTopic, env.groupId);
            while (!shutdown.requested()) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    producer.send(new ProducerRecord<>(env.outputTopic, r.key(), r.value()), (md, err) -> {
                        if (err != null) Env.log("send failed: %s", err);
                    });
                }
                copied += records.count();
                long now = System.currentTimeMillis();
                if (now - lastReport >= 5000) {
                    Env.log("copied %d records", copied);
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
            // Flush what was sent before the consumer's close commits the positions past it.
            producer.close(Duration.ofSeconds(5));
            consumer.close();
            shutdown.closed();
        }
        if (exit != 0) System.exit(exit);
    }
}
