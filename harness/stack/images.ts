/**
 * The container images of the testcontainers runtime (harness/stack/containers.ts).
 *
 * For users the defaults are the projects' own images, pinned to the versions the local stack runs. Where no image
 * registry is reachable (an air-gapped CI runner, this project's own CI), `scripts/build-images.sh` builds equivalent
 * images from the provisioning cache under the `streamproof-local/` names; each speaks the same contract as the
 * project's image it stands for (the same ports, entrypoint and environment variables), so the runtime does not care
 * which one it runs. Override per image with the scenario's `stack.images`, `startStack({ images })` or the
 * environment (STREAMPROOF_KAFKA_IMAGE, STREAMPROOF_TOXIPROXY_IMAGE, STREAMPROOF_REGISTRY_IMAGE).
 */
import { versions } from './versions.ts';

export interface StackImages {
  /** apache/kafka contract: KAFKA_* environment → server.properties, CLUSTER_ID formats the storage, KRaft. */
  kafka: string;
  /** ghcr.io/shopify/toxiproxy contract: entrypoint /toxiproxy, API on 8474. */
  toxiproxy: string;
  /** apicurio/apicurio-registry contract: HTTP on 8080, Confluent-compatible API under /apis/ccompat/v7. */
  registry: string;
}

const registryVersion = versions.registry[0].version;

export const officialImages: StackImages = {
  kafka: `apache/kafka:${versions.kafka}`,
  toxiproxy: `ghcr.io/shopify/toxiproxy:${versions.toxiproxy}`,
  registry: `apicurio/apicurio-registry:${registryVersion}`,
};

/** What scripts/build-images.sh tags. */
export const localImages: StackImages = {
  kafka: `streamproof-local/kafka:${versions.kafka}`,
  toxiproxy: `streamproof-local/toxiproxy:${versions.toxiproxy}`,
  registry: `streamproof-local/apicurio-registry:${registryVersion}`,
};

const envNames: Record<keyof StackImages, string> = {
  kafka: 'STREAMPROOF_KAFKA_IMAGE',
  toxiproxy: 'STREAMPROOF_TOXIPROXY_IMAGE',
  registry: 'STREAMPROOF_REGISTRY_IMAGE',
};

/** Given images win over the environment, which wins over the projects' own images. */
export function resolveImages(given: Partial<StackImages> = {}, env = process.env): StackImages {
  const pick = (k: keyof StackImages) => given[k] ?? (env[envNames[k]] || undefined) ?? officialImages[k];
  return { kafka: pick('kafka'), toxiproxy: pick('toxiproxy'), registry: pick('registry') };
}

export { envNames as imageEnvNames };
