#!/usr/bin/env bash
# Speed, measured: the Go benchmarks (graceful against a yaml.v3 decode-only
# baseline in the same run), then whole-process wall time and peak memory of
# graceful and its peers on the same streams. Needs python3 and GNU time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shared=../shared
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

CGO_ENABLED=0 go build -o "$tmp/graceful" ./cmd/graceful  # as make build
go build -o "$tmp/decode" ./hack/peers/decode
go build -o "$tmp/kyamlcat" ./hack/peers/kyamlcat
kustomize=$(hack/tools.sh path kustomize)

python3 "$shared/bench/synth.py" 3334 >"$tmp/big.yaml"   # 10,002 documents
python3 "$shared/bench/synth.py" 334 >"$tmp/small.yaml"  # 1,002 documents

if [[ ${1:-} != --no-go ]]; then
  echo "== go test -bench (in process)"
  go test ./render -run '^$' -bench 'Render$|DecodeBaseline|RenderCorpus' -benchmem -count 5
fi

# measure NAME INPUT CMD...: best wall time of 5 runs and the peak RSS of that run.
measure() {
  local name=$1 input=$2 best="" line
  shift 2
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" <"$input" >/dev/null 2>/dev/null
    line=$(tail -1 "$tmp/time")
    if [[ -z $best ]] || awk -v a="${line% *}" -v b="${best% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  printf '%-58s %6ss %8s KB\n' "$name" "${best% *}" "${best#* }"
}

echo "== whole process, best of 5 ($(wc -c <"$tmp/big.yaml") bytes, 10,002 documents)"
measure "yaml.v3 decode, bytes copied out (baseline)" "$tmp/big.yaml" "$tmp/decode"
measure "graceful render --profile generic-http --provider aws" "$tmp/big.yaml" "$tmp/graceful" render -q --profile generic-http --provider aws
measure "kyaml ByteReader -> ByteWriter (no change)" "$tmp/big.yaml" "$tmp/kyamlcat"

echo "== whole process, 1,002 documents"
measure "graceful render --profile generic-http --provider aws" "$tmp/small.yaml" "$tmp/graceful" render -q --profile generic-http --provider aws
mkdir -p "$tmp/k"
cp "$tmp/small.yaml" "$tmp/k/stream.yaml"
cat >"$tmp/k/kustomization.yaml" <<'YAML'
resources: [stream.yaml]
patches:
- target: {kind: Deployment}
  patch: |
    - op: add
      path: /spec/template/spec/terminationGracePeriodSeconds
      value: 30
- target: {kind: Service}
  patch: |
    - op: add
      path: /metadata/annotations
      value: {service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled: "true"}
YAML
measure "kustomize build, two JSON patches" /dev/null "$kustomize" build "$tmp/k"

echo "== whole process, typical charts"
for f in podinfo-chart-lb.yaml bitnami-nginx-chart-lb.yaml kube-prometheus-stack-chart.yaml; do
  measure "graceful render --profile nginx --provider aws $f" "$shared/corpus/$f" "$tmp/graceful" render -q --profile nginx --provider aws
done
