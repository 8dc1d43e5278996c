#!/usr/bin/env python3
"""Every taco command line in the ```sh blocks of the given Markdown files names a command and
flags that taco has (scripts/readme_check runs it over README.md and docs/). Synopsis forms
count too: `[--steps N | --epochs E]` names --steps and --epochs. Lines that run other tools
(vllm, docker, curl, ...) are not checked here. Prints one line per unknown word and exits 1
when there is any.

  scripts/doc_commands_check.py BUILD/taco FILE.md...
"""
import re
import shlex
import subprocess
import sys

taco, files = sys.argv[1], sys.argv[2:]
helps = {}


def help_text(path):
    if path not in helps:
        out = subprocess.run([taco, *path, "--help"], capture_output=True, text=True)
        helps[path] = out.stdout + out.stderr if out.returncode == 0 else None
    return helps[path]


def subcommands(path):
    text = help_text(path) or ""
    names, inside = set(), False
    for line in text.splitlines():
        if line.strip().startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                inside = False
                continue
            word = line.split()[0] if line.split() else ""
            if word:
                names.add(word)
    return names


def lines_of(path):
    block, joined = False, ""
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.strip() == "```sh":
            block = True
            continue
        if line.strip() == "```":
            block = False
            continue
        if not block:
            continue
        if line.endswith("\\"):
            joined += line[:-1] + " "
            continue
        yield number, joined + line
        joined = ""


problems = 0
checked = 0
for path in files:
    for number, line in lines_of(path):
        code = line.split(" #")[0]
        # The taco invocation on the line: build/taco or a bare taco at a command's start.
        m = re.search(r"(?:^|[\s;&|(=])(?:\S*/)?taco\s+(.*)$", code)
        if not m or re.match(r"^\s*(vllm|docker|curl|python|llama-server|pip)\b", code):
            continue
        rest = m.group(1)
        # Synopsis brackets and alternatives name flags as well: [--a N | --b E].
        rest = rest.replace("[", " ").replace("]", " ").replace("|", " ")
        try:
            words = shlex.split(rest)
        except ValueError:
            words = rest.split()
        words = [w for w in words if not w.startswith("$")]  # a variable's words ($M) are the block's to set
        command = []
        while words and not words[0].startswith("-") and words[0] in subcommands(tuple(command)):
            command.append(words.pop(0))
        text = help_text(tuple(command))
        where = f"{path}:{number}"
        checked += 1
        if words and not words[0].startswith("-") and subcommands(tuple(command)):
            text = None  # a word where a command of this group goes, and no command of that name
            command.append(words[0])
        if text is None:
            print(f"{where}: 'taco {' '.join(command)}' is no command: {line.strip()}")
            problems += 1
            continue
        for word in words:
            if not word.startswith("-") or word in ("-", "--") or re.match(r"^-\d", word):
                continue
            flag = word.split("=")[0]
            if not re.search(r"(^|[\s,])" + re.escape(flag) + r"(?=[\s,=]|$)", text, re.M):
                print(f"{where}: 'taco {' '.join(command)}' has no flag {flag}: {line.strip()}")
                problems += 1
print(f"doc_commands_check: {checked} taco command lines in {len(files)} files, {problems} unknown words")
sys.exit(1 if problems else 0)
