# Writes a gzipped docker-archive (the `docker save` layout skopeo and registries
# read) with one layer per store path of the closure of $env, plus a last layer
# with /bin and /etc links into the profile. Everything is sorted and dated
# 1970-01-01 so the image is byte-reproducible.
set -eu
TAR_FLAGS="--sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --format=gnu"
CREATED=1970-01-01T00:00:01Z

# closure (exportReferencesGraph): per path, its line, the deriver, the number of
# references, then the references.
paths=$(while read -r p; do
  read -r _deriver; read -r n
  i=0; while [ "$i" -lt "$n" ]; do read -r _ref; i=$((i + 1)); done
  echo "$p"
done < closure | sort)

mkdir image
layers=""; diff_ids=""; history=""
add_layer() { # $1: tar file, $2: history comment
  sha=$(sha256sum "$1" | cut -d' ' -f1)
  mkdir -p "image/$sha"; mv "$1" "image/$sha/layer.tar"
  layers="$layers${layers:+,}\"$sha/layer.tar\""
  diff_ids="$diff_ids${diff_ids:+,}\"sha256:$sha\""
  history="$history${history:+,}{\"created\":\"$CREATED\",\"comment\":\"$2\"}"
}

# The nix/ and nix/store/ entries of each layer come from an empty skeleton, not
# from the live /nix/store, which other builds change while tar reads it.
mkdir -p skel/nix/store
chmod 755 skel/nix skel/nix/store
for p in $paths; do
  # shellcheck disable=SC2086
  tar $TAR_FLAGS -cf layer.tar --no-recursion -C skel nix nix/store --recursion -C / "${p#/}"
  add_layer layer.tar "store path $p"
done

mkdir root
ln -s "$env/bin" root/bin
ln -s "$env/etc" root/etc
# shellcheck disable=SC2086
tar -C root $TAR_FLAGS -cf layer.tar bin etc
add_layer layer.tar "links /bin and /etc to $env"

printf '{"architecture":"%s","os":"linux","created":"%s","config":{"Env":["PATH=/bin"],"Cmd":["/bin/devtools"],"WorkingDir":"/","Labels":{"org.opencontainers.image.title":"%s"}},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
  "$arch" "$CREATED" "$imageName" "$diff_ids" "$history" > config.json
config=$(sha256sum config.json | cut -d' ' -f1).json
mv config.json "image/$config"
printf '[{"Config":"%s","RepoTags":["%s:latest"],"Layers":[%s]}]' "$config" "$imageName" "$layers" > image/manifest.json

# shellcheck disable=SC2086
(cd image && tar $TAR_FLAGS -cf - -- *) | gzip -9n > "$out"
