/**
 * Is there a Docker engine the testcontainers runtime could use, and does it hold the stack's images? `doctor` asks.
 *
 * Plain HTTP on the engine's API (node:http, a unix socket or tcp://, https when DOCKER_TLS_VERIFY is set), never the
 * testcontainers package: the answer must not depend on an optional dependency being installed. Every request gives
 * up after a few seconds, and nothing here throws: an engine that is absent, refuses or times out is "not reachable"
 * with the reason.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { imageEnvNames, localImages, resolveImages, type StackImages } from './images.ts';

export const ENGINE_FIX = 'install and start a Docker engine (Debian: apt-get install docker.io; dockerd)';
export const DEFAULT_SOCKET = '/var/run/docker.sock';

export type DockerEndpoint =
  | { kind: 'unix'; socketPath: string; display: string }
  | { kind: 'tcp'; host: string; port: number; tlsCertDir?: string; display: string }
  | { kind: 'unsupported'; display: string };

/** Where the engine is: DOCKER_HOST (unix:// or tcp://) when set, else the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { kind: 'unix', socketPath: DEFAULT_SOCKET, display: `unix://${DEFAULT_SOCKET}` };
  if (host.startsWith('unix://')) return { kind: 'unix', socketPath: host.slice('unix://'.length), display: host };
  if (host.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(`http://${host.slice('tcp://'.length)}`);
    } catch {
      return { kind: 'unsupported', display: host };
    }
    const tls = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
    return {
      kind: 'tcp',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : tls ? 2376 : 2375,
      tlsCertDir: tls ? env.DOCKER_CERT_PATH || join(homedir(), '.docker') : undefined,
      display: host,
    };
  }
  return { kind: 'unsupported', display: host };
}

function get(ep: DockerEndpoint, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    if (ep.kind === 'unsupported') {
      reject(new Error(`DOCKER_HOST=${ep.display}: only unix:// and tcp:// are probed`));
      return;
    }
    let req: http.ClientRequest;
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 1_000_000) body += c;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    };
    try {
      if (ep.kind === 'unix') req = http.get({ socketPath: ep.socketPath, path }, onResponse);
      else if (ep.tlsCertDir) {
        const read = (f: string) => readFileSync(join(ep.tlsCertDir!, f));
        req = https.get(
          { host: ep.host, port: ep.port, path, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') },
          onResponse,
        );
      } else req = http.get({ host: ep.host, port: ep.port, path }, onResponse);
    } catch (err) {
      reject(err);
      return;
    }
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface DockerEngine {
  /** Where it was looked for, as DOCKER_HOST spells it. */
  endpoint: string;
  reachable: boolean;
  /** The engine's version and API version, when reachable. */
  version?: string;
  apiVersion?: string;
  /** Why not, when not reachable. */
  error?: string;
  fix?: string;
}

function reason(err: unknown, ep: DockerEndpoint): { error: string; fix: string } {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' && ep.kind === 'unix') return { error: `no socket at ${ep.socketPath}`, fix: ENGINE_FIX };
  if ((e.code === 'EACCES' || e.code === 'EPERM') && ep.kind === 'unix')
    return {
      error: `permission denied on ${ep.socketPath}`,
      fix: 'add this user to the docker group (usermod -aG docker $USER, then log in again), or set DOCKER_HOST',
    };
  return { error: `${e.code ? `${e.code}: ` : ''}${e.message}`, fix: ENGINE_FIX };
}

/** GET /version: reachable, with the engine and API versions, or why not. */
export async function probeEngine(ep: DockerEndpoint = dockerEndpoint(), timeoutMs = 3000): Promise<DockerEngine> {
  let r: { status: number; body: string };
  try {
    r = await get(ep, '/version', timeoutMs);
  } catch (err) {
    return { endpoint: ep.display, reachable: false, ...reason(err, ep) };
  }
  let v: { Version?: unknown; ApiVersion?: unknown } | undefined;
  try {
    v = JSON.parse(r.body);
  } catch {}
  if (r.status !== 200 || typeof v?.Version !== 'string')
    return {
      endpoint: ep.display,
      reachable: false,
      error: `GET /version answered ${r.status}${typeof v?.Version === 'string' ? '' : ', not a Docker engine'}`,
      fix: ENGINE_FIX,
    };
  return {
    endpoint: ep.display,
    reachable: true,
    version: v.Version,
    apiVersion: typeof v.ApiVersion === 'string' ? v.ApiVersion : undefined,
  };
}

