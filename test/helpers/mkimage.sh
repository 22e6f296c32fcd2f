# Builds a container image from store paths with only /bin/sh and host tools
# (tar, gzip, zstd, sha256sum), the way nixpkgs' dockerTools / nix2container lay
# them out. Used by test/helpers/images.ts as a derivation builder, and by the
# stream scripts it generates (`sh mkimage.sh --stream` writes the image to stdout).
#
# Environment: contents (store paths, one layer each), format (docker-archive |
# oci-dir | oci-archive | nix2container | stream), compress (none | gzip | zstd),
# imageName, imageTag, arch, cmd, out.
set -eu
PATH=/usr/local/bin:/usr/bin:/bin
export LC_ALL=C
TARFLAGS="--sort=name --owner=0 --group=0 --numeric-owner --mtime=@1 --format=gnu"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { wc -c < "$1" | tr -d ' '; }

# One uncompressed layer tar per content path, as buildLayeredImage makes them.
# Sets LAYERS (sha256 of each layer tar, in order) and leaves $1/layers/<sha>.tar.
make_layers() {
  mkdir -p "$1/layers"
  LAYERS=""
  for p in $contents; do
    rel=${p#/}
    tar $TARFLAGS -C / -cf "$1/layers/tmp.tar" "$rel"
    s=$(sha "$1/layers/tmp.tar")
    mv "$1/layers/tmp.tar" "$1/layers/$s.tar"
    LAYERS="$LAYERS $s"
  done
}

config_json() {
  ids=""
  hist=""
  for s in $LAYERS; do
    ids="$ids${ids:+,}\"sha256:$s\""
    hist="$hist${hist:+,}{\"created\":\"1970-01-01T00:00:01Z\",\"created_by\":\"test/helpers/mkimage.sh\"}"
  done
  printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:01Z","config":{"Cmd":["%s"],"Env":["PATH=/bin"],"Labels":{"org.opencontainers.image.title":"%s"}},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
    "$arch" "$cmd" "$imageName" "$ids" "$hist"
}

# docker save layout in directory $1: manifest.json, <sha>.json, <sha>/layer.tar
docker_dir() {
  d=$1
  make_layers "$d/work"
  config_json > "$d/work/config.json"
  c=$(sha "$d/work/config.json")
  mkdir -p "$d/img"
  mv "$d/work/config.json" "$d/img/$c.json"
  ls=""
  for s in $LAYERS; do
    mkdir -p "$d/img/$s"
    mv "$d/work/layers/$s.tar" "$d/img/$s/layer.tar"
    ls="$ls${ls:+,}\"$s/layer.tar\""
  done
  printf '[{"Config":"%s.json","RepoTags":["%s:%s"],"Layers":[%s]}]' "$c" "$imageName" "$imageTag" "$ls" > "$d/img/manifest.json"
  printf '{"%s":{"%s":"%s"}}' "$imageName" "$imageTag" "$(echo $LAYERS | tr ' ' '\n' | tail -n 1)" > "$d/img/repositories"
}

docker_tar() { # $1 work dir; writes the uncompressed docker-archive to stdout
  docker_dir "$1"
  (cd "$1/img" && tar $TARFLAGS -cf - manifest.json repositories "$c.json" $(for s in $LAYERS; do echo "$s"; done | sort -u))
}

compress() {
  case "$compress" in
    none) cat ;;
    gzip) gzip -n -c ;;
    zstd) zstd -q -c --no-progress ;;
    *) echo "mkimage.sh: unknown compress '$compress'" >&2; exit 1 ;;
  esac
}

oci_dir() { # $1 work dir, $2 target layout dir
  make_layers "$1"
  o=$2
  mkdir -p "$o/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$o/oci-layout"
  lj=""
  for s in $LAYERS; do
    gzip -n -c "$1/layers/$s.tar" > "$1/layer.gz"
    g=$(sha "$1/layer.gz")
    n=$(size "$1/layer.gz")
    mv "$1/layer.gz" "$o/blobs/sha256/$g"
    lj="$lj${lj:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$g\",\"size\":$n}"
  done
  config_json > "$1/config.json"
  c=$(sha "$1/config.json"); cn=$(size "$1/config.json")
  mv "$1/config.json" "$o/blobs/sha256/$c"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$c" "$cn" "$lj" > "$1/manifest.json"
  m=$(sha "$1/manifest.json"); mn=$(size "$1/manifest.json")
  mv "$1/manifest.json" "$o/blobs/sha256/$m"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$m" "$mn" "$imageTag" > "$o/index.json"
}

# nix2container's image JSON: layers name the store paths they hold; blobs are
# made from the store when the image is copied (the JSON references the paths).
nix2container_json() {
  wd=$1
  make_layers "$wd"
  lj=""
  set -- $contents
  for s in $LAYERS; do
    n=$(size "$wd/layers/$s.tar")
    lj="$lj${lj:+,}{\"digest\":\"sha256:$s\",\"size\":$n,\"diff_ids\":\"sha256:$s\",\"paths\":[{\"path\":\"$1\"}],\"mediatype\":\"application/vnd.oci.image.layer.v1.tar\"}"
    shift
  done
  printf '{"version":1,"image-config":{"Cmd":["%s"],"Env":["PATH=/bin"]},"layers":[%s],"arch":"%s","created":"1970-01-01T00:00:01Z"}' "$cmd" "$lj" "$arch"
}

if [ "${1:-}" = "--stream" ]; then
  w=$(mktemp -d)
  trap 'rm -rf "$w"' EXIT
  docker_tar "$w"
  exit 0
fi

w=$PWD/work
mkdir -p "$w"
case "$format" in
  docker-archive) docker_tar "$w" | compress > "$out" ;;
  oci-dir) oci_dir "$w" "$out" ;;
  oci-archive) oci_dir "$w" "$w/layout" && (cd "$w/layout" && tar $TARFLAGS -cf "$out" oci-layout index.json blobs) ;;
  nix2container) nix2container_json "$w" > "$out" ;;
  stream)
    # The stream script references the content paths and this builder, like
    # streamLayeredImage's script references its layer config.
    self=$0
    {
      printf '#!/bin/sh\n# stream the docker-archive of %s:%s to stdout\n' "$imageName" "$imageTag"
      printf "export contents='%s' imageName='%s' imageTag='%s' arch='%s' cmd='%s'\n" "$contents" "$imageName" "$imageTag" "$arch" "$cmd"
      printf 'exec /bin/sh %s --stream\n' "$self"
    } > "$out"
    chmod +x "$out"
    ;;
  *) echo "mkimage.sh: unknown format '$format'" >&2; exit 1 ;;
esac
