/**
 * A small client for the Confluent Schema Registry REST API (the part every compatible registry speaks: Confluent,
 * Apicurio's /apis/ccompat/v7, Redpanda). Used for what the common JS clients leave out: compatibility config and
 * checks. Registration and serde can equally go through @kafkajs/confluent-schema-registry.
 */
import { StreamproofError } from '../util/errors.ts';

export const compatibilityLevels = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

const contentType = 'application/vnd.schemaregistry.v1+json';

export class RegistryClient {
  constructor(readonly url: string) {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    okStatuses: number[] = [],
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': contentType, accept: contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    if (!res.ok && !okStatuses.includes(res.status)) {
      throw new StreamproofError('REGISTRY_ERROR', `${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`, {
        status: res.status,
      });
    }
    return { status: res.status, body: parsed };
  }

  async register(subject: string, schema: object | string): Promise<number> {
    const r = await this.call<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: typeof schema === 'string' ? schema : JSON.stringify(schema),
      schemaType: 'AVRO',
    });
    return r.body.id;
  }

  async schemaById(id: number): Promise<string> {
    return (await this.call<{ schema: string }>('GET', `/schemas/ids/${id}`)).body.schema;
  }

  async versions(subject: string): Promise<number[]> {
    return (await this.call<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions`)).body;
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  async compatibility(subject: string): Promise<CompatibilityLevel> {
    const r = await this.call<{ compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel }>(
      'GET',
      `/config/${encodeURIComponent(subject)}`,
    );
    return (r.body.compatibilityLevel ?? r.body.compatibility)!;
  }

  /**
   * Would `schema` be accepted under the subject's compatibility level? Checks against `latest` (or every version,
   * for a *_TRANSITIVE level, as the registry itself decides).
   */
  async isCompatible(subject: string, schema: object | string, version: string | number = 'latest'): Promise<boolean> {
    const r = await this.call<{ is_compatible: boolean }>(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions/${version}`,
      { schema: typeof schema === 'string' ? schema : JSON.stringify(schema), schemaType: 'AVRO' },
    );
    return r.body.is_compatible;
  }

  async deleteSubject(subject: string): Promise<void> {
    await this.call('DELETE', `/subjects/${encodeURIComponent(subject)}`, undefined, [404]);
    await this.call('DELETE', `/subjects/${encodeURIComponent(subject)}?permanent=true`, undefined, [404]);
  }
}
