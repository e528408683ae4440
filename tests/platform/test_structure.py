"""The structure as imports: parts depend one way, and the product never leans on the demo or the tests.

Read from the source with `ast` (every import, also those inside functions).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "shop_client", "erp_hooks", "shopsync", "demo", "demo_shop", "bench", "tests", "tools")
PRODUCT = ("server", "shop_client", "erp_hooks", "shopsync")
NOT_PRODUCT = ("demo", "demo_shop", "tests", "bench", "tools")


# Folders installed under the project's own name (pyproject's package-dir).
INSTALLED_AS = {"server": "shopsync.server", "demo": "shopsync.demo"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([INSTALLED_AS.get(parts[0], parts[0]), *parts[1:]])


def part(module: str) -> str:
    """The top folder a module lives in (server, demo, shop_client, ...)."""
    for folder, name in INSTALLED_AS.items():
        if module == name or module.startswith(name + "."):
            return folder
    return module.split(".")[0]


def modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            if "oscar_site" in path.parts or path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                continue
            found[module_name(path)] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The repo modules `path` imports (the longest known prefix of each imported name)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 steps
                up = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:
            parts = t.split(".")
            for n in range(len(parts), 0, -1):
                candidate = ".".join(parts[:n])
                if candidate in known:
                    if candidate != name:
                        out.add(candidate)
                    break
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, name, known) for name, path in mods.items()}


def test_the_product_never_imports_the_demo_or_test_tooling():
    bad = [(m, d) for m, deps in graph().items() if part(m) in PRODUCT
           for d in deps if part(d) in NOT_PRODUCT]
    assert not bad, f"product modules importing demo/test code: {bad}"


def test_parts_depend_one_way():
    g = graph()
    rules = {
        "shop_client": {"shop_client"},              # knows nothing of the server
        "erp_hooks": {"erp_hooks", "shopsync"},      # starts fast: only the stubs and itself
        "shopsync": {"shopsync"},
    }
    bad = [(m, d) for m, deps in g.items() for d in deps
           if part(m) in rules and part(d) not in rules[part(m)]]
    assert not bad, f"imports against the direction of the parts: {bad}"
    assert not any(d.startswith("shopsync.server.erp.sql") for d in g["shopsync.server.erp.interface"]), \
        "the ERP interface stands alone (its value types live in server/erp/records.py)"


def test_no_import_cycles():
    g = graph()
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g.get(m, ())):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not cycles, f"import cycles: {cycles}"


# -- entities side by side -------------------------------------------------------------
SYNC = "shopsync.server.sync"
# server/sync/: each entity's modules, the rooms that cross entities, and the base they all stand on.
ENTITIES = {
    "product": {"products", "product_images", "catalog", "reconcile", "mappers", "families"},
    "price_list": {"price_lists"},
    "customer": {"customers"},
    "order": {"orders", "order_pricing", "money"},
}
CROSSING = {"fanout", "catchup", "dispatch", "feeds"}  # know that one ERP event or pass touches several entities
BASE = {"messages", "outcome", "context", "addresses", "exchange_rates", "events"}


def sync_modules() -> set[str]:
    return {m.removeprefix(SYNC + ".") for m in graph() if m.startswith(SYNC + ".")}


def test_every_sync_module_has_a_place():
    placed = set().union(*ENTITIES.values()) | CROSSING | BASE
    assert sync_modules() == placed, "a new module in server/sync/: say in tests/test_structure.py whose it is"


def test_entities_stand_side_by_side():
    g = graph()
    family = {m: name for name, members in ENTITIES.items() for m in members}
    bad = []
    for m in sync_modules():
        for d in g[f"{SYNC}.{m}"]:
            dep = d.removeprefix(SYNC + ".")
            if not d.startswith(SYNC + ".") or dep not in family:
                continue
            if m in BASE or (m in family and family[m] != family[dep]):
                bad.append((m, dep))
    assert not bad, f"an entity (or the base) importing another entity's module: {bad}"


# -- errors decided once ---------------------------------------------------------------
ERROR_TEXT = re.compile(r"""in\s+str\(\s*\w+\s*\)|"""
                        r"""str\(\s*(?:exc|e|err|error)\s*\)\s*(?:==|!=|\.lower|\.startswith|\.endswith|\.find)|"""
                        r"""\.__name__\s*(?:==|!=|in)\s*["'(\[]""")
# The one place a driver's words may be read: where it gives no state or error number.
ERROR_TEXT_ALLOWED = {("server/erp/sql/dialects.py", "translate")}


def test_no_error_text_is_read_outside_the_odbc_translation():
    bad = []
    for top in ("server", "shop_client", "erp_hooks"):
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            lines = path.read_text(encoding="utf-8").split("\n")
            for fn in ast.walk(ast.parse("\n".join(lines))):
                if isinstance(fn, ast.FunctionDef) and (rel, fn.name) in ERROR_TEXT_ALLOWED:
                    lines[fn.lineno - 1:fn.end_lineno] = [""] * (fn.end_lineno - fn.lineno + 1)  # type: ignore[operator]
            bad += [f"{rel}:{n}: {hit.group(0)}" for n, line in enumerate(lines, start=1)
                    for hit in ERROR_TEXT.finditer(line)]
    assert not bad, f"error text read to decide (type the error where it is raised): {bad}"


def test_the_grep_catches_what_it_is_for():
    assert ERROR_TEXT.search('if "upc" not in str(exc) and x')
    assert ERROR_TEXT.search('type(exc).__name__ == "OperationalError"')
    assert ERROR_TEXT.search('if str(exc) == "help":')
    assert not ERROR_TEXT.search('raise Rejected(str(exc))')


def test_the_runtime_asks_the_erp_what_it_can_do_not_which_mode_it_is_in():
    """The workers ask the ERP for its abilities (`change_feeds`, `settings_ok`), never `erp.mode` nor
    `hasattr`/`getattr` on the ERP: a mode's ability is declared where the mode is built."""
    source = (ROOT / "server" / "runtime.py").read_text(encoding="utf-8")
    assert not re.search(r"erp\.mode\b|\.writer\b", source), "an ERP mode check in runtime.py"
    assert not re.search(r"(hasattr|getattr)\([^)]*erp", source), "an ERP ability found by hasattr/getattr"


# -- the ERP wing, cut by entity -------------------------------------------------------
ERP = "shopsync.server.erp"


def test_the_webapi_side_never_imports_the_sql_side():
    """A WebAPI site needs no ODBC driver: nothing in server/erp/webapi imports server/erp/sql (or pyodbc)."""
    g = graph()
    bad = [(m, d) for m in g if m.startswith(f"{ERP}.webapi") for d in g[m] if d.startswith(f"{ERP}.sql")]
    bad += [(p.name, "pyodbc") for p in (ROOT / "server" / "erp" / "webapi").glob("*.py")
            if re.search(r"^\s*(import|from)\s+pyodbc", p.read_text(encoding="utf-8"), re.MULTILINE)]
    assert not bad, f"the WebAPI side importing the SQL side: {bad}"


def test_no_file_of_the_erp_wing_is_over_400_lines():
    long = {p.relative_to(ROOT).as_posix(): n for p in (ROOT / "server" / "erp").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"cut these by entity: {long}"


def test_both_erp_sides_stand_by_entity():
    for side in ("sql", "webapi"):
        names = {p.stem for p in (ROOT / "server" / "erp" / side).glob("*.py")}
        assert {"products", "contractors", "orders", "documents", "price_lists", "images"} <= names, side
