"""The live schema: every database object SkillTree installs, read from the catalog into the SQL
files under `db/schema/` (one per domain), and read back from them.

`skilltree db dump-schema` (`make schema`) writes the files from a database migrated to head
(and REVISION, that head's id: `skilltree db new-migration` copies from files of the head only);
tests/schema/test_live_schema.py proves the migrations build exactly what they say. The files
are generated, never edited: a rule changes through a migration (docs/development.md).

Which file an object goes to (`FILES`): privileges, row-level security and policies all go to
security.sql; anything else goes to the one domain with a pattern matching its key, where the key
is the name of a table (for the table and its columns, constraints, indexes, identity sequences
and comments), of a view, type, extension or sequence, of a function, and for a trigger the name
of the function it executes (so a rule's function and its triggers read together). An object
that no pattern, or more than one, matches stops the dump with its name.

The text is the same on every PostgreSQL from 15 to 18: no OIDs, no owners (the migrating role
differs between servers), objects sorted by name. Where the servers differ, the text is the one
PostgreSQL 16 and later print, and these are the only places that know it:
- a view over one relation: 15 prints `alias.column` at the view's top level, 16 on `column`
  (`_view_as_16_prints`);
- NOT NULL: 18 also lists it as a constraint (`_CONSTRAINTS` reads only the other kinds; the
  column says NOT NULL on every version);
- privileges: 17 added MAINTAIN to what an owner holds (an owner's privileges are left out:
  `_GRANTEE`'s queries).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from sqlalchemy import Connection, Engine, text

SCHEMA_DIR = Path(__file__).parent / "schema"

# domain: (what its file holds, the names it takes: exact names or fnmatch patterns)
FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "accounts": (
        "accounts, sessions, profiles, sign-in, Idempotency-Key answers",
        ("users", "user_sessions", "user_profiles", "idempotency_keys", "UserRole", "account_*"),
    ),
    "catalog": (
        "categories, trees and skills, as authors write them",
        (
            "skill_trees",
            "skills",
            "skill_categories",
            "DifficultyLevel",
            "SkillType",
            "set_updated_at",
            "analyze_catalog",
            "completion_policy_is_valid",
            "skills_default_completion_policy",
        ),
    ),
    "graph": (
        "prerequisite graphs, their acyclicity, trees' structure versions, skills' ranks",
        (
            "skill_dependencies",
            "skill_tree_prerequisites",
            "skill_needs",
            "skill_dependency_chain",
            "skill_tree_cycle",
            "*_refuse_cycles",
            "*_bump_tree_versions",
            "skill_trees_bump_version",
            "skill_ranks",
            "skill_tree_ranks",
            "skill_tree_graphs",
        ),
    ),
    "progress": (
        "learners' progress and the engine that moves it",
        (
            "user_skill_progress",
            "user_skill_tree_progress",
            "progress_*",
            "TreeProgressStatus",
            "SkillProgressStatus",
            "CompletionMethod",
            "ProgressEventKind",
            "learner_*",
            "refresh_enrolments",
            "refresh_tree_enrolments",
            "hold_tree_learners",
            "new_row_id",
            "user_skill_progress_method_allowed",
        ),
    ),
    "gamification": (
        "XP, levels, streaks, achievements, the XP histogram",
        (
            "achievements",
            "user_achievements",
            "AchievementCategory",
            "AchievementRarity",
            "achievement_measure",
            "level_for_xp",
            "streak_*",
            "xp_histogram*",
        ),
    ),
    "assessments": (
        "question banks, learners' attempts, grading on the server",
        ("question_banks", "assessment_*"),
    ),
    "integrations": (
        "integrations, their signing secrets and deliveries, external completions",
        ("integrations", "integration_*"),
    ),
    "content": (
        "learners' time on skills' content modules, measured by heartbeats",
        ("user_skill_module_progress", "content_*"),
    ),
    "reviews": (
        "project submissions, their review queue, rubrics, trees' mentors",
        ("tree_mentors", "project_*"),
    ),
    "mastery": (
        "mastery levels of completed skills, their FSRS review cards, reviews",
        ("MasteryLevel", "skill_mastery", "mastery_*"),
    ),
    "search": (
        "search documents, their configuration, trigrams",
        ("pg_trgm", "search_*", "skill_search_document", "tree_search_document", "*_search_vector"),
    ),
    "analytics": (
        "aggregates, their fold, the views authors and admins read",
        ("analytics_*",),
    ),
    "operations": (
        "what the command line records for operators: jobs' last successes, doctor's sizes",
        ("job_runs", "relation_sizes"),
    ),
}
SECURITY = "security"
REVISION = "REVISION"  # the file that says which revision the files describe
SECURITY_ABOUT = "what the API's role may do: grants, row-level security, policies"

HEADER = """\
-- SkillTree's live schema: {about}.
-- Generated by `make schema` (skilltree db dump-schema) from a database migrated to head: do not
-- edit. Change a rule with a migration, then regenerate (docs/development.md).
"""
# Each object starts with a line `-- <kind>: <name>`; `parse` splits a file on these lines.
KINDS = ("extension", "type", "table", "sequence", "view", "function", "trigger", "privileges")
_ENTRY = re.compile(rf"^-- ({'|'.join(KINDS)}): (.+)$", re.MULTILINE)


class LiveSchemaError(Exception):
    """The database holds what the live schema's files cannot say: an object no file takes (or
    two do), or of a kind the dump does not write."""


@dataclass(frozen=True)
class Entry:
    """One object of the live schema: its kind, its name, and its SQL text."""

    kind: str
    name: str
    sql: str

    @property
    def title(self) -> str:
        """The line that starts it in a file."""
        return f"-- {self.kind}: {self.name}"


def file_of(key: str, what: str) -> str:
    """The domain whose pattern matches `key`; LiveSchemaError unless exactly one does."""
    domains = [
        domain
        for domain, (_, patterns) in FILES.items()
        if any(fnmatchcase(key, pattern) for pattern in patterns)
    ]
    if len(domains) != 1:
        found = " and ".join(domains) if domains else "no file"
        raise LiveSchemaError(
            f"{what} goes to {found}: give {key!r} exactly one domain in FILES "
            "(src/skilltree/db/live_schema.py)"
        )
    return domains[0]


def _rows(connection: Connection, sql: str) -> list[Sequence[object]]:
    return list(connection.execute(text(sql)).tuples())


# Everything below reads only `public`, leaving out extensions' own objects and alembic's table.
_OURS = """
    NOT EXISTS (SELECT FROM pg_depend member WHERE member.classid = '{catalog}'::regclass
                AND member.objid = {alias}.oid AND member.deptype = 'e')"""


def _ours(catalog: str, alias: str) -> str:
    return _OURS.format(catalog=catalog, alias=alias)


# Kinds of object we do not write out: one of these in `public` stops the dump, rather than
# leaving it out of the files unseen. (Extend the dump, then remove it from here.)
_UNSUPPORTED = {
    "aggregate or window function": "SELECT proname FROM pg_proc p WHERE pronamespace = "
    f"'public'::regnamespace AND prokind IN ('a', 'w') AND {_ours('pg_proc', 'p')}",
    "domain, composite, range or base type": "SELECT typname FROM pg_type t WHERE typnamespace "
    "= 'public'::regnamespace AND typtype IN ('b', 'd', 'c', 'r', 'm') AND typrelid = 0 "
    "AND NOT EXISTS (SELECT FROM pg_type a WHERE a.typarray = t.oid) "
    f"AND {_ours('pg_type', 't')}",
    "foreign or partitioned table": "SELECT relname FROM pg_class c WHERE relnamespace = "
    f"'public'::regnamespace AND relkind IN ('f', 'p') AND {_ours('pg_class', 'c')}",
    "operator": "SELECT oprname FROM pg_operator o WHERE oprnamespace = 'public'::regnamespace "
    f"AND {_ours('pg_operator', 'o')}",
    "text-search configuration": "SELECT cfgname FROM pg_ts_config c WHERE cfgnamespace = "
    f"'public'::regnamespace AND {_ours('pg_ts_config', 'c')}",
    "text-search dictionary": "SELECT dictname FROM pg_ts_dict d WHERE dictnamespace = "
    f"'public'::regnamespace AND {_ours('pg_ts_dict', 'd')}",
    "collation": "SELECT collname FROM pg_collation c WHERE collnamespace = "
    f"'public'::regnamespace AND {_ours('pg_collation', 'c')}",
    "extended statistics": "SELECT stxname FROM pg_statistic_ext WHERE stxnamespace = "
    "'public'::regnamespace",
    "rule": "SELECT rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
    "WHERE c.relnamespace = 'public'::regnamespace AND r.rulename <> '_RETURN'",
    "event trigger": "SELECT evtname FROM pg_event_trigger e WHERE "
    + _ours("pg_event_trigger", "e"),
}

_RELATIONS = f"""
SELECT c.oid, c.relname, quote_ident(c.relname), c.relkind, c.relpersistence,
       array_to_string(c.reloptions, ', '), quote_literal(obj_description(c.oid, 'pg_class')),
       c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S')
  AND c.relname <> 'alembic_version' AND {_ours("pg_class", "c")}
