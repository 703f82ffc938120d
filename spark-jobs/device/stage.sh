#!/usr/bin/env bash
# Stages the Spark job for the GPU machine, which has no Java, Spark or network, and whose device
# tool carries at most 64 MiB a call: a Spark installation's jars cut into three parts
# (.gpu-spark/1..3, each copied into /tmp/spark/jars by its own call while the machine stays
# warm; the first part also carries the Java runtime), then .gpu-job with the application jar,
# the models and gpu-job.sh for the last call. Prints the calls.
#   spark-jobs/device/stage.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
echo "building (mvn package)..." >&2
mvn -B -q -pl spark-jobs -am package -DskipTests
../shared/tools/device-java.sh > /dev/null 2>&1

# A Spark 4.2 installation's jars: Spark's own classpath and what the job's jar leaves to it
# (Hadoop, Arrow, Jackson, ...). RocksDB (history server and shuffle state stores), ICU (SQL
# collations) and netty's native TLS for other platforms are left out: the job loads none of them.
rm -rf .gpu-spark .gpu-job
mkdir -p .gpu-spark/1 .gpu-spark/2 .gpu-spark/3 .gpu-job/models
{ tr ':' '\n' < spark-jobs/target/spark-classpath.txt; echo
  tr ':' '\n' < spark-jobs/target/classpath.txt; echo; } \
  | grep -v -e '^$' -e '/dev/calibra/' -e '/target/' -e '/jcuda' > /tmp/calibra-spark-jars.txt
part=1
used=$((18 << 20))  # bytes: the Java runtime travels with part 1
sort -u /tmp/calibra-spark-jars.txt | grep -v -E 'rocksdbjni|icu4j|tcnative.*(osx|windows|aarch)' \
  | while read -r jar; do
  size=$(stat -c %s "$jar")
  if [ $((used + size)) -gt $((60 << 20)) ]; then
    part=$((part + 1))
    used=0
  fi
  [ "$part" -le 3 ] || { echo "Spark's jars no longer fit three calls" >&2; exit 1; }
  cp "$jar" ".gpu-spark/$part/"
  used=$((used + size))
done

cp spark-jobs/target/spark-jobs-0.1.0-SNAPSHOT-app.jar spark-jobs/scripts/find-gpus.sh \
  spark-jobs/device/gpu-job.sh .gpu-job/
mkdir -p .gpu-job/models/dict-llama-15M
cp ../shared/models/dict-llama-15M/{config.json,model.safetensors,tokenizer.model,calibration.txt,heldout.txt} \
  .gpu-job/models/dict-llama-15M/

exclude=$(realpath -m "$(git rev-parse --git-path info/exclude)")
for folder in /.gpu-spark/ /.gpu-job/; do
  grep -qx "$folder" "$exclude" 2>/dev/null || echo "$folder" >> "$exclude"
done
du -sm .device .gpu-spark/* .gpu-job >&2
cat <<CALLS
Device tool calls, one right after the other (the machine keeps /tmp only while it is warm):
  1. carry [".device", ".gpu-spark/1"]: tar -C /tmp -xJf .device/jre.tar.xz && mkdir -p /tmp/spark/jars && cp .gpu-spark/1/* /tmp/spark/jars/
  2. carry [".gpu-spark/2"]: cp .gpu-spark/2/* /tmp/spark/jars/
  3. carry [".gpu-spark/3"]: cp .gpu-spark/3/* /tmp/spark/jars/
  4. carry [".gpu-job"]: bash .gpu-job/gpu-job.sh   (two-gpus on a machine with two GPUs)
CALLS
