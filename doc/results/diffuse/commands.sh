#!/usr/bin/env bash
# Error diffusion (encoder of 6c28c6d) at the issue-4 cuts: evaluation images, calibration
# images, tuning images.
set -u
B=build/disc   # from the project root
D='disc:bits=2,clip=4.5,prune=0.2|0.3|0.4,centroid=2,mean=1,diffuse=0.5'
run() { nice $B -q eval "$@" --threads 2 >/dev/null 2>&1 || echo "FAILED: $*"; }
run squeezenet_v1.1 --cuts /Relu_10_output_0,/Concat_4_output_0 --codecs "$D" --images 500 --out eval-sq
run mobilenet_v2_1.0_224 --cuts /Clip_12_output_0,/Clip_13_output_0,/Clip_20_output_0 --codecs "$D" --images 500 --out eval-mv2
run mobilenet_v1_0.5_160 --cuts /Clip_11_output_0,/Clip_15_output_0 --codecs "$D" --images 500 --out eval-mv1
run resnet56_cifar10 --cuts /layer2/layer2.2/Relu_1_output_0,/layer2/layer2.6/Relu_1_output_0 --codecs "$D" --images 2000 --out eval-r56
echo "eval done $(date)"
run squeezenet_v1.1 --cuts /Relu_10_output_0,/Concat_4_output_0 --codecs "$D" --first-image 500 --images 800 --out calrows-sq
run mobilenet_v2_1.0_224 --cuts /Clip_12_output_0,/Clip_13_output_0,/Clip_20_output_0 --codecs "$D" --first-image 500 --images 800 --out calrows-mv2
run mobilenet_v1_0.5_160 --cuts /Clip_11_output_0,/Clip_15_output_0 --codecs "$D" --first-image 500 --images 800 --out calrows-mv1
run resnet56_cifar10 --cuts /layer2/layer2.2/Relu_1_output_0,/layer2/layer2.6/Relu_1_output_0 --codecs "$D" --first-image 2000 --images 8000 --out calrows-r56
echo "calibration rows done $(date)"
G='disc:bits=2,clip=3|4|4.5,prune=0|0.2|0.3,centroid=2,mean=1'
run mobilenet_v2_1.0_224 --cuts /Clip_12_output_0 --codecs "$G;$G,diffuse=0.5;$G,diffuse=0.75" --first-image 500 --images 200 --out tuning-mv2
run mobilenet_v1_0.5_160 --cuts /Clip_15_output_0 --codecs "$G;$G,diffuse=0.5;$G,diffuse=0.25" --first-image 500 --images 200 --out tuning-mv1
run resnet56_cifar10 --cuts /layer2/layer2.6/Relu_1_output_0 --codecs "$G;$G,diffuse=0.5" --first-image 3000 --images 1000 --out tuning-r56
run squeezenet_v1.1 --cuts /Relu_10_output_0,/Concat_4_output_0 --codecs "$G;$G,diffuse=0.5" --first-image 500 --images 200 --out tuning-sq
echo "all done $(date)"