"""

# Identity columns: their sequence's name and options.
_COLUMNS = """
SELECT a.attrelid, a.attnum, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
       a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END,
       CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN a.attstattarget END,
       quote_literal(col_description(a.attrelid, a.attnum)),
       CASE a.attstorage WHEN t.typstorage THEN NULL WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
           WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END,
       quote_ident(sc.relname), format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_depend sd ON a.attidentity <> '' AND sd.refobjid = a.attrelid
     AND sd.refobjsubid = a.attnum AND sd.classid = 'pg_class'::regclass AND sd.deptype = 'i'
LEFT JOIN pg_class sc ON sc.oid = sd.objid AND sc.relkind = 'S'
LEFT JOIN pg_sequence s ON s.seqrelid = sc.oid
WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attidentity = '' OR sc.oid IS NOT NULL)
ORDER BY a.attrelid, a.attnum
"""

# NOT NULL constraints: PostgreSQL 18 also lists them here (contype 'n'); a column's NOT NULL is
# read from pg_attribute on every version instead. Constraint triggers ('t') are triggers.
_CONSTRAINTS = """
SELECT conrelid, quote_ident(conname), contype, pg_get_constraintdef(oid),
       quote_literal(obj_description(oid, 'pg_constraint'))
FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
  AND contype IN ('p', 'u', 'f', 'c', 'x')
