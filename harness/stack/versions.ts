/**
 * Every version of every real component, pinned in one place.
 * Provisioning, `doctor` and `stack status` read these; nothing else names a version.
 */
export const versions = {
  /** Apache Kafka broker and tools (Maven artifacts org.apache.kafka:kafka_2.13 and kafka-tools). */
  kafka: '4.1.1',
  /** The log4j2 SLF4J 1.x binding that kafka_2.13's POM leaves out (Kafka 4.1 logs through slf4j-api 1.7). */
  log4j: '2.25.2',
  /** Toxiproxy server, built from its Go module. */
  toxiproxy: '2.12.0',
  /**
   * Apicurio Registry (Confluent-compatible API under /apis/ccompat/v7), from its Quarkus distribution on Maven Central
   * (io.apicurio:apicurio-registry-app:<v>:tar.gz:all). 3.3.x is compiled for Java 21; where no Java 21+ is found we
   * fall back to 3.0.x, which runs on 17.
   */
  registry: [
    { version: '3.3.3', minJava: 21 },
    { version: '3.0.9', minJava: 17 },
  ],
  /** Oldest runtimes we support. */
  minJava: 17,
  minGo: '1.22',
  minNode: '22.22.0',
} as const;

export const kafkaMavenArtifacts = [
  { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: versions.kafka },
  { groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version: versions.kafka },
  { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: versions.log4j },
] as const;

export const toxiproxyGoModule = `github.com/Shopify/toxiproxy/v2/cmd/server@v${versions.toxiproxy}`;
