"""Classification speed: batch throughput over 10,000 messages (with definition drafting), median
single-message latency, model load time and resident memory. Prints figures; it is not a test.

    python benchmarks/bench_classify.py [--messages 10000]

Runs on one core (BLAS and OpenMP threads pinned to 1 before numpy loads).
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

from classifier.classify import Classifier, MessageIn  # noqa: E402
from classifier.corpus import load_written  # noqa: E402
from classifier.model import BUNDLED_DIR, TriageModel  # noqa: E402


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=1_000)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    examples = load_written()
    pool = [MessageIn(e.id, e.channel, e.subject, e.text) for e in examples]
    messages = [pool[i % len(pool)] for i in range(args.messages)]
    before = rss_mib()

    start = time.perf_counter()
    model = TriageModel.load(BUNDLED_DIR)
    load_seconds = time.perf_counter() - start
    classifier = Classifier(model)
    after_load = rss_mib()
    today = date(2026, 11, 24)

    classifier.classify_many(messages[:200], received=today)  # warm up
    start = time.perf_counter()
    results = classifier.classify_many(messages, received=today)
    batch_seconds = time.perf_counter() - start
    complaints = sum(r.label == "complaint" for r in results)

    latencies = []
    for message in messages[: args.single]:
        start = time.perf_counter()
        classifier.classify(message, received=today)
        latencies.append(time.perf_counter() - start)
    latencies.sort()

    print(
        f"model {model.version}: load {load_seconds * 1000:.0f} ms, resident memory {after_load:.0f} MiB "
        f"(+{after_load - before:.0f} MiB for the model)"
    )
    print(
        f"batch: {len(messages)} messages in {batch_seconds:.2f} s = {len(messages) / batch_seconds:,.0f} messages/s "
        f"on one core, {complaints} complaint definitions drafted"
    )
    print(
        f"single message: median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p95 {latencies[int(0.95 * len(latencies))] * 1000:.2f} ms over {len(latencies)} messages"
    )


if __name__ == "__main__":
    main()
