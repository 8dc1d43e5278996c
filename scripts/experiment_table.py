#!/usr/bin/env python3
"""The experiment's results as Markdown (scripts/experiment calls it): accuracy of each run on
the benchmark with its categories, what each training cost, and the hashes of every input."""
import glob
import hashlib
import json
import os
import sys

work = sys.argv[1] if len(sys.argv) > 1 else "."
os.chdir(work)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


reports = {}
for path in sorted(glob.glob("runs/*.report.json")):
    name = os.path.basename(path)[: -len(".report.json")]
    reports[name] = json.load(open(path))
order = [n for n in ["direct", "direct-matched", "cota", "mixed", "cota-noisy", "cota-noisy-replaced", "mixed-noisy",
                     "cota-at-noise", "cota-learned", "cota-blank", "cota-plus-direct"] if n in reports]
order += [n for n in reports if n not in order]
what = {
    "direct": "Direct answers only",
    "direct-matched": "Direct answers only, as many steps as cota",
    "cota": "CoTA chains only, perfect oracle",
    "mixed": "CoTA + Direct (half each), perfect oracle",
    "cota-noisy": "CoTA chains only, noisy oracle",
    "cota-noisy-replaced": "CoTA chains only, noisy oracle, misled chains replaced by the perfect oracle's",
    "mixed-noisy": "CoTA + Direct (half each), noisy oracle",
    "cota-at-noise": "the perfect-oracle CoTA model, noisy oracle at evaluation",
    "cota-learned": "the perfect-oracle CoTA model, taco's learned detector and depth model at evaluation",
    "cota-blank": "the perfect-oracle CoTA model, gray images for the model (tools see the real ones)",
    "cota-plus-direct": "CoTA chains plus the Direct answers of a second world (twice the questions)",
    "sft": "the model RL starts from (RL_FROM), perfect oracle",
    "sft-at-noise": "the model RL starts from, noisy oracle",
    "sft-blank": "the model RL starts from, gray images for the model",
    "rl": "RL from it with the noisy oracle, perfect oracle at evaluation",
    "rl-at-noise": "RL from it with the noisy oracle, noisy oracle at evaluation",
    "rl-blank": "RL from it with the noisy oracle, gray images for the model",
    "rl-perfect": "RL with the perfect oracle, perfect oracle at evaluation",
    "rl-perfect-at-noise": "RL with the perfect oracle, noisy oracle at evaluation",
    "rl-g4": "RL in groups of 4 (16 questions a step), perfect oracle at evaluation",
    "rl-g4-at-noise": "RL in groups of 4, noisy oracle at evaluation",
    "rl-direct": "RL from the Direct model (CoTA prompt), perfect oracle at evaluation",
    "rl-direct-at-noise": "RL from the Direct model, noisy oracle at evaluation",
}
settings = open("settings.txt").read().strip() if os.path.exists("settings.txt") else ""
print("## Results\n")
print(f"Settings: `{settings}`.\n")
print("| run | what | n | accuracy (%) | parse failures | no answer |")
print("|---|---|---:|---:|---:|---:|")
for n in order:
    r = reports[n]
    tu = r.get("tool_use", {})
    print(f"| {n} | {what.get(n, '')} | {r['overall']['n']} | **{100 * r['overall']['score']:.1f}** | "
          f"{tu.get('parse_failures', 0)} | {tu.get('no_answer', 0)} |")

cats = sorted({c for n in order for c in reports[n]["categories"]})
print("\n### Per category (accuracy %)\n")
print("| category | n | " + " | ".join(order) + " |")
print("|---|---:|" + "---:|" * len(order))
for c in cats:
    n_items = max(reports[n]["categories"].get(c, {}).get("n", 0) for n in order)
    cells = []
    for n in order:
        s = reports[n]["categories"].get(c)
        cells.append(f"{100 * s['score']:.1f}" if s else "")
    print(f"| {c} | {n_items} | " + " | ".join(cells) + " |")

print("\n### Training\n")
times = {}
if os.path.exists("train-times.txt"):
    for line in open("train-times.txt"):
        parts = line.split()
        if len(parts) == 3 and parts[1].replace(".", "").isdigit():
            run, secs, kb = parts[0], float(parts[1]), int(parts[2])
            t = times.setdefault(run, [0.0, 0])
            t[0] += secs
            t[1] = max(t[1], kb)
# Training time from the checkpoint (summed over every invocation that made it, a killed one
# included); peak RSS from the invocations /usr/bin/time saw finish.
print("| run | records | chains misled by the noise (rejected or replaced) | tokens | steps | epochs | training (min) | peak RSS (GB) | val loss |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
trained = [p.split("/")[1] for p in glob.glob("models/*/config.json")]


def misled(stats):
    if stats.get("chains_from_truth"):
        return f"{stats['chains_from_truth']} replaced"
    return stats.get("chains_rejected", "")


for run in [n for n in order if n in trained] + sorted(n for n in trained if n not in order):
    cfg_path = f"models/{run}/config.json"
    t = json.load(open(cfg_path))["training"]
    if "rl" in t:
        continue  # an RL model's checkpoint carries its start's record; the RL section has its own
    stats = json.load(open(f"{run}.jsonl.stats.json")) if os.path.exists(f"{run}.jsonl.stats.json") else {}
    wall, kb = times.get(run, [0.0, 0])
    wall = t.get("seconds", wall)
    print(f"| {run} | {t['records']} | {misled(stats)} | {t['tokens']:,} | {t['steps_done']} | {t['epochs']} | "
          f"{wall / 60:.1f} | {kb / 1e6:.2f} | {t.get('val_loss', float('nan')):.3f} |")

vision = [(name, json.load(open(f"vision-{name}.json"))) for name in ["none", "realistic", "learned"]
          if os.path.exists(f"vision-{name}.json")]
if vision:
    print("\n### The tools' perception on the benchmark's world (taco eval vision)\n")
    print("| tools | AP50 | recall | false boxes / image | colour | material | size | pairs ordered | depth rel. error |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, v in vision:
        d, z = v.get("detector", {}), v.get("depth", {})
        a = d.get("attributes", {})
        pct = lambda x: f"{100 * x:.1f}" if isinstance(x, (int, float)) else ""
        print(f"| {name} | {pct(d.get('ap50'))} | {pct(d.get('recall'))} | {d.get('false_boxes_per_image', '')} | "
              f"{pct(a.get('color'))} | {pct(a.get('material'))} | {pct(a.get('size'))} | {pct(z.get('pair_order'))} | "
              f"{z.get('relative_error', '')} |")



def learned_models():
    """The learned vision checkpoints cota-learned ran with (bench/oracle-learned.json names them)."""
    if not os.path.exists("runs/cota-learned.jsonl") or not os.path.exists("bench/oracle-learned.json"):
        return []
    section = json.load(open("bench/oracle-learned.json"))["vision"]
    return [f"{section[k]}/model.safetensors" for k in ("detector", "depth") if k in section]


print("\n### Inputs (SHA-256, first 16 hex digits)\n")
for path in ["bench/bench.jsonl", "bench/world/scene-graph-annotations.json", "world/scene-graph-annotations.json"] + \
        sorted(glob.glob("*.jsonl")) + learned_models():
    if os.path.exists(path):
        print(f"- `{path}`: {sha(path)}")
