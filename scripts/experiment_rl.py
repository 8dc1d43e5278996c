#!/usr/bin/env python3
"""The experiment's RL arm helpers (scripts/experiment calls them; python3's standard library only).

  experiment_rl.py split TASKS N HELDOUT REST   the first scenes' questions (N of them) held out;
                                                 questions about any other scene for RL; a question
                                                 that mixes the two is in neither
  experiment_rl.py passk SCORES...               pass@1 and pass@k of k sampled runs of the same
                                                 questions (eval score files, exact matching)
  experiment_rl.py summary WORK                  the RL section of results.md: pass@k, the runs
                                                 against the model they started from, the goals
"""
import glob
import json
import os
import sys


def scenes_of(task):
    s = task.get("metadata", {}).get("scene")
    return s if isinstance(s, list) else [s]


def split(tasks_path, n, heldout_path, rest_path):
    rows = [json.loads(line) for line in open(tasks_path)]
    order = []
    for r in rows:
        for s in scenes_of(r):
            if s not in order:
                order.append(s)
    held = set()
    for s in order:
        if sum(1 for r in rows if set(scenes_of(r)) <= held) >= n:
            break
        held.add(s)
    kept = 0
    with open(heldout_path + ".part", "w") as h, open(rest_path + ".part", "w") as t:
        for r in rows:
            s = set(scenes_of(r))
            if s <= held and kept < n:
                h.write(json.dumps(r) + "\n")
                kept += 1
            elif not s & held:
                t.write(json.dumps(r) + "\n")
    if kept < n:
        sys.exit(f"experiment_rl: {tasks_path} has only {kept} questions to hold out, not {n}")
    os.replace(rest_path + ".part", rest_path)
    os.replace(heldout_path + ".part", heldout_path)


def read_scores(path):
    return {j["id"]: j["score"] for j in map(json.loads, open(path))}


def passk(paths):
    runs = [read_scores(p) for p in paths]
    ids = set(runs[0])
    for r in runs[1:]:
        if set(r) != ids:
            sys.exit("experiment_rl: the sampled runs did not score the same questions")
    k = len(runs)
    pass1 = sum(sum(r[i] for r in runs) / k for i in ids) / len(ids)
    passk_ = sum(1 for i in ids if any(r[i] > 0 for r in runs)) / len(ids)
    return {"questions": len(ids), "samples": k, "pass@1": pass1, f"pass@{k}": passk_}


def split_accuracy(scores_path, tasks_path):
    """Accuracy on multiple-choice and on free-form questions."""
    choice = {t["id"]: bool(t.get("choices")) for t in map(json.loads, open(tasks_path))}
    out = {}
    for kind in (True, False):
        s = [v for i, v in read_scores(scores_path).items() if choice.get(i) == kind]
        out["choice" if kind else "free-form"] = (sum(s) / len(s), len(s)) if s else (float("nan"), 0)
    return out


def tool_share(traces_path):
    """The share of episodes that called a tool other than Terminate."""
    n = used = 0
    for t in map(json.loads, open(traces_path)):
        n += 1
        names = [a.get("name") for s in t.get("steps", []) for a in s.get("actions") or []]
        used += any(name and name != "Terminate" for name in names)
    return used / n if n else float("nan")


def compare_line(path):
    """The overall difference and its interval from an eval compare report, as written."""
    if not os.path.exists(path):
        return ""
    for line in open(path):
        if "overall" in line.lower() and "[" in line:
            return line.strip()
    return ""


def summary(work):
    os.chdir(work)
    print("\n## RL (issue 29)\n")
    if os.path.exists("passk.json"):
        p = json.load(open("passk.json"))
        k = p["samples"]
        print(f"The starting model on {p['questions']} held-out questions of the RL world ({k} samples at the RL "
              f"temperature, exact matching, noisy tools): pass@1 **{100 * p['pass@1']:.1f}%**, "
              f"pass@{k} **{100 * p[f'pass@{k}']:.1f}%**: RL mostly turns pass@{k} into pass@1, so the gap bounds "
              f"what to expect.\n")
    for path in sorted(glob.glob("passk-*.json")):
        p = json.load(open(path))
        k = p["samples"]
        print(f"After `{path[len('passk-'):-len('.json')]}`, the same measurement: pass@1 **{100 * p['pass@1']:.1f}%**, "
              f"pass@{k} **{100 * p[f'pass@{k}']:.1f}%**.\n")
    rows = []
    for name in sorted(glob.glob("runs/*.scores.jsonl")):
        run = os.path.basename(name)[: -len(".scores.jsonl")]
        if not (run.startswith("rl") or run.startswith("sft")):
            continue
        acc = split_accuracy(name, "bench/bench.jsonl")
        scores = list(read_scores(name).values())
        traces = f"runs/{run}.jsonl"
        rows.append((run, sum(scores) / len(scores), acc["choice"][0], acc["free-form"][0],
                     tool_share(traces) if os.path.exists(traces) else float("nan")))
    if rows:
        print("| run | accuracy (%) | multiple choice (%) | free-form (%) | episodes calling a tool (%) |")
        print("|---|---:|---:|---:|---:|")
        for run, a, c, f, t in rows:
            print(f"| {run} | **{100 * a:.1f}** | {100 * c:.1f} | {100 * f:.1f} | {100 * t:.1f} |")
    for path in sorted(glob.glob("compare-sft*-rl*.md")):
        line = compare_line(path)
        if line:
            print(f"\n`{path}`: {line}")
    metrics = "models/rl/metrics.jsonl"
    if os.path.exists(metrics):
        steps = [json.loads(line) for line in open(metrics)]
        if steps:
            first, last = steps[: min(20, len(steps))], steps[-min(20, len(steps)):]
            mean = lambda xs, key: sum(x.get(key, 0) for x in xs) / len(xs)
            print(f"\nTraining ({len(steps)} steps, {steps[-1].get('seconds', 0) / 60:.0f} min): accuracy on the "
                  f"rollouts {100 * mean(first, 'accuracy'):.1f}% over the first twenty steps, "
                  f"{100 * mean(last, 'accuracy'):.1f}% over the last twenty; tool calls per episode "
                  f"{mean(first, 'tool_calls_per_episode'):.2f} -> {mean(last, 'tool_calls_per_episode'):.2f}.")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "split" and len(sys.argv) == 6:
        split(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "passk" and len(sys.argv) > 2:
        print(json.dumps(passk(sys.argv[2:]), indent=1))
    elif cmd == "summary" and len(sys.argv) == 3:
        summary(sys.argv[2])
    else:
        sys.exit(__doc__)
