#!/usr/bin/env bash
# Trains the small pretrained models shipped inside the zoo jar, and refreshes their archives and checksums in
# zoo/src/main/resources/dev/genzoo/zoo/{embedded/NAME.tar.gz, registry.json}. Each bundle's model.json records the
# exact genzoo command that produced it (provenance.command) and its evaluation (metrics).
#
#   scripts/train-embedded.sh                 # all of them
#   scripts/train-embedded.sh flow-mnist      # one
#
# flow-mnist needs the official MNIST idx files: MNIST=DIR (default ../shared/data/mnist).
# Wall time on a 2-core CPU: flow-8gaussians and flow-rings a few minutes each, flow-mnist about 45 minutes,
# ddpm-8gaussians and ncsn-8gaussians about 5 minutes each, sngan-8gaussians about 3 minutes, ebm-8gaussians about
# 10 minutes, rbm-mnist about 1 minute.
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
RES=zoo/src/main/resources/dev/genzoo/zoo

# Run from a private copy of the command line, so that rebuilding the tree while a model trains cannot swap jars
# under the running JVM.
./genzoo --version >/dev/null
mkdir -p runs/embedded
DIST=$(mktemp -d runs/embedded/.dist-XXXXXX)
trap 'rm -rf "$DIST"' EXIT
cp -r tools/target/genzoo-tools.jar tools/target/lib "$DIST/"
genzoo() { TF_CPP_MIN_LOG_LEVEL=2 java -Xmx8g -Djava.awt.headless=true -jar "$DIST/genzoo-tools.jar" "$@"; }

train() {
  local family=$1 name=$2
  shift 2
  rm -rf "runs/embedded/$name"
  genzoo train "$family" "$@" --seed 1 --name "$name" --out "runs/embedded/$name" --no-progress
  mkdir -p "$RES/embedded"
  cp "runs/embedded/$name/$name.tar.gz" "$RES/embedded/$name.tar.gz"
  python3 - "$RES/registry.json" "$name" "$RES/embedded/$name.tar.gz" <<'PY'
import hashlib, json, os, sys
registry, name, archive = sys.argv[1:]
with open(registry) as f:
    reg = json.load(f)
digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
entry = next((m for m in reg["models"] if m["name"] == name), None)
if entry is None:
    sys.exit(f"{registry} has no entry {name}: add it first (description, data, published numbers)")
entry["files"] = [{"uri": f"embedded:{name}.tar.gz", "sha256": digest, "size": os.path.getsize(archive)}]
with open(registry, "w") as f:
    json.dump(reg, f, indent=2)
    f.write("\n")
print(f"{name}: {os.path.getsize(archive)} bytes, sha256 {digest}")
PY
}

all=("$@")
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" flow-8gaussians "* ]]; then
  train flow flow-8gaussians --preset realnvp-toy2d --data toy:8gaussians --steps 20000 \
    --eval-data toy:8gaussians --eval-limit 100000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" flow-rings "* ]]; then
  train flow flow-rings --preset realnvp-toy2d --data toy:rings --steps 20000 \
    --eval-data toy:rings --eval-limit 100000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" flow-mnist "* ]]; then
  train flow flow-mnist --preset mnist --data "mnist:$MNIST" --steps 10000 \
    --eval-data "mnist:$MNIST" --eval-split test --eval-limit 2000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" ddpm-8gaussians "* ]]; then
  train ddpm ddpm-8gaussians --preset toy2d --data toy:8gaussians --steps 20000 \
    --eval-data toy:8gaussians --eval-limit 10000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" ncsn-8gaussians "* ]]; then
  train ncsn ncsn-8gaussians --preset toy2d --data toy:8gaussians --steps 20000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" sngan-8gaussians "* ]]; then
  train sngan sngan-8gaussians --preset toy2d --data toy:8gaussians \
    --eval-data toy:8gaussians --eval-limit 10000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" rbm-mnist "* ]]; then
  train rbm rbm-mnist --preset mnist --data "mnist:$MNIST"
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" ebm-8gaussians "* ]]; then
  train ebm ebm-8gaussians --preset toy2d --data toy:8gaussians \
    --eval-data toy:8gaussians --eval-limit 10000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" nvae-8gaussians "* ]]; then
  train nvae nvae-8gaussians --preset toy2d --data toy:8gaussians \
    --eval-data toy:8gaussians --eval-limit 10000
fi
if [ ${#all[@]} -eq 0 ] || [[ " ${all[*]} " == *" nvae-mnist "* ]]; then
  train nvae nvae-mnist --preset mnist-small --data "mnist:$MNIST" \
    --eval-data "mnist:$MNIST" --eval-split test --eval-limit 2000
fi