"""

_INDEXES = """
SELECT i.indrelid, quote_ident(ic.relname), pg_get_indexdef(i.indexrelid),
       quote_literal(obj_description(i.indexrelid, 'pg_class'))
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE ic.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
"""

# Sequences of their own: an identity column's sequence goes with its column.
_SEQUENCES = f"""
SELECT c.relname, quote_ident(c.relname), format_type(s.seqtypid, NULL), s.seqstart,
       s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT quote_ident(t.relname) || '.' || quote_ident(a.attname)
        FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'
          AND d.refclassid = 'pg_class'::regclass),
       quote_literal(obj_description(c.oid, 'pg_class'))
FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND {_ours("pg_class", "c")}
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'i')
"""

_VIEWS = """
SELECT c.oid, pg_get_viewdef(c.oid, true), current_setting('server_version_num')::int < 160000
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm')
"""

_TYPES = f"""
SELECT t.typname, quote_ident(t.typname),
       (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
        FROM pg_enum e WHERE e.enumtypid = t.oid),
       quote_literal(obj_description(t.oid, 'pg_type'))
FROM pg_type t
WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'e' AND {_ours("pg_type", "t")}
"""

_EXTENSIONS = """
SELECT e.extname, quote_ident(e.extname), quote_ident(n.nspname)
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
"""

_FUNCTIONS = f"""
SELECT p.oid, p.proname, p.oid::regprocedure::text, pg_get_functiondef(p.oid),
       quote_literal(obj_description(p.oid, 'pg_proc'))
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
  AND {_ours("pg_proc", "p")}
"""

_TRIGGERS = """
SELECT t.tgfoid, f.proname, t.tgname, c.relname, pg_get_triggerdef(t.oid),
       quote_ident(t.tgname), quote_ident(c.relname),
       quote_literal(obj_description(t.oid, 'pg_trigger'))
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc f ON f.oid = t.tgfoid
WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
"""

_POLICIES = """
SELECT p.polrelid, quote_ident(p.polname), p.polpermissive, p.polcmd,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(r::regrole::text) END
             FROM unnest(p.polroles) r ORDER BY 1),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
       quote_literal(obj_description(p.oid, 'pg_policy'))
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'public'::regnamespace
"""

# Privileges, without the owner's own: the owner is whoever migrates, and what "all" means for
# an owner differs between versions (PostgreSQL 17 added MAINTAIN).
_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END"
_RELATION_GRANTS = f"""
SELECT c.oid, {_GRANTEE}, a.privilege_type, a.is_grantable
FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE c.relnamespace = 'public'::regnamespace AND a.grantee <> c.relowner
"""
_COLUMN_GRANTS = f"""
SELECT c.oid, {_GRANTEE}, a.privilege_type, a.is_grantable,
       string_agg(quote_ident(att.attname), ', ' ORDER BY att.attnum)
FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid
CROSS JOIN LATERAL aclexplode(att.attacl) a
WHERE c.relnamespace = 'public'::regnamespace AND a.grantee <> c.relowner
GROUP BY 1, 2, 3, 4
"""
# A function or type's default grants EXECUTE (USAGE) to PUBLIC: written out is only what
# differs from that, a REVOKE from PUBLIC and grants to roles.
_ROUTINE_GRANTS = f"""
SELECT p.oid, p.proacl IS NOT NULL AND NOT EXISTS (
           SELECT FROM aclexplode(p.proacl) x WHERE x.grantee = 0),
       {_GRANTEE}, a.privilege_type, a.is_grantable
FROM pg_proc p LEFT JOIN LATERAL aclexplode(p.proacl) a
     ON a.grantee NOT IN (0, p.proowner)
WHERE p.pronamespace = 'public'::regnamespace AND p.proacl IS NOT NULL
"""
_TYPE_GRANTS = f"""
SELECT t.typname, quote_ident(t.typname), t.typacl IS NOT NULL AND NOT EXISTS (
           SELECT FROM aclexplode(t.typacl) x WHERE x.grantee = 0),
       {_GRANTEE}, a.privilege_type, a.is_grantable
FROM pg_type t LEFT JOIN LATERAL aclexplode(t.typacl) a
     ON a.grantee NOT IN (0, t.typowner)
