#!/usr/bin/env bash
# The runs behind doc/RESULTS.md's "Compact container" paragraph (2026-11-29, seventh session),
# from the repository root after scripts/build. The per-model tables come from
# scripts/eval-results (every codec's default grid, then calibration), copied into
# doc/results/MODEL/; these two add the mobilenet_v2 rows that the default grid lacks.
set -euo pipefail
out=${1:-out/container-v2}
build/disc eval mobilenet_v2_1.0_224 --cuts /Clip_12_output_0 --images 500 --out "$out/mv2-clip12" \
  --codecs 'disc:bits=2,clip=4.5,prune=0.2|0.3|0.4,centroid=2,mean=1,diffuse=0.5;disc:bits=2,clip=4.5,prune=0.2,centroid=2,mean=1'
build/disc eval mobilenet_v2_1.0_224 --cuts /Clip_13_output_0 --images 500 --out "$out/mv2-clip13-g4" \
  --codecs 'disc:bits=2,clip=3|3.5|4,centroid=2'
scripts/eval-results "$out/results"
