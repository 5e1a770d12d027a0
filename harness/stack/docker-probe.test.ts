import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SOCKET,
  dockerEndpoint,
  ENGINE_FIX,
  imagePresent,
  imagesAdvice,
  probeDocker,
  probeEngine,
  probeImages,
} from './docker-probe.ts';
import { localImages, officialImages } from './images.ts';

/** A stand-in for the engine's API on a unix socket: /version, and /images/<name>/json for the names in `held`. */
function fakeEngine(socketPath: string, held: Set<string>, opts: { silent?: boolean } = {}): Promise<Server> {
  const server = createServer((req, res) => {
    if (opts.silent) return; // never answers
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/version') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Version: '99.1.2', ApiVersion: '1.51', Os: 'linux' }));
      return;
    }
    const m = /^\/images\/(.+)\/json$/.exec(url);
    if (req.method === 'GET' && m && held.has(m[1]!)) {
      res.end(JSON.stringify({ Id: 'sha256:0', RepoTags: [m[1]] }));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: `No such image: ${m?.[1] ?? url}` }));
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

const close = (s: Server) =>
  new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });

describe('dockerEndpoint', () => {
  it('is the default socket without DOCKER_HOST', () => {
    expect(dockerEndpoint({})).toEqual({
      kind: 'unix',
      socketPath: DEFAULT_SOCKET,
      display: `unix://${DEFAULT_SOCKET}`,
    });
  });
  it('honours unix:// and tcp:// (https when DOCKER_TLS_VERIFY is set)', () => {
    expect(dockerEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toMatchObject({
      kind: 'unix',
      socketPath: '/run/user/1000/docker.sock',
    });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toMatchObject({
      kind: 'tcp',
      host: '10.0.0.5',
      port: 2375,
      tlsCertDir: undefined,
    });
    expect(
      dockerEndpoint({ DOCKER_HOST: 'tcp://docker.example', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }),
    ).toMatchObject({ kind: 'tcp', host: 'docker.example', port: 2376, tlsCertDir: '/certs' });
  });
  it('names schemes it does not probe', async () => {
    const ep = dockerEndpoint({ DOCKER_HOST: 'ssh://me@box' });
    expect(ep.kind).toBe('unsupported');
    const engine = await probeEngine(ep);
    expect(engine.reachable).toBe(false);
    expect(engine.error).toContain('only unix:// and tcp://');
  });
});

describe('a Docker engine on a unix socket', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  const held = new Set<string>([officialImages.kafka, localImages.kafka, localImages.toxiproxy]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'docker-probe-'));
    socketPath = join(dir, 'docker.sock');
    server = await fakeEngine(socketPath, held);
  });
  afterAll(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the engine and API versions', async () => {
    const engine = await probeEngine(dockerEndpoint({ DOCKER_HOST: `unix://${socketPath}` }));
    expect(engine).toEqual({
      endpoint: `unix://${socketPath}`,
      reachable: true,
      version: '99.1.2',
      apiVersion: '1.51',
    });
  });

  it('asks for each image by its full name, registry and tag included', async () => {
    const ep = dockerEndpoint({ DOCKER_HOST: `unix://${socketPath}` });
    expect(await imagePresent(ep, officialImages.kafka)).toBe(true);
    expect(await imagePresent(ep, officialImages.toxiproxy)).toBe(false); // ghcr.io/shopify/toxiproxy:…
    const r = await probeImages(ep, officialImages, localImages);
    expect(r.present).toEqual({ kafka: true, toxiproxy: false, registry: false });
    expect(r.localPresent).toEqual({ kafka: true, toxiproxy: true, registry: false });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain(`missing: ${officialImages.toxiproxy}, ${officialImages.registry}`);
    expect(r.fix).toContain('bash scripts/build-images.sh');
  });

  it('probeDocker follows DOCKER_HOST and the STREAMPROOF_*_IMAGE overrides', async () => {
    const p = await probeDocker({
      env: {
        DOCKER_HOST: `unix://${socketPath}`,
        STREAMPROOF_TOXIPROXY_IMAGE: localImages.toxiproxy,
        STREAMPROOF_REGISTRY_IMAGE: localImages.kafka, // any held image will do
      },
    });
    expect(p.engine.reachable).toBe(true);
    expect(p.images?.images.toxiproxy).toBe(localImages.toxiproxy);
    expect(p.images?.ok).toBe(true);
    expect(p.images?.detail).toMatch(/^present: /);
    expect(p.images?.fix).toBeUndefined();
  });

  it('an engine that does not answer is not reachable, after the timeout', async () => {
    const silentPath = join(dir, 'silent.sock');
    const silent = await fakeEngine(silentPath, held, { silent: true });
    try {
      const t0 = Date.now();
      const engine = await probeEngine(dockerEndpoint({ DOCKER_HOST: `unix://${silentPath}` }), 200);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(engine.reachable).toBe(false);
      expect(engine.error).toContain('no answer within 0.2 s');
      expect(engine.fix).toBe(ENGINE_FIX);
    } finally {
      await close(silent);
    }
  });
});

describe('no Docker engine', () => {
  it('a socket path that does not exist is not available, with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docker-probe-none-'));
    try {
      const missing = join(dir, 'nothing-here.sock');
      const p = await probeDocker({ env: { DOCKER_HOST: `unix://${missing}` } });
      expect(p.engine).toEqual({
        endpoint: `unix://${missing}`,
        reachable: false,
        error: `no socket at ${missing}`,
        fix: ENGINE_FIX,
      });
      expect(p.images).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('something else on the socket is not a Docker engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docker-probe-other-'));
    const socketPath = join(dir, 'other.sock');
    const other = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => other.listen(socketPath, () => resolve()));
    try {
      const engine = await probeEngine(dockerEndpoint({ DOCKER_HOST: `unix://${socketPath}` }));
      expect(engine.reachable).toBe(false);
      expect(engine.error).toBe('GET /version answered 200, not a Docker engine');
    } finally {
      await close(other);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('imagesAdvice', () => {
  const none = { kafka: false, toxiproxy: false, registry: false };
  const all = { kafka: true, toxiproxy: true, registry: true };
  it('all present: ok, nothing to fix', () => {
    expect(imagesAdvice(officialImages, all, localImages, none)).toEqual({
      ok: true,
      detail: `present: ${officialImages.kafka}, ${officialImages.toxiproxy}, ${officialImages.registry}`,
    });
  });
  it('official missing, local built: points at the overrides', () => {
    const a = imagesAdvice(officialImages, none, localImages, all);
    expect(a.ok).toBe(false);
    expect(a.detail).toContain('the streamproof-local/* images are built');
    expect(a.fix).toBe(
      `set STREAMPROOF_KAFKA_IMAGE=${localImages.kafka} STREAMPROOF_TOXIPROXY_IMAGE=${localImages.toxiproxy} ` +
        `STREAMPROOF_REGISTRY_IMAGE=${localImages.registry}, or stack.images in the scenario`,
    );
  });
  it('neither: pulled on first use, else the build script', () => {
    const a = imagesAdvice(officialImages, none, localImages, none);
    expect(a.ok).toBe(false);
    expect(a.fix).toBe(
      'images are pulled on first use when a registry is reachable; otherwise build them with `bash scripts/build-images.sh`',
    );
  });
});