WHERE t.typnamespace = 'public'::regnamespace AND t.typacl IS NOT NULL
"""
# Default privileges are the migrating role's (ALTER DEFAULT PRIVILEGES FOR ROLE <it>).
_DEFAULT_GRANTS = f"""
SELECT CASE WHEN d.defaclnamespace = 0 THEN '' ELSE quote_ident(n.nspname) END,
       d.defaclobjtype, {_GRANTEE}, a.privilege_type, a.is_grantable
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
WHERE a.grantee <> d.defaclrole
"""

_PRIVILEGE_ORDER = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "MAINTAIN",
    "USAGE",
    "EXECUTE",
    "CREATE",
)
_DEFAULT_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}
_POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


# A view's text, in words: quoted identifiers, string literals, words, and single characters.
_NAME = r'\w+|"(?:[^"]|"")*"'
_TOKEN = re.compile(rf"{_NAME}|'(?:[^']|'')*'|\s+|.", re.DOTALL)
_QUERY_WORDS = {"SELECT", "WITH", "VALUES"}
_FROM_ENDS = {"WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", ";"}
_SET_OPERATIONS = {"UNION", "INTERSECT", "EXCEPT"}


def _view_as_16_prints(definition: str) -> str:
    """A view's text as PostgreSQL 16 and later print it, from 15's.

    Up to 15 a view's query also held the rule system's OLD and NEW relations, so its top level
    always named a relation before each column; from 16 on, a query over one relation does not:
    `SELECT e.id FROM progress_events e` became `SELECT id FROM progress_events e`. Subqueries
    keep the names on every version (they may see the outer query's relations)."""
    tokens = _TOKEN.findall(definition)
    # Each token's nesting: how many subqueries it is inside, and how many parentheses.
    subqueries, parentheses, stack = [], [], []
    for i, token in enumerate(tokens):
        if token == "(":
            following = next((t for t in tokens[i + 1 :] if not t.isspace()), "")
            stack.append(following in _QUERY_WORDS)
        subqueries.append(sum(stack))
        parentheses.append(len(stack))
        if token == ")" and stack:
            stack.pop()
    top = [i for i, t in enumerate(tokens) if parentheses[i] == 0 and not t.isspace()]
    words = [tokens[i] for i in top]
    clauses = [j for j, word in enumerate(words) if word == "FROM" and words[j - 1] != "DISTINCT"]
    if not clauses or _SET_OPERATIONS & set(words):
        return definition
    start = clauses[0] + 1
    end = next((j for j in range(start, len(words)) if words[j] in _FROM_ENDS), len(words))
    relation = words[start:end]
    if len(relation) not in (1, 2) or not all(re.fullmatch(_NAME, word) for word in relation):
        return definition  # a join, a list, a function or subquery: every version names them
    alias = relation[-1]
    kept: list[str] = []
    for i, token in enumerate(tokens):
        prefix = token == alias and i + 1 < len(tokens) and tokens[i + 1] == "."
        if prefix and subqueries[i] == 0 and (not kept or kept[-1] != "."):
            tokens[i + 1] = ""
            continue
        kept.append(token)
    return "".join(kept)


def _grants(
    rows: Iterable[tuple[str, str, bool]], target: str, columns: str | None = None
) -> list[str]:
    """GRANT statements for (grantee, privilege, grantable) rows on `target`, one per grantee
    and grant option, privileges in a fixed order."""
    by_grantee: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for grantee, privilege, grantable in rows:
        by_grantee[grantee, grantable].append(privilege)
    statements = []
    for (grantee, grantable), privileges in sorted(by_grantee.items()):
        ordered = sorted(
            privileges,
            key=lambda p: (_PRIVILEGE_ORDER.index(p) if p in _PRIVILEGE_ORDER else 99, p),
        )
        listed = ", ".join(f"{p} ({columns})" if columns else p for p in ordered)
        option = " WITH GRANT OPTION" if grantable else ""
        statements.append(f"GRANT {listed} ON {target} TO {grantee}{option};")
    return statements


def _sequence_options(
    type_name: object,
    start: object,
    increment: object,
    low: object,
    high: object,
    cache: object,
    cycle: object,
) -> str:
    return (
        f"AS {type_name} START WITH {start} INCREMENT BY {increment} MINVALUE {low} "
        f"MAXVALUE {high} CACHE {cache}{' CYCLE' if cycle else ' NO CYCLE'}"
    )


def _comment(target: str, quoted: object) -> list[str]:
    return [f"COMMENT ON {target} IS {quoted};"] if quoted is not None else []


def read_catalog(connection: Connection) -> dict[str, list[Entry]]:
    """Every object of ours in the database, as entries of the file each belongs to; raises
    LiveSchemaError for an object no file takes, or of a kind the dump cannot write."""
    connection.execute(text("SET LOCAL search_path = public"))
    unsupported = [
        f"{kind} {name}" for kind, sql in _UNSUPPORTED.items() for (name,) in _rows(connection, sql)
    ]
    if unsupported:
        raise LiveSchemaError(
            "the live schema cannot write these yet (extend src/skilltree/db/live_schema.py): "
            + ", ".join(sorted(unsupported))
        )
    files: dict[str, list[Entry]] = defaultdict(list)
    relations = {row[0]: row for row in _rows(connection, _RELATIONS)}
    names = {oid: str(row[1]) for oid, row in relations.items()}
    idents = {oid: str(row[2]) for oid, row in relations.items()}

    for name, ident, values, comment in _rows(connection, _TYPES):
        lines = [f"CREATE TYPE {ident} AS ENUM ({values});", *_comment(f"TYPE {ident}", comment)]
        files[file_of(str(name), f"type {name}")].append(Entry("type", str(name), "\n".join(lines)))

    for name, ident, schema in _rows(connection, _EXTENSIONS):
        files[file_of(str(name), f"extension {name}")].append(
            Entry("extension", str(name), f"CREATE EXTENSION {ident} WITH SCHEMA {schema};")
        )

    _tables(connection, relations, files)
    for name, ident, *parameters, owner, comment in _rows(connection, _SEQUENCES):
        lines = [f"CREATE SEQUENCE {ident} {_sequence_options(*parameters)};"]
        if owner is not None:
            lines.append(f"ALTER SEQUENCE {ident} OWNED BY {owner};")
        lines += _comment(f"SEQUENCE {ident}", comment)
        files[file_of(str(name), f"sequence {name}")].append(
            Entry("sequence", str(name), "\n".join(lines))
        )
    for oid, printed, before_16 in _rows(connection, _VIEWS):
        query = _view_as_16_prints(str(printed)) if before_16 else str(printed)
        name, ident, kind, options, comment = (relations[oid][i] for i in (1, 2, 3, 5, 6))
        word = "MATERIALIZED VIEW" if kind == "m" else "VIEW"
        create = "CREATE MATERIALIZED VIEW" if kind == "m" else "CREATE OR REPLACE VIEW"
        with_options = f" WITH ({options})" if options else ""
        body = query.rstrip().rstrip(";")
        lines = [
            f"{create} {ident}{with_options} AS\n{body};",
            *_comment(f"{word} {ident}", comment),
        ]
        files[file_of(str(name), f"view {name}")].append(Entry("view", str(name), "\n".join(lines)))

    # A function's triggers follow it, in its file.
    signatures: dict[object, str] = {}
    triggers: dict[object, list[Entry]] = defaultdict(list)
    executes: dict[object, str] = {}
    for function, function_name, name, table, definition, ident, table_ident, comment in _rows(
        connection, _TRIGGERS
    ):
        lines = [f"{definition};", *_comment(f"TRIGGER {ident} ON {table_ident}", comment)]
        triggers[function].append(Entry("trigger", f"{name} on {table}", "\n".join(lines)))
        executes[function] = str(function_name)
    for oid, name, signature, definition, comment in _rows(connection, _FUNCTIONS):
        signatures[oid] = str(signature)
        domain = file_of(str(name), f"function {signature}")
        lines = [f"{str(definition).rstrip()};", *_comment(f"FUNCTION {signature}", comment)]
        files[domain].append(Entry("function", str(signature), "\n".join(lines)))
        files[domain].extend(sorted(triggers.pop(oid, []), key=lambda e: e.name))
    for function, outside in triggers.items():  # executing a function outside `public`
        outsider = executes[function]
        files[file_of(outsider, f"function {outsider}")].extend(
            sorted(outside, key=lambda e: e.name)
        )

    files[SECURITY] = _security(connection, relations, names, idents, signatures)
    return {domain: _sorted(entries) for domain, entries in files.items()}


def _tables(
    connection: Connection,
    relations: Mapping[object, Sequence[object]],
    files: dict[str, list[Entry]],
) -> None:
    columns: dict[object, list[str]] = defaultdict(list)
    after: dict[object, list[str]] = defaultdict(list)  # statements after CREATE TABLE
    for row in _rows(connection, _COLUMNS):
        relid, _, ident, type_name, not_null, identity, generated, default = row[:8]
        collation, statistics, comment, storage, sequence, *parameters = row[8:]
        if relid not in relations:
            continue
        column = f"{ident} {type_name}"
        if collation is not None:
            column += f" COLLATE {collation}"
        if generated:
            stored = "STORED" if generated == "s" else "VIRTUAL"
            column += f" GENERATED ALWAYS AS ({default}) {stored}"
        elif default is not None:
            column += f" DEFAULT {default}"
        if identity:
            how = "ALWAYS" if identity == "a" else "BY DEFAULT"
            column += (
                f" GENERATED {how} AS IDENTITY (SEQUENCE NAME {sequence} "
                f"{_sequence_options(*parameters)})"
            )
        if not_null:
            column += " NOT NULL"
        columns[relid].append(column)
        table = relations[relid][2]
        if statistics is not None:
            after[relid].append(
                f"ALTER TABLE {table} ALTER COLUMN {ident} SET STATISTICS {statistics};"
            )
        if storage is not None:  # not its type's: compression or out-of-line storage chosen
            after[relid].append(f"ALTER TABLE {table} ALTER COLUMN {ident} SET STORAGE {storage};")
        after[relid] += _comment(f"COLUMN {table}.{ident}", comment)
    constraints = sorted(
        _rows(connection, _CONSTRAINTS), key=lambda row: (row[2] != "p", str(row[1]))
    )
    for relid, ident, _, definition, comment in constraints:
        if relid not in relations:
            continue
        columns[relid].append(f"CONSTRAINT {ident} {definition}")
        after[relid] += _comment(f"CONSTRAINT {ident} ON {relations[relid][2]}", comment)
    for relid, name, definition, comment in sorted(
        _rows(connection, _INDEXES), key=lambda r: str(r[1])
    ):
        if relid in relations:
            after[relid] += [f"{definition};", *_comment(f"INDEX {name}", comment)]
    for relid, row in relations.items():
        name, ident, kind, persistence, options, comment = row[1:7]
        if kind != "r":
            continue
        unlogged = "UNLOGGED " if persistence == "u" else ""
        with_options = f" WITH ({options})" if options else ""
        body = ",\n".join(f"    {column}" for column in columns[relid])
        lines = [
            f"CREATE {unlogged}TABLE {ident} (\n{body}\n){with_options};",
            *_comment(f"TABLE {ident}", comment),
            *after[relid],
        ]
        files[file_of(str(name), f"table {name}")].append(
            Entry("table", str(name), "\n".join(lines))
        )


def _security(
    connection: Connection,
    relations: Mapping[object, Sequence[object]],
    names: Mapping[object, str],
    idents: Mapping[object, str],
    signatures: Mapping[object, str],
) -> list[Entry]:
    statements: dict[tuple[str, str], list[str]] = defaultdict(list)
    kinds = {"r": "table", "v": "view", "m": "view", "S": "sequence"}

    def of(relid: object) -> list[str]:
        return statements[kinds[str(relations[relid][3])], names[relid]]

    for relid, row in relations.items():
        if row[7]:
            of(relid).append(f"ALTER TABLE {idents[relid]} ENABLE ROW LEVEL SECURITY;")
        if row[8]:
            of(relid).append(f"ALTER TABLE {idents[relid]} FORCE ROW LEVEL SECURITY;")
    policies = sorted(_rows(connection, _POLICIES), key=lambda row: (names[row[0]], str(row[1])))
    for relid, ident, permissive, command, roles, using, check, comment in policies:
        policy = (
            f"CREATE POLICY {ident} ON {idents[relid]} AS "
            f"{'PERMISSIVE' if permissive else 'RESTRICTIVE'} FOR {_POLICY_COMMANDS[str(command)]}"
            f" TO {', '.join(roles)}"  # type: ignore[arg-type]
        )
        if using is not None:
            policy += f"\n    USING ({using})"
        if check is not None:
            policy += f"\n    WITH CHECK ({check})"
        of(relid).extend([f"{policy};", *_comment(f"POLICY {ident} ON {idents[relid]}", comment)])

    grants: dict[object, list[tuple[str, str, bool]]] = defaultdict(list)
    for relid, grantee, privilege, grantable in _rows(connection, _RELATION_GRANTS):
        if relid in relations:
            grants[relid].append((str(grantee), str(privilege), bool(grantable)))
    for relid, rows in sorted(grants.items(), key=lambda item: names[item[0]]):
        word = "SEQUENCE" if relations[relid][3] == "S" else "TABLE"
        of(relid).extend(_grants(rows, f"{word} {idents[relid]}"))
    column_grants = sorted(_rows(connection, _COLUMN_GRANTS), key=lambda row: str(row[1:4]))
    for relid, grantee, privilege, grantable, listed in column_grants:
        if relid in relations:
            target = f"TABLE {idents[relid]}"
            row = (str(grantee), str(privilege), bool(grantable))
            of(relid).extend(_grants([row], target, columns=str(listed)))

    routine_grants: dict[object, list[tuple[str, str, bool]]] = defaultdict(list)
    revoked: dict[object, bool] = {}
    for oid, no_public, grantee, privilege, grantable in _rows(connection, _ROUTINE_GRANTS):
        if oid in signatures:
            revoked[oid] = bool(no_public)
            if grantee is not None:
                routine_grants[oid].append((str(grantee), str(privilege), bool(grantable)))
    for oid, no_public in revoked.items():
        target = f"FUNCTION {signatures[oid]}"
        lines = [f"REVOKE ALL ON {target} FROM PUBLIC;"] if no_public else []
        statements["function", signatures[oid]] += lines + _grants(routine_grants[oid], target)

    type_grants: dict[tuple[str, str], list[tuple[str, str, bool]]] = defaultdict(list)
    type_revoked: dict[tuple[str, str], bool] = {}
    for name, ident, no_public, grantee, privilege, grantable in _rows(connection, _TYPE_GRANTS):
        key = (str(name), str(ident))
        type_revoked[key] = bool(no_public)
        if grantee is not None:
            type_grants[key].append((str(grantee), str(privilege), bool(grantable)))
    for (name, ident), no_public in type_revoked.items():
        lines = [f"REVOKE ALL ON TYPE {ident} FROM PUBLIC;"] if no_public else []
        statements["type", name] += lines + _grants(type_grants[name, ident], f"TYPE {ident}")

    defaults: dict[tuple[str, str], list[tuple[str, str, bool]]] = defaultdict(list)
    for schema, objects, grantee, privilege, grantable in _rows(connection, _DEFAULT_GRANTS):
        defaults[str(schema), str(objects)].append((str(grantee), str(privilege), bool(grantable)))
    for (schema, objects), rows in sorted(defaults.items()):
        where = f" IN SCHEMA {schema}" if schema else ""
        for grant in _grants(rows, _DEFAULT_OBJECTS[objects]):
            statements["privileges", "default privileges of the migrating role"].append(
                f"ALTER DEFAULT PRIVILEGES{where} {grant}"
            )

    return [
        Entry(kind, name, "\n".join(lines)) for (kind, name), lines in statements.items() if lines
    ]


_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}


