"""tap.js is ES5 and uses only old DOM APIs: AnkiDroid runs it in the phone's WebView,
which on old Android versions is a Chromium of 2013 (issue 12).

The script is parsed with esprima and every syntax node must be one ES5 has; names
of newer APIs must not appear.
"""

from __future__ import annotations

from pathlib import Path

import esprima
import pytest

from flashdeck import notetype

SCRIPT = (Path(notetype.__file__).parent / "tap.js").read_text(encoding="utf-8")

ES5_NODES = {
    "Program", "ExpressionStatement", "BlockStatement", "EmptyStatement", "ReturnStatement", "BreakStatement",
    "ContinueStatement", "IfStatement", "SwitchStatement", "SwitchCase", "ThrowStatement", "TryStatement",
    "CatchClause", "WhileStatement", "DoWhileStatement", "ForStatement", "ForInStatement", "FunctionDeclaration",
    "VariableDeclaration", "VariableDeclarator", "ThisExpression", "ArrayExpression", "ObjectExpression", "Property",
    "FunctionExpression", "UnaryExpression", "UpdateExpression", "BinaryExpression", "AssignmentExpression",
    "LogicalExpression", "MemberExpression", "ConditionalExpression", "CallExpression", "NewExpression",
    "SequenceExpression", "Identifier", "Literal",
}
# Newer than Chromium 30 / Android 4.4, or a way to reach the network or run strings as code.
FORBIDDEN_NAMES = {
    "closest", "matches", "includes", "startsWith", "endsWith", "find", "findIndex", "assign", "from", "forEach",
    "append", "prepend", "remove", "replaceWith", "classList", "padStart", "repeat", "Promise", "Symbol", "Map",
    "Set", "WeakMap", "fetch", "XMLHttpRequest", "WebSocket", "sendBeacon", "importScripts", "eval", "Function",
    "setTimeout", "setInterval",
}


def _nodes(node):
    if isinstance(node, list):
        for item in node:
            yield from _nodes(item)
    elif hasattr(node, "type") and isinstance(node.type, str):
        yield node
        for key, value in vars(node).items():
            if key != "type":
                yield from _nodes(value)


def nodes(source: str) -> list:
    return list(_nodes(esprima.parseScript(source)))


def es5_problems(source: str) -> list[str]:
    problems = []
    for node in nodes(source):
        if node.type not in ES5_NODES:
            problems.append(node.type)
        elif node.type == "VariableDeclaration" and node.kind != "var":
            problems.append(f"{node.kind} declaration")
        elif node.type in ("FunctionDeclaration", "FunctionExpression") and (node.generator or node.isAsync):
            problems.append("generator or async function")
        elif node.type == "Property" and (node.shorthand or node.method or node.computed):
            problems.append("ES2015 property")
        elif node.type == "Literal" and getattr(node, "regex", None) and set(node.regex.flags) - set("gim"):
            problems.append(f"regex flags {node.regex.flags}")
        elif node.type == "Identifier" and node.name in FORBIDDEN_NAMES:
            problems.append(node.name)
    return problems


def test_tap_js_is_es5_and_uses_no_newer_api():
    assert es5_problems(SCRIPT) == []
    assert len(nodes(SCRIPT)) > 500, "the walk missed the script"


@pytest.mark.parametrize("source,problem", [
    ("let a = 1;", "let declaration"),
    ("var f = () => 1;", "ArrowFunctionExpression"),
    ("var s = `x`;", "TemplateLiteral"),
    ("var o = {a};", "ES2015 property"),
    ("for (var x of y) {}", "ForOfStatement"),
    ("el.closest('.fd');", "closest"),
    ("fetch('x');", "fetch"),
])
def test_the_es5_check_catches_newer_code(source, problem):
    assert problem in es5_problems(source)
