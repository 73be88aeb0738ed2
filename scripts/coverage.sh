#!/usr/bin/env bash
# Measure what driftgate reads against what pg_dump dumps, on any database you point it at:
# every TOC type of `pg_restore -l` of `pg_dump -s -Fc` beside the driftgate kind (or field)
# that holds it, with both counts; then every role, membership and setting of
# `pg_dumpall --globals-only` and every `pg_db_role_setting` row of the database, each with
# whether the snapshot holds it. Prints a Markdown report; exits 1 when a TOC type has no
# driftgate kind or a global is missing, so it can guard a measurement run.
#
#   scripts/coverage.sh 'postgresql://postgres@/regression?host=/tmp/pg&port=56002' [CLIENT_BIN]
#
# CLIENT_BIN holds pg_dump, pg_restore, pg_dumpall and psql of the server's major version
# (default: the directory of `pg_dump` in PATH). DRIFTGATE names the binary (default:
# target/release/driftgate, else target/debug/driftgate). Needs python3. A measuring tool:
# it never runs in CI, and it writes only to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
dsn=${1:?usage: scripts/coverage.sh DSN [CLIENT_BIN]}
bin=${2:-$(dirname "$(command -v pg_dump)")}
dg=${DRIFTGATE:-}
if [[ -z $dg ]]; then
  if [[ -x target/release/driftgate ]]; then dg=target/release/driftgate; else dg=target/debug/driftgate; fi
fi
[[ -x $dg ]] || { echo "coverage: no driftgate binary ($dg); run cargo build --release" >&2; exit 2; }
for t in pg_dump pg_restore pg_dumpall psql; do
  [[ -x $bin/$t ]] || { echo "coverage: $bin/$t not found (give CLIENT_BIN)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/pg_dump" -s -Fc -f "$work/dump" -d "$dsn"
"$bin/pg_restore" -l "$work/dump" > "$work/toc"
"$bin/pg_dumpall" --globals-only -d "$dsn" > "$work/globals.sql"
"$bin/psql" -X -qAt -d "$dsn" -c "SELECT coalesce(r.rolname, ''), array_to_string(s.setconfig, E'\x1f')
  FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())" > "$work/dbsettings"
"$dg" show live --dsn "$dsn" --format json -q > "$work/show.json"
python3 - "$work" <<'PY'
import collections, json, re, sys
work = sys.argv[1]
objs = json.load(open(f"{work}/show.json"))
by_kind = collections.defaultdict(list)
for o in objs:
    by_kind[o["kind"]].append(o)
keys = {o["key"] for o in objs}

# TOC types pg_dump writes, longest first so "TABLE ATTACH" wins over "TABLE".
TYPES = sorted("""ACCESS METHOD|ACL|AGGREGATE|BLOB|BLOB METADATA|CAST|CHECK CONSTRAINT|COLLATION|COMMENT|
CONSTRAINT|CONVERSION|DATABASE|DATABASE PROPERTIES|DEFAULT|DEFAULT ACL|DOMAIN|ENCODING|EVENT TRIGGER|
EXTENSION|FK CONSTRAINT|FOREIGN DATA WRAPPER|FOREIGN TABLE|FUNCTION|INDEX|INDEX ATTACH|LARGE OBJECT|
MATERIALIZED VIEW|OPERATOR|OPERATOR CLASS|OPERATOR FAMILY|POLICY|PROCEDURAL LANGUAGE|PROCEDURE|
PUBLICATION|PUBLICATION TABLE|PUBLICATION TABLES IN SCHEMA|ROW SECURITY|RULE|SCHEMA|SEARCHPATH|
SECURITY LABEL|SEQUENCE|SEQUENCE OWNED BY|SERVER|SHELL TYPE|STATISTICS|STDSTRINGS|SUBSCRIPTION|
SUBSCRIPTION TABLE|TABLE|TABLE ATTACH|TEXT SEARCH CONFIGURATION|TEXT SEARCH DICTIONARY|
TEXT SEARCH PARSER|TEXT SEARCH TEMPLATE|TRANSFORM|TRIGGER|TYPE|USER MAPPING|VIEW""".replace("\n", "").split("|"),
    key=len, reverse=True)