def _sorted(entries: list[Entry]) -> list[Entry]:
    # By kind, then name; a function's triggers stay right after it.
    groups: list[list[Entry]] = []
    for entry in entries:
        if entry.kind == "trigger" and groups and groups[-1][0].kind == "function":
            groups[-1].append(entry)
        else:
            groups.append([entry])
    groups.sort(key=lambda group: (_KIND_ORDER[group[0].kind], group[0].name))
    return [entry for group in groups for entry in group]


def about(domain: str) -> str:
    """What the file of `domain` holds, in a few words."""
    return SECURITY_ABOUT if domain == SECURITY else FILES[domain][0]


def render(domain: str, entries: Sequence[Entry]) -> str:
    """The text of `domain`'s file."""
    blocks = [HEADER.format(about=about(domain))]
    blocks += [f"{entry.title}\n{entry.sql}\n" for entry in entries]
    return "\n".join(blocks)


def parse(text_of_file: str) -> list[Entry]:
    """The entries of a file `render` wrote."""
    titles = list(_ENTRY.finditer(text_of_file))
    entries = []
    for title, following in zip(titles, [*titles[1:], None], strict=True):
        end = following.start() if following else len(text_of_file)
        sql = text_of_file[title.end() + 1 : end].rstrip("\n")
        entries.append(Entry(title.group(1), title.group(2), sql))
    return entries


