#!/usr/bin/env bash
# Builds the container images of the testcontainers runtime locally, from the provisioning cache, for machines that
# reach no image registry (this project's CI, air-gapped runners). Each image speaks the contract of the project's
# own image it stands for (harness/stack/images.ts), so `STREAMPROOF_*_IMAGE=streamproof-local/...` is all a run needs.
#
#   bash scripts/build-images.sh          # idempotent: an image whose inputs did not change is kept
#
# Needs: a running Docker engine, debootstrap (the base image: Debian bookworm, minbase, from the same Debian mirror
# apt uses on this machine), `streamproof provision` done, and a Java 21+ for the registry image.
set -euo pipefail
cd "$(dirname "$0")/.."
docker=${DOCKER:-docker}
command -v "$docker" >/dev/null || { echo "build-images: no docker CLI on PATH (apt-get install docker.io)" >&2; exit 69; }
"$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  { echo "build-images: no Docker engine answers (start dockerd)" >&2; exit 69; }

eval "$(node --import tsx -e '
  const { localImages } = await import("./harness/stack/images.ts");
  const { kafkaDir, toxiproxyDir } = await import("./harness/stack/provision.ts");
  const { cacheRoot } = await import("./harness/util/paths.ts");
  const { versions } = await import("./harness/stack/versions.ts");
  const v = versions.registry[0];
  const q = (s) => `'"'"'${s}'"'"'`;
  console.log(`KAFKA_IMAGE=${q(localImages.kafka)} TOXI_IMAGE=${q(localImages.toxiproxy)} REG_IMAGE=${q(localImages.registry)}`);
  console.log(`KAFKA_CACHE=${q(kafkaDir())} TOXI_CACHE=${q(toxiproxyDir())} REG_CACHE=${q(`${cacheRoot()}/apicurio-registry-${v.version}`)} REG_JAVA=${v.minJava}`);
')"
BASE_IMAGE=streamproof-local/base:bookworm
for d in "$KAFKA_CACHE" "$TOXI_CACHE" "$REG_CACHE"; do
  [ -f "$d/complete.json" ] || { echo "build-images: $d is not provisioned (node bin/streamproof.js provision)" >&2; exit 69; }
done

step() { printf '[images] %s\n' "$*" >&2; }
has() { "$docker" image inspect "$1" >/dev/null 2>&1; }
label() { "$docker" image inspect --format "{{ index .Config.Labels \"streamproof.inputs\" }}" "$1" 2>/dev/null || true; }

work=$(mktemp -d /tmp/streamproof-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

if has "$BASE_IMAGE"; then
  step "base: $BASE_IMAGE present"
else
  command -v debootstrap >/dev/null || { echo "build-images: debootstrap missing (apt-get install debootstrap)" >&2; exit 69; }
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || { echo "build-images: no Debian mirror found in this machine's apt sources" >&2; exit 69; }
  step "base: debootstrap bookworm (minbase) from this machine's apt mirror"
  t0=$SECONDS
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" -c . | "$docker" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$BASE_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
  step "base: $BASE_IMAGE built in $((SECONDS - t0)) s"
fi

# build NAME IMAGE CONTEXT: rebuilds only when the Dockerfile, the files beside it or the cache's manifest changed.
build() {
  local name=$1 image=$2 ctx=$3 inputs
  inputs=$( (cat "$ctx/Dockerfile"; find "$ctx" -maxdepth 1 -type f ! -name Dockerfile -exec cat {} +; cat "$4") | sha256sum | cut -c1-16)
  if [ "$(label "$image")" = "$inputs" ]; then step "$name: $image up to date"; return; fi
  step "$name: building $image"
  local t0=$SECONDS
  "$docker" build -q --build-arg "BASE=$BASE_IMAGE" --label "streamproof.inputs=$inputs" -t "$image" "$ctx" \
    >/dev/null 2>"$ctx.log" || { cat "$ctx.log" >&2; exit 1; }
  step "$name: $image built in $((SECONDS - t0)) s"
}

cp -r docker/kafka "$work/kafka"
cp -r "$KAFKA_CACHE/libs" "$work/kafka/libs"
build kafka "$KAFKA_IMAGE" "$work/kafka" "$KAFKA_CACHE/complete.json"

cp -r docker/toxiproxy "$work/toxiproxy"
cp "$TOXI_CACHE/bin/toxiproxy-server" "$work/toxiproxy/toxiproxy-server"
build toxiproxy "$TOXI_IMAGE" "$work/toxiproxy" "$TOXI_CACHE/complete.json"

java_home=$(node --import tsx -e '
  const { findJava } = await import("./harness/stack/java.ts");
  const j = await findJava('"$REG_JAVA"');
  if (j) console.log((await import("node:fs")).realpathSync(j.bin).replace(/\/bin\/java$/, ""));
')
[ -n "$java_home" ] || { echo "build-images: the registry image needs a Java >= $REG_JAVA on this machine" >&2; exit 69; }
cp -r docker/registry "$work/registry"
cp -rL "$java_home" "$work/registry/java"
cp -r "$REG_CACHE/app" "$work/registry/app"
build registry "$REG_IMAGE" "$work/registry" "$REG_CACHE/complete.json"
step "done: $KAFKA_IMAGE $TOXI_IMAGE $REG_IMAGE"