# what COMMENT and ACL entries are on, longest first
ON_TYPES = sorted(["ACCESS METHOD", "AGGREGATE", "CAST", "COLLATION", "COLUMN", "CONSTRAINT",
    "CONVERSION", "DATABASE", "DOMAIN", "EVENT TRIGGER", "EXTENSION", "FOREIGN DATA WRAPPER",
    "FOREIGN SERVER", "FOREIGN TABLE", "FUNCTION", "INDEX", "LANGUAGE", "LARGE OBJECT",
    "MATERIALIZED VIEW", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "POLICY", "PROCEDURE",
    "PUBLICATION", "ROLE", "RULE", "SCHEMA", "SEQUENCE", "SERVER", "STATISTICS", "SUBSCRIPTION",
    "TABLE", "TABLESPACE", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
    "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "TRANSFORM", "TRIGGER", "TYPE", "VIEW"],
    key=len, reverse=True)

toc = collections.Counter()
unknown = []
for line in open(f"{work}/toc"):
    if line.startswith(";") or not line.strip():
        continue
    m = re.match(r"^\d+; \d+ \d+ (.*)$", line.rstrip("\n"))
    if not m:
        continue
    rest = m.group(1)
    t = next((t for t in TYPES if rest == t or rest.startswith(t + " ")), None)
    if t is None:
        unknown.append(rest)
        continue
    if t in ("COMMENT", "ACL", "SECURITY LABEL"):
        # `COMMENT SCHEMA OBJTYPE NAME …`: counted per target type (`COMMENT ON INDEX`)
        target = rest[len(t) + 1:].split(" ", 1)[1]
        ot = next((o for o in ON_TYPES if target.startswith(o + " ")), target.split(" ")[0])
        toc[f"{t} ON {ot}"] += 1
    else:
        toc[t] += 1

def walk(v, field):
    """How many `field` values the object holds, at any depth (columns too): a comment is a
    string, an ACL a list (a column named `comment` is neither)."""
    n = 0
    if isinstance(v, dict):
        for k, x in v.items():
            if k == field and isinstance(x, (str, list)):
                n += 1
            else:
                n += walk(x, field)
    elif isinstance(v, list):
        n += sum(walk(x, field) for x in v)
    return n

def count(kind, pred=lambda o: True):
    return sum(1 for o in by_kind.get(kind, []) if pred(o))

def tables(*relkinds):
    return lambda: count("table", lambda o: o.get("relkind") in relkinds)

def columns_with(field):
    return sum(1 for k in ("table", "matview") for o in by_kind.get(k, [])
               for c in o.get("columns", {}).values() if c.get(field))

def constraints(*types):
    return lambda: count("constraint", lambda o: o.get("constraint_type") in types)

# TOC type -> (driftgate kind or field, how driftgate's count is taken, why counts may differ)
MAP = {
    "SCHEMA": ("schema", lambda: count("schema"), ""),
    "EXTENSION": ("extension", lambda: count("extension"), ""),
    "TYPE": ("type (not domain)", lambda: count("type", lambda o: o["type_kind"] != "domain"), ""),
    "SHELL TYPE": ("type (type_kind base)", lambda: count("type", lambda o: o["type_kind"] == "base"),
                   "pg_dump declares each base type as a shell before its I/O functions"),
    "DOMAIN": ("type (type_kind domain)", lambda: count("type", lambda o: o["type_kind"] == "domain"), ""),
    "FUNCTION": ("function", lambda: count("function"), ""),
    "PROCEDURE": ("procedure", lambda: count("procedure"), ""),
    "AGGREGATE": ("aggregate", lambda: count("aggregate"), ""),
    "TABLE": ("table", tables("table", "partitioned_table"), ""),
    "FOREIGN TABLE": ("table (relkind foreign_table)", tables("foreign_table"), ""),
    "TABLE ATTACH": ("table.partition_bound", lambda: count("table", lambda o: "partition_bound" in o), ""),
    "VIEW": ("view", lambda: count("view"), ""),
    "MATERIALIZED VIEW": ("matview", lambda: count("matview"), ""),
    "SEQUENCE": ("sequence", lambda: count("sequence"), ""),
    "SEQUENCE OWNED BY": ("sequence.owned_by", lambda: count("sequence", lambda o: "owned_by" in o),
                          "driftgate also shows identity columns' sequences (pg_dump writes them inside CREATE TABLE)"),
    "DEFAULT": ("table.columns.*.default", lambda: sum(walk(o.get("columns", {}), "default") for o in by_kind.get("table", []) + by_kind.get("view", [])),
                "pg_dump writes most defaults inside CREATE TABLE; separate entries only for some"),
    "CONSTRAINT": ("constraint (primary key, unique, exclusion); columns.*.not_null_not_valid",
                   lambda: constraints("primary_key", "unique", "exclusion")() + columns_with("not_null_not_valid"),
                   "pg_dump writes NOT VALID not-null constraints (18) on their own"),
    "FK CONSTRAINT": ("constraint (foreign_key, not clone_of)",
                      lambda: count("constraint", lambda o: o.get("constraint_type") == "foreign_key" and not o.get("clone_of")),
                      "driftgate also keeps partitions' copies (their names can be changed; pg_dump drops such a rename)"),
    "CHECK CONSTRAINT": ("constraint (check)", constraints("check"),
                         "pg_dump writes most CHECK constraints inside CREATE TABLE; separate entries only for some"),
    "INDEX": ("index", lambda: count("index"), "driftgate also lists partitions' own copies of partitioned indexes"),
    "INDEX ATTACH": ("index.attached_to; constraint.clone_of, index_attached_to (keys)",
                     lambda: count("index", lambda o: "attached_to" in o)
                     + count("constraint", lambda o: o.get("clone_of") and o.get("constraint_type") in ("primary_key", "unique", "exclusion"))
                     + count("constraint", lambda o: o.get("index_attached_to")), ""),
    "TRIGGER": ("trigger", lambda: count("trigger"), ""),
    "RULE": ("rule", lambda: count("rule"), "a view's own _RETURN rule is its definition (pg_dump splits it out for views in a dependency loop)"),
    "POLICY": ("policy", lambda: count("policy"), ""),
    "ROW SECURITY": ("table.rls_enabled", lambda: count("table", lambda o: o.get("rls_enabled")), ""),
    "EVENT TRIGGER": ("event_trigger", lambda: count("event_trigger"), ""),
    "CAST": ("cast", lambda: count("cast"), ""),
    "COLLATION": ("collation", lambda: count("collation"), ""),
    "CONVERSION": ("conversion", lambda: count("conversion"), ""),
    "OPERATOR": ("operator", lambda: count("operator"), ""),
    "OPERATOR CLASS": ("operator_class", lambda: count("operator_class"), ""),
    "OPERATOR FAMILY": ("operator_family", lambda: count("operator_family"), ""),
    "TEXT SEARCH CONFIGURATION": ("text_search_configuration", lambda: count("text_search_configuration"), ""),
    "TEXT SEARCH DICTIONARY": ("text_search_dictionary", lambda: count("text_search_dictionary"), ""),
    "TEXT SEARCH PARSER": ("text_search_parser", lambda: count("text_search_parser"), ""),
    "TEXT SEARCH TEMPLATE": ("text_search_template", lambda: count("text_search_template"), ""),
    "STATISTICS": ("statistics", lambda: count("statistics"), ""),
    "DEFAULT ACL": ("default_acl", lambda: count("default_acl"), ""),
    "PUBLICATION": ("publication", lambda: count("publication"), ""),
    "PUBLICATION TABLE": ("publication.tables", lambda: sum(len(o.get("tables", {})) for o in by_kind.get("publication", [])), ""),
    "PUBLICATION TABLES IN SCHEMA": ("publication.schemas", lambda: sum(len(o.get("schemas", [])) for o in by_kind.get("publication", [])), ""),
    "SUBSCRIPTION": ("subscription", lambda: count("subscription"), ""),
    "FOREIGN DATA WRAPPER": ("foreign_data_wrapper", lambda: count("foreign_data_wrapper"), ""),
    "SERVER": ("server", lambda: count("server"), ""),
    "USER MAPPING": ("user_mapping", lambda: count("user_mapping"), ""),
    "PROCEDURAL LANGUAGE": ("language", lambda: count("language"), ""),
    "ACCESS METHOD": ("access_method", lambda: count("access_method"), ""),
    "TRANSFORM": ("transform", lambda: count("transform"), ""),
    "LARGE OBJECT": ("large_object (count of OIDs)", lambda: sum(o.get("count", 0) for o in by_kind.get("large_object", [])), ""),
    "BLOB": ("large_object (count of OIDs)", lambda: sum(o.get("count", 0) for o in by_kind.get("large_object", [])), ""),
    "BLOB METADATA": ("large_object (groups)", lambda: count("large_object"), ""),
}
# COMMENT ON X / ACL ON X: the kinds X is, and whether the field is on their columns
ON_KINDS = {
    "AGGREGATE": ["aggregate"], "CAST": ["cast"], "COLLATION": ["collation"],
    "CONSTRAINT": ["constraint"], "CONVERSION": ["conversion"], "DATABASE": ["database"],
    "DOMAIN": ["type"], "EVENT TRIGGER": ["event_trigger"], "EXTENSION": ["extension"],
    "FOREIGN DATA WRAPPER": ["foreign_data_wrapper"], "FOREIGN SERVER": ["server"],
    "SERVER": ["server"], "FOREIGN TABLE": ["table"], "FUNCTION": ["function"],
    "INDEX": ["index"], "LANGUAGE": ["language"], "LARGE OBJECT": ["large_object"],
    "MATERIALIZED VIEW": ["matview"], "OPERATOR": ["operator"],
    "OPERATOR CLASS": ["operator_class"], "OPERATOR FAMILY": ["operator_family"],
    "POLICY": ["policy"], "PROCEDURE": ["procedure"], "PUBLICATION": ["publication"],
    "ROLE": ["role"], "RULE": ["rule"], "SCHEMA": ["schema"], "SEQUENCE": ["sequence"],
    "STATISTICS": ["statistics"], "SUBSCRIPTION": ["subscription"],
    "TABLE": ["table", "view", "matview"],  # pg_dump says TABLE for the ACL of a view
    "TABLESPACE": ["tablespace"], "TEXT SEARCH CONFIGURATION": ["text_search_configuration"],
    "TEXT SEARCH DICTIONARY": ["text_search_dictionary"], "TEXT SEARCH PARSER": ["text_search_parser"],
    "TEXT SEARCH TEMPLATE": ["text_search_template"], "TRANSFORM": ["transform"],
    "TRIGGER": ["trigger"], "TYPE": ["type"], "VIEW": ["view"], "ACCESS METHOD": ["access_method"],
}
def on_count(field, ot):
    extra = 0
    if field == "comment" and ot == "CONSTRAINT":
        # PostgreSQL 18's not-null constraints and domains' constraints keep theirs inside
        extra = columns_with("not_null_comment") + sum(
            len(o.get("constraint_comments", {})) for o in by_kind.get("type", []))
        extra += sum(1 for o in by_kind.get("type", []) if o.get("not_null_comment"))
    if field == "comment" and ot == "INDEX":
        extra = count("constraint", lambda o: o.get("index_comment"))
    return extra + on_count_own(field, ot)

def on_count_own(field, ot):
    if ot == "COLUMN":
        return sum(walk(o.get("columns", {}), field) for k in ("table", "view", "matview", "builtin_acl")
                   for o in by_kind.get(k, [])) + sum(1 for o in by_kind.get("builtin_acl", [])
                   if field == "acl" and o.get("object_type") == "column")
    kinds = ON_KINDS.get(ot, [])
    n = sum(1 for k in kinds for o in by_kind.get(k, []) if isinstance(o.get(field), (str, list)))
    if field == "acl" and ot in ("TABLE", "FUNCTION", "SCHEMA", "TYPE", "SEQUENCE", "LANGUAGE"):
        # initdb's and extensions' objects: their changed privileges are builtin_acl objects
        n += sum(1 for o in by_kind.get("builtin_acl", []) if o.get("object_type") == ot.lower())
    return n
for field, word in (("comment", "COMMENT"), ("acl", "ACL")):
    for ot in ON_TYPES:
        MAP[f"{word} ON {ot}"] = (f"{field} of {', '.join(ON_KINDS.get(ot, ['table', 'view']))}"
                                  + (" columns" if ot == "COLUMN" else ""),
                                  (lambda f=field, o=ot: on_count(f, o)), "")
MAP.update({
    "DATABASE": ("database:@db", lambda: count("database"), ""),
    "DATABASE PROPERTIES": ("database:@db, setting:@db/*", lambda: count("database") + count("setting"), ""),
    "ENCODING": ("database.encoding", lambda: count("database"), ""),
    "STDSTRINGS": ("(a session setting of the dump, no object)", None, ""),
    "SEARCHPATH": ("(a session setting of the dump, no object)", None, ""),
})

print("| pg_dump TOC type | pg_dump | driftgate kind or field | driftgate |")
print("|---|---:|---|---:|")
uncovered = []
for t, n in sorted(toc.items()):
    kind, f, why = MAP.get(t, (None, None, ""))
    if kind is None:
        uncovered.append(t)
        print(f"| {t} | {n} | **none** | |")
        continue
    dn = "" if f is None else f()
    if f is not None and dn == 0:
        uncovered.append(t)
    print(f"| {t} | {n} | {kind} | {dn} |" + (f" {why}" if why else ""))
for u in unknown:
    uncovered.append(u)
    print(f"| (unparsed) {u} | | **none** | |")

# globals: roles, memberships, role settings of pg_dumpall, and this database's settings
missing = []
seen = collections.Counter()
def need(key, what):
    seen[what] += 1
    if key not in keys:
        missing.append(f"{what}: {key}")
def ident(s):
    return s[1:-1].replace('""', '"') if s.startswith('"') else s
def qkey(name):
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'
dbsettings = []
for line in open(f"{work}/globals.sql"):
    line = line.strip()
    if m := re.match(r'^CREATE ROLE ("(?:[^"]|"")+"|\S+);$', line):
        need("role:" + qkey(ident(m.group(1))), "role")
    elif m := re.match(r'^GRANT ("(?:[^"]|"")+"|\S+) TO ("(?:[^"]|"")+"|\S+)(.*?)(?: GRANTED BY ("(?:[^"]|"")+"|\S+))?;$', line):
        role, member, grantor = ident(m.group(1)), ident(m.group(2)), ident(m.group(4) or "")
        k = f"role_membership:{qkey(role)}/{qkey(member)}" + (f"/by:{qkey(grantor)}" if grantor else "")
        if k not in keys and not grantor:
            k = next((x for x in keys if x.startswith(f"role_membership:{qkey(role)}/{qkey(member)}/")), k)
        need(k, "role membership")
    elif m := re.match(r'^ALTER ROLE ("(?:[^"]|"")+"|\S+) SET (\S+) ', line):
        need(f"setting:{qkey(ident(m.group(1)))}/{m.group(2)}", "role setting")
    elif m := re.match(r'^GRANT .* ON PARAMETER (\S+) TO ', line):
        need("parameter_acl:" + m.group(1).lower(), "parameter privilege")
    elif m := re.match(r'^CREATE TABLESPACE ("(?:[^"]|"")+"|\S+) ', line):
        need("tablespace:" + qkey(ident(m.group(1))), "tablespace")
for line in open(f"{work}/dbsettings"):
    role, _, config = line.rstrip("\n").partition("|")
    for item in config.split("\x1f"):
        name = item.split("=", 1)[0]
        prefix = "@db" if not role else f"@db/{qkey(role)}"
        need(f"setting:{prefix}/{name}", "database setting")
print()
print("| global (pg_dumpall --globals-only, pg_db_role_setting) | count | missing in the snapshot |")
print("|---|---:|---:|")
for what, n in sorted(seen.items()):
    print(f"| {what} | {n} | {sum(1 for x in missing if x.startswith(what + ':'))} |")
for x in missing:
    print(f"- missing {x}")
if uncovered:
    print(f"\nuncovered TOC types: {', '.join(uncovered)}")
sys.exit(1 if uncovered or missing else 0)
PY
