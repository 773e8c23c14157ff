"""A train=benchmark stage that takes its time and logs every training: lets a test kill -9 a run mid-training."""
import os
import time

from tfnas.training import BenchmarkLookup


class SlowLookup(BenchmarkLookup):
    def train_one(self, space, entry, run_dir, device, seed, tracker):
        log = os.environ["TFNAS_TEST_TRAIN_LOG"]
        with open(log, "a") as handle:
            handle.write(f"start {entry['hash']}\n")
        time.sleep(float(os.environ.get("TFNAS_TEST_TRAIN_SECONDS", "0.5")))
        value = super().train_one(space, entry, run_dir, device, seed, tracker)
        with open(log, "a") as handle:
            handle.write(f"done {entry['hash']}\n")
        return value