def dump(connection: Connection) -> dict[str, str]:
    """The live schema's files (name: text) of the database on `connection`, and REVISION: the
    revision it is at."""
    revision = connection.execute(
        text(
            "SELECT string_agg(version_num, ' ') FROM alembic_version"
            if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            else "SELECT ''"
        )
    ).scalar()
    files = {REVISION: f"{revision or 'base'}\n"}
    for domain, entries in sorted(read_catalog(connection).items()):
        rendered = render(domain, entries)
        if parse(rendered) != entries:
            # A function body with a line that looks like an entry's title would be cut in two.
            raise LiveSchemaError(f"{domain}.sql would not read back as it was written")
        files[f"{domain}.sql"] = rendered
    return files


def dump_migrated(engine: Engine) -> dict[str, str]:
    """The live schema's files as the migrations build them: dumped from a scratch database on
    `engine`'s server, migrated to head, then dropped."""
    from skilltree.db import migrate
    from skilltree.db.session import create_db_engine

    name = f"skilltree_schema_dump_{os.getpid()}"
    server = engine.execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        scratch = create_db_engine(
            engine.url.set(database=name).render_as_string(hide_password=False)
        )
        try:
            migrate.upgrade(scratch)
            with scratch.connect() as connection:
                return dump(connection)
        finally:
            scratch.dispose()
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def write(files: Mapping[str, str], directory: Path = SCHEMA_DIR) -> list[str]:
    """Write `files` into `directory`, removing other .sql files there; the names changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for stale in sorted([*directory.glob("*.sql"), directory / REVISION]):
        if stale.exists() and stale.name not in files:
            stale.unlink()
            changed.append(stale.name)
    for name, content in files.items():
        path = directory / name
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(name)
    return sorted(changed)


def committed(directory: Path = SCHEMA_DIR) -> dict[str, str]:
    """The live schema's files as committed (name: text)."""
    paths = sorted([*directory.glob("*.sql"), directory / REVISION])
    return {path.name: path.read_text() for path in paths if path.exists()}


