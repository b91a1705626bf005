#!/usr/bin/env python3
"""The independent side of the differential test: pySigma's SQLite backend.

Converts every rule under RULE_DIR to SQL, loads the events of EVENTS (JSON lines,
{"id": ..., "event": {Sigma field: value}}) into one SQLite table the way Zircolite does
(one TEXT COLLATE NOCASE column per field, a full-text column for keyword searches), runs
each rule's query and prints, one JSON object per line:

    {"rule": FILE, "event": ID}       the rule in FILE matched event ID
    {"rule": FILE, "error": TEXT}     pySigma could not convert or run the rule

No log source filtering and no pipeline: the rules' own field names against the events'
own field names, as gac-detect's side does (crates/detect/examples/sigma_matches.rs).

usage: sigma_sqlite.py RULE_DIR EVENTS.jsonl
Needs: pip install pysigma pysigma-backend-sqlite (scripts/test.sh installs them).
"""

import json
import os
import re
import sqlite3
import sys

from sigma.backends.sqlite import sqliteBackend
from sigma.backends.sqlite.correlation import quote
from sigma.backends.sqlite.runtime import ensure_fields
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError

TABLE = "logs"
ID = "_gac_event_id"
FULLTEXT = "_gac_fulltext"


def regexp(pattern, value):
    """SQLite's REGEXP operator: Python's re.search, as Zircolite registers it."""
    if value is None:
        return False
    try:
        return re.search(pattern, str(value)) is not None
    except re.error:
        return False


def load_events(conn, path):
    events = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    columns = {}
    for e in events:
        for k in e["event"]:
            columns.setdefault(k.lower(), k)
    cols = [ID, FULLTEXT] + sorted(columns.values())
    conn.execute(
        f"CREATE TABLE {TABLE} ("
        + ", ".join(f"{quote(c)} TEXT COLLATE NOCASE" for c in cols)
        + ")"
    )
    for e in events:
        ev = e["event"]
        # Keyword searches look in every string value of the event, as gac-detect's
        # keyword haystacks do; a newline keeps two values from forming one word.
        text = "\n".join(v for v in ev.values() if isinstance(v, str))
        row = {ID: e["id"], FULLTEXT: text}
        for k, v in ev.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            row[columns[k.lower()]] = v
        names = list(row)
        conn.execute(
            f"INSERT INTO {TABLE} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})",
            [row[n] for n in names],
        )
    return len(events)


def main():
    rule_dir, events_path = sys.argv[1:3]
    conn = sqlite3.connect(":memory:")
    conn.create_function("regexp", 2, regexp, deterministic=True)
    load_events(conn, events_path)
    backend = sqliteBackend(fulltext_field=FULLTEXT, table=TABLE)
    out = sys.stdout
    for name in sorted(os.listdir(rule_dir)):
        if not name.endswith((".yml", ".yaml")):
            continue
        with open(os.path.join(rule_dir, name), encoding="utf-8") as f:
            text = f.read()
        try:
            collection = SigmaCollection.from_yaml(text)
            matched = set()
            for rule in collection.rules:
                ensure_fields(conn, {TABLE: backend.required_fields(rule)})
                for query in backend.convert_rule(rule):
                    sql = query.replace("SELECT * FROM", f"SELECT {quote(ID)} FROM", 1)
                    matched.update(r[0] for r in conn.execute(sql))
        except (SigmaError, sqlite3.Error, ValueError) as e:
            out.write(json.dumps({"rule": name, "error": f"{type(e).__name__}: {e}"}) + "\n")
            continue
        for event in sorted(matched):
            out.write(json.dumps({"rule": name, "event": event}) + "\n")


if __name__ == "__main__":
    main()
