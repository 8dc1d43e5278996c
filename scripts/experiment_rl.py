#!/usr/bin/env python3
"""The experiment's RL arm helpers (scripts/experiment calls them; python3's standard library only).

  experiment_rl.py split TASKS N HELDOUT REST   the first scenes' questions (N of them) held out;
                                                 questions about any other scene for RL; a question
                                                 that mixes the two is in neither
  experiment_rl.py passk SCORES...               pass@1 and pass@k of k sampled runs of the same
                                                 questions (eval score files, exact matching)
  experiment_rl.py letters TRACES...             multiple-choice answers against the chains: how
                                                 often the letter picks the option the last thought
                                                 names, and the letters against the references'
  experiment_rl.py groups ROLLOUTS               an RL run's groups by half of the run and kind of
                                                 question: how many the reward separated, distinct
                                                 answers in a group, accuracy
  experiment_rl.py summary WORK                  the RL section of results.md: pass@k, the runs
                                                 against the model they started from, the goals
"""
import collections
import glob
import json
import os
import re
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


def letters(traces_path):
    """Multiple-choice episodes whose last thought names exactly one option: does the letter pick it?"""
    out = {"episodes": 0, "right": 0, "one_option_named": 0, "letter_agrees": 0, "letter_disagrees": 0,
           "named_right_letter_wrong": 0, "letters": collections.Counter(), "references": collections.Counter()}
    for t in map(json.loads, open(traces_path)):
        task = t.get("task", {})
        choices = task.get("choices")
        if not choices or not t.get("steps"):
            continue
        out["episodes"] += 1
        letter, reference = (t.get("answer") or "").strip(), task.get("answer", "")
        out["letters"][letter if len(letter) == 1 else "other"] += 1
        out["references"][reference] += 1
        out["right"] += letter == reference
        words = set(re.findall(r"[a-z0-9-]+", (t["steps"][-1].get("thought") or "").lower()))
        named = [i for i, c in enumerate(choices) if str(c).lower() in words]
        if len(named) != 1:
            continue
        out["one_option_named"] += 1
        named_letter = chr(ord("A") + named[0])
        if named_letter == letter:
            out["letter_agrees"] += 1
        else:
            out["letter_disagrees"] += 1
            out["named_right_letter_wrong"] += named_letter == reference
    return out


def groups(rollouts_path):
    """An RL run's groups (the episodes of one question at one step), by half of the run and kind."""
    members = collections.defaultdict(list)
    for t in map(json.loads, open(rollouts_path)):
        question, _, rest = t["id"].rpartition("~s")
        step = int(rest.split("m")[0])
        task = t.get("task", {})
        members[(step, question)].append((bool(task.get("choices")), t.get("answer"), task.get("answer")))
    last = max(step for step, _ in members) if members else 0
    out = collections.defaultdict(lambda: {"groups": 0, "separated": 0, "distinct_answers": 0, "right": 0.0})
    for (step, _), g in members.items():
        kind = "multiple choice" if g[0][0] else "free-form"
        half = "first half" if 2 * step <= last else "second half"
        right = [a == r for _, a, r in g]
        row = out[f"{kind}, {half}"]
        row["groups"] += 1
        row["separated"] += len(set(right)) > 1
        row["distinct_answers"] += len(set(a for _, a, _ in g))
        row["right"] += sum(right) / len(g)
    return dict(sorted(out.items()))


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
    if rows:
        print("\nMultiple-choice letters against the chains (the episodes whose last thought names exactly one "
              "option):\n")
        print("| run | choice episodes | one option named | letter picks it | letter picks another "
              "| of those, the named option right | letters written (A/B/C/D) | references (A/B/C/D) |")
        print("|---|---:|---:|---:|---:|---:|---|---|")
        for run, *_ in rows:
            traces = f"runs/{run}.jsonl"
            if not os.path.exists(traces):
                continue
            m = letters(traces)
            abcd = lambda c: "/".join(str(c.get(x, 0)) for x in "ABCD")
            print(f"| {run} | {m['episodes']} | {m['one_option_named']} | {m['letter_agrees']} | "
                  f"{m['letter_disagrees']} | {m['named_right_letter_wrong']} | {abcd(m['letters'])} | "
                  f"{abcd(m['references'])} |")
    for metrics in sorted(glob.glob("models/rl*/metrics.jsonl")):
        run = os.path.basename(os.path.dirname(metrics))
        steps = [json.loads(line) for line in open(metrics)]
        if steps:
            first, last = steps[: min(20, len(steps))], steps[-min(20, len(steps)):]
            mean = lambda xs, key: sum(x.get(key, 0) for x in xs) / len(xs)
            print(f"\nTraining `{run}` ({len(steps)} steps, {steps[-1].get('seconds', 0) / 60:.0f} min): accuracy "
                  f"on the rollouts {100 * mean(first, 'accuracy'):.1f}% over the first twenty steps, "
                  f"{100 * mean(last, 'accuracy'):.1f}% over the last twenty; tool calls per episode "
                  f"{mean(first, 'tool_calls_per_episode'):.2f} -> {mean(last, 'tool_calls_per_episode'):.2f}.")
        rollouts = os.path.join(os.path.dirname(metrics), "rollouts.jsonl")
        if os.path.exists(rollouts):
            print("\n| its groups | groups | reward separated them (%) | distinct answers a group | rollout accuracy (%) |")
            print("|---|---:|---:|---:|---:|")
            for key, g in groups(rollouts).items():
                n = g["groups"]
                print(f"| {key} | {n} | {100 * g['separated'] / n:.1f} | {g['distinct_answers'] / n:.2f} | "
                      f"{100 * g['right'] / n:.1f} |")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "split" and len(sys.argv) == 6:
        split(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "passk" and len(sys.argv) > 2:
        print(json.dumps(passk(sys.argv[2:]), indent=1))
    elif cmd == "letters" and len(sys.argv) > 2:
        for path in sys.argv[2:]:
            print(path, json.dumps(letters(path)))
    elif cmd == "groups" and len(sys.argv) == 3:
        print(json.dumps(groups(sys.argv[2]), indent=1))
    elif cmd == "summary" and len(sys.argv) == 3:
        summary(sys.argv[2])
    else:
        sys.exit(__doc__)