def revision_of(files: Mapping[str, str]) -> str | None:
    """The revision `files` describe (None for files that do not say)."""
    return files[REVISION].strip() if REVISION in files else None


def differences(found: Mapping[str, str], expected: Mapping[str, str]) -> list[str]:
    """What differs between two sets of files, one line per object: `file: kind: name ...`."""
    lines = []
    for name in sorted(set(found) | set(expected)):
        if name not in expected:
            lines.append(f"{name}: missing from the committed files")
            continue
        if name not in found:
            lines.append(f"{name}: committed, but the database has nothing for it")
            continue
        if found[name] == expected[name]:
            continue
        if name == REVISION:
            lines.append(
                f"{name}: the files are of revision {revision_of(expected)}, the database is at "
                f"{revision_of(found)}"
            )
            continue
        have = {(e.kind, e.name): e.sql for e in parse(found[name])}
        want = {(e.kind, e.name): e.sql for e in parse(expected[name])}
        for kind, object_name in sorted(set(have) | set(want)):
            where = f"{name}: {kind}: {object_name}"
            if (kind, object_name) not in want:
                lines.append(f"{where}: in the database, not in the file")
            elif (kind, object_name) not in have:
                lines.append(f"{where}: in the file, not in the database")
            elif have[kind, object_name] != want[kind, object_name]:
                lines.append(f"{where}: differs")
        if not any(line.startswith(f"{name}:") for line in lines):
            lines.append(f"{name}: differs outside its objects (its header or layout)")
    return lines
