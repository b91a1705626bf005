#!/usr/bin/env python3
"""Builds the differential test's frozen fixture (run by hand, never by the tests).

Copies the SigmaHQ rules the differential test runs and flattens real events to Sigma
field names, one JSON object per line, into crates/detect/tests/data/differential/:

- Windows: every event of SigmaHQ's regression data (evtx rendered to JSON), flattened as
  the Sigma specification names Windows fields: EventData/UserData leaves by name (spaces
  removed), System children by tag, their XML attributes as Tag_Attribute.
- Linux: crowdsec hub test logs (MIT): auditd records split into their key=value fields
  (`type`, `a0`, `exe`, ...), laurel's JSON auditd records flattened the same way, and
  syslog lines as `message` (the Linux builtin rules are keyword searches).

usage: make_data.py SIGMAHQ_DIR CROWDSEC_TESTS_DIR OUT_DIR
"""

import glob
import json
import os
import re
import shutil
import sys

sigmahq, crowdsec, out = sys.argv[1:4]


def win_flat(doc):
    ev = {}
    root = doc.get("Event", doc)
    for tag, v in (root.get("System") or {}).items():
        if isinstance(v, dict):
            for a, av in (v.get("#attributes") or {}).items():
                ev[f"{tag}_{a}"] = av
            if "#text" in v:
                ev[tag] = v["#text"]
        else:
            ev[tag] = v

    def leaves(v):
        if isinstance(v, dict):
            for k, child in v.items():
                if isinstance(child, dict):
                    leaves(child)
                elif k != "#attributes":
                    ev[k.replace(" ", "")] = child

    for section in ("EventData", "UserData"):
        if section in root:
            leaves(root[section])
    return ev


def json_docs(text):
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        doc, i = dec.raw_decode(text, i)
        yield doc


KV = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"]*)"|\S+)')


def put(ev, k, v):
    """Adds a field unless the event has one of that name in another case: ausearch's
    interpreted copies (AUID="bob" after auid=1000) would collide in SQLite, whose column
    names ignore case."""
    if all(k.lower() != have.lower() for have in ev):
        ev[k] = v


def auditd_flat(line):
    ev = {}
    for k, v in KV.findall(line):
        if v.startswith('"'):
            v = v[1:-1]
        put(ev, k, v)
    return ev


def laurel_events(doc):
    """laurel's record -> one Sigma event per audit record type (SYSCALL, EXECVE, PATH)."""
    sys_ev = {}
    put(sys_ev, "type", "SYSCALL")
    for k, x in (doc.get("SYSCALL") or {}).items():
        if not isinstance(x, (dict, list)):
            put(sys_ev, k, x)
    out = [sys_ev]
    execve = doc.get("EXECVE")
    if isinstance(execve, dict):
        ev = {"type": "EXECVE", "argc": execve.get("argc")}
        for k, x in enumerate(execve.get("ARGV") or []):
            ev[f"a{k}"] = x
        out.append(ev)
    for item in doc.get("PATH") or []:
        ev = {"type": "PATH"}
        for k, x in item.items():
            if not isinstance(x, (dict, list)):
                put(ev, k, x)
        out.append(ev)
    return out


events = []
rules = []
for info in sorted(glob.glob(f"{sigmahq}/regression_data/**/info.yml", recursive=True)):
    d = os.path.dirname(info)
    rel = os.path.relpath(d, f"{sigmahq}/regression_data")
    rule = f"{sigmahq}/{rel}.yml"
    if os.path.exists(rule):
        rules.append(rule)
    for j in sorted(glob.glob(f"{d}/*.json")):
        with open(j) as f:
            for n, doc in enumerate(json_docs(f.read())):
                events.append((f"win/{os.path.basename(d)}/{n}", win_flat(doc)))
for tree in ("auditd", "builtin"):
    rules += sorted(glob.glob(f"{sigmahq}/rules/linux/{tree}/**/*.yml", recursive=True))

for log in sorted(glob.glob(f"{crowdsec}/auditd-*/*.log")):
    for n, line in enumerate(open(log)):
        if line.strip():
            events.append((f"auditd/{os.path.basename(log)}/{n}", auditd_flat(line)))
for log in sorted(glob.glob(f"{crowdsec}/laurel-*/*.log")):
    for n, line in enumerate(open(log)):
        if line.strip():
            for k, ev in enumerate(laurel_events(json.loads(line))):
                events.append((f"laurel/{os.path.basename(log)}/{n}.{k}", ev))
SYSLOG = ["sshd-logs", "ssh-bf", "syslog-logs", "pam-logs", "vsftpd-logs", "segfault-logs",
          "sshd-success-logs", "sshd-invalid-bf", "sshd-refused-conn", "sshd-bad-keyexchange-bf",
          "ssh-timeout", "sshd_banner_exchange", "dropbear-logs", "proftpd-logs"]
for name in SYSLOG:
    for log in sorted(glob.glob(f"{crowdsec}/{name}/*.log")):
        for n, line in enumerate(open(log, errors="replace")):
            if line.strip():
                events.append((f"syslog/{name}/{n}", {"message": line.rstrip("\n")}))

os.makedirs(f"{out}/rules", exist_ok=True)
seen = set()
for r in rules:
    base = os.path.basename(r)
    assert base not in seen, base
    seen.add(base)
    shutil.copy(r, f"{out}/rules/{base}")
with open(f"{out}/events.jsonl", "w") as f:
    for eid, ev in events:
        f.write(json.dumps({"id": eid, "event": ev}, ensure_ascii=False, sort_keys=True) + "\n")
print(f"{len(rules)} rules, {len(events)} events")
