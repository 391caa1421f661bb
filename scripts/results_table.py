#!/usr/bin/env python3
"""Markdown table of test HR@10 / NDCG@10 by group from run directories.
Usage: scripts/results_table.py [--buckets] RUN_DIR[=LABEL] ..."""
import json
import sys

GROUPS = ["overall", "tail_item", "head_item", "tail_user", "head_user"]
BUCKETS = ["1-4", "5-9", "10-19", "20-49", "50+"]


def main(argv):
    buckets = "--buckets" in argv
    runs = [a for a in argv if a != "--buckets"]
    columns = BUCKETS if buckets else GROUPS
    print("| run | " + " | ".join(columns) + " | best epoch |")
    print("|---" * (len(columns) + 2) + "|")
    for arg in runs:
        path, _, label = arg.partition("=")
        with open(path + "/metrics.json") as f:
            m = json.load(f)
        test = m["test"]
        cells = []
        for c in columns:
            g = test["buckets"][c] if buckets else test[c]
            cells.append("%.4f / %.4f" % (g["hr@10"], g["ndcg@10"]))
        print("| %s | %s | %s |" % (label or path, " | ".join(cells), m.get("best_epoch", "")))


if __name__ == "__main__":
    main(sys.argv[1:])