/** GET /images/<name>/json → 200: the engine holds the image. Any other answer, or none, is "no". */
export async function imagePresent(ep: DockerEndpoint, name: string, timeoutMs = 3000): Promise<boolean> {
  try {
    return (await get(ep, `/images/${name}/json`, timeoutMs)).status === 200;
  } catch {
    return false;
  }
}

type Presence = Record<keyof StackImages, boolean>;
const KEYS = ['kafka', 'toxiproxy', 'registry'] as const;

export interface ImagesReport {
  /** The images the runtime would run (resolveImages: given, environment, else the projects' own). */
  images: StackImages;
  present: Presence;
  /** The streamproof-local/* images scripts/build-images.sh tags. */
  local: StackImages;
  localPresent: Presence;
  /** All of `images` present. Missing images are a warning: they are pulled on first use. */
  ok: boolean;
  detail: string;
  fix?: string;
}

/** What to say about the images (pure: the presence is given). */
export function imagesAdvice(
  images: StackImages,
  present: Presence,
  local: StackImages,
  localPresent: Presence,
): Pick<ImagesReport, 'ok' | 'detail' | 'fix'> {
  const missing = KEYS.filter((k) => !present[k]);
  if (!missing.length) return { ok: true, detail: `present: ${KEYS.map((k) => images[k]).join(', ')}` };
  const detail = `missing: ${missing.map((k) => images[k]).join(', ')}`;
  if (KEYS.every((k) => localPresent[k])) {
    const settings = KEYS.map((k) => `${imageEnvNames[k]}=${local[k]}`).join(' ');
    return {
      ok: false,
      detail: `${detail} (the streamproof-local/* images are built)`,
      fix: `set ${settings}, or stack.images in the scenario`,
    };
  }
  const someLocal = KEYS.filter((k) => localPresent[k]).map((k) => local[k]);
  return {
    ok: false,
    detail: `${detail}${someLocal.length ? ` (only ${someLocal.join(', ')} of streamproof-local/* built)` : ''}`,
    fix: 'images are pulled on first use when a registry is reachable; otherwise build them with `bash scripts/build-images.sh`',
  };
}

/** Which of the stack's images, and of the streamproof-local/* ones, the engine holds. */
export async function probeImages(
  ep: DockerEndpoint = dockerEndpoint(),
  images: StackImages = resolveImages(),
  local: StackImages = localImages,
  timeoutMs = 3000,
): Promise<ImagesReport> {
  const has = async (set: StackImages): Promise<Presence> => {
    const [kafka, toxiproxy, registry] = await Promise.all(KEYS.map((k) => imagePresent(ep, set[k], timeoutMs)));
    return { kafka: !!kafka, toxiproxy: !!toxiproxy, registry: !!registry };
  };
  const [present, localPresent] = await Promise.all([has(images), has(local)]);
  return { images, present, local, localPresent, ...imagesAdvice(images, present, local, localPresent) };
}

export interface DockerProbe {
  engine: DockerEngine;
  /** Only when the engine is reachable. */
  images?: ImagesReport;
}

/** The engine, then (when it answers) the images. */
export async function probeDocker(
  opts: { env?: NodeJS.ProcessEnv; images?: StackImages; timeoutMs?: number } = {},
): Promise<DockerProbe> {
  const env = opts.env ?? process.env;
  const ep = dockerEndpoint(env);
  const engine = await probeEngine(ep, opts.timeoutMs);
  if (!engine.reachable) return { engine };
  return { engine, images: await probeImages(ep, opts.images ?? resolveImages({}, env), localImages, opts.timeoutMs) };
}
