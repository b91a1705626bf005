#!/usr/bin/env python3
"""Rebuilds seeds/<target>/ from the parser tests' real samples (../tests/data, whose
NOTICE.md gives their sources): a few lines of each, one record per file. The evtx
target takes its seeds from ../tests/data/windows/*.evtx at run time (see run.sh)."""
import json, pathlib, shutil

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"
PER_FILE = 8

def lines(name, n=PER_FILE):
    out = [l for l in (DATA / name).read_text(errors="replace").splitlines() if l.strip()]
    if len(out) <= n:
        return out
    step = len(out) / n  # spread over the file, not just its head
    return [out[int(i * step)] for i in range(n)]

def compact_json(name):
    """Each pretty-printed JSON object of a file, on one line."""
    text, dec, out, i = (DATA / name).read_text(), json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        obj, i = dec.raw_decode(text, i)
        out.append(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    return out

SOURCES = {
    "syslog": ["syslog-crowdsec.log", "syslog-elastic.log", "loghub-linux.log", "iptables.log", "linux-auth-elastic.log"],
    "linux_auth": ["linux-auth-crowdsec.log", "linux-auth-elastic.log", "linux-auth-fail2ban.log",
                   "linux-auth-loghub.log", "linux-auth-wazuh.log", "loghub-openssh.log"],
    "web": ["web-crowdsec.log", "web-elastic.log", "apache-error-loghub.log"],
    "network": ["iptables.log", "pfsense.log", "fortigate.log", "cisco-asa.log"],
    "nsm": ["suricata.log", "zeek.log", "zeek-tsv.log"],
    "generic": ["cef.log", "leef.log", "kv.log", "json.log"],
    "windows": ["windows/winlogbeat.jsonl"],
    "auditd": ["auditd.log"],
}
ALL = sorted({f for fs in SOURCES.values() for f in fs} | {"windows/winlogbeat.jsonl"})

seeds = {t: [(f, l) for f in fs for l in lines(f)] for t, fs in SOURCES.items()}
for j in sorted((DATA / "windows").glob("*.json")):
    seeds["windows"] += [(j.name, o) for o in compact_json("windows/" + j.name)[:2]]
# The joiner needs whole events: a few runs of consecutive audit lines too.
audit = (DATA / "auditd.log").read_text().splitlines()
for start in (0, 10, 20):
    seeds["auditd"].append(("auditd-run", "\n".join(audit[start:start + 6])))
mixed = [(f, l) for f in ALL for l in lines(f, 3)]
seeds["dispatch_auto"] = mixed
seeds["dispatch_syslog"] = mixed

for target, items in seeds.items():
    d = HERE / "seeds" / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for i, (src, text) in enumerate(items):
        stem = pathlib.Path(src).name.split(".")[0]
        (d / f"{stem}-{i:03}").write_text(text)
    print(target, len(items))
