"""Is a statement valid T-SQL (SQL Server's dialect)?

Symfonia runs on Microsoft SQL Server; the tests run the gateway on SQLite and PostgreSQL,
which accept things SQL Server refuses. Statements are parsed with sqlglot's T-SQL dialect,
and words and operators other databases take and SQL Server does not are refused by name.
"""

from __future__ import annotations

# Words SQLite or PostgreSQL take and SQL Server does not (T-SQL: TOP, OUTPUT ... INTO, ISNULL,
# SUBSTRING, LEN, STRING_AGG, GETDATE, 1/0 for booleans).
NOT_TSQL = {"LIMIT", "RETURNING", "ILIKE", "IFNULL", "SUBSTR", "LENGTH", "GROUP_CONCAT", "STRFTIME",
            "LAST_INSERT_ROWID", "NOW", "RANDOM", "INSTR", "GREATEST", "LEAST", "TRUE", "FALSE", "NULLS",
            "AUTOINCREMENT", "SERIAL", "EXCLUDED"}
NOT_TSQL_OPERATORS = {"DPIPE": "||", "DCOLON": "::"}


def tsql_problems(sql: str) -> list[str]:
    """What makes `sql` not T-SQL (empty: it is)."""
    import sqlglot
    from sqlglot.dialects.tsql import TSQL
    from sqlglot.errors import SqlglotError

    problems = []
    try:
        tokens = TSQL().tokenize(sql)
    except SqlglotError as exc:
        return [f"cannot be read as T-SQL: {exc}"]
    for t in tokens:
        word = t.text.upper()
        if t.token_type.name in NOT_TSQL_OPERATORS:
            problems.append(f"operator {NOT_TSQL_OPERATORS[t.token_type.name]} is not T-SQL")
        elif word in NOT_TSQL and t.token_type.name not in ("STRING", "IDENTIFIER"):
            problems.append(f"{word} is not T-SQL")
    try:
        sqlglot.parse(sql, read="tsql")
    except SqlglotError as exc:
        problems.append(f"does not parse as T-SQL: {str(exc).splitlines()[0]}")
    return problems
