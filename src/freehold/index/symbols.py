"""Symbol extraction: the definitions, identifier references and imports of one source file.

`extract(path, source)` parses `source` with tree-sitter (grammars bundled in
tree-sitter-language-pack 0.13.0; nothing is downloaded) and runs one query per language.
The query's patterns fall into three sections, each kept as data in `QUERIES`:

- "definitions": `@name.definition.<kind>` on the name node, `@definition` on the whole
  definition (its last line is `end_line`; without it the name stands for the whole, as for C
  typedefs), optionally `@parent` (an explicit enclosing type,
  e.g. a Go method's receiver). `@name.scope` + `@scope` mark a container that is not itself a
  definition (a Rust `impl`, a Swift `extension`): it only gives methods their parent.
- "imports": `@import` on a node whose text is the target (quotes are stripped), or
  `@import.<handler>` on a node a function in `_IMPORT_HANDLERS` reads.
- "skip": comments and string contents. References are counted by a regular expression over
  the source with these ranges cut out, which is several times faster than capturing every
  identifier node (see /work/notes-tmp/symbols-report.md for the numbers).

Post-processing shared by all languages:
- a "function" whose nearest enclosing definition is a class, interface, enum, type or impl is
  a "method"; `parent` is the name of the nearest enclosing definition ("" at top level), so a
  function nested in a function has that function as parent;
- "variable" names in UPPER_CASE become "constant"; "field" captures (class fields) are kept
  only when UPPER_CASE, as "constant";
- a C++ qualified name (`ns::Widget::draw`) is split: name "draw", parent "Widget".

tree_sitter is imported lazily, on the first `extract()` of a code file: importing this module
stays cheap. `extract` never raises; a file it cannot parse yields what the regex alone gives.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from freehold.index.languages import language_for


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str  # class function method interface type enum module constant variable
    line: int  # 1-based line of the name
    end_line: int  # 1-based last line of the whole definition
    parent: str  # enclosing class/impl/module (or function) name, "" at top level


@dataclass(frozen=True, slots=True)
class FileSymbols:
    language: str
    definitions: tuple[Definition, ...]
    references: dict[str, int]
    imports: tuple[str, ...]


MAX_PARSE_BYTES = 1 << 20  # larger files get regex references only
# Lower limits where a grammar leaks: tree-sitter-bash (language pack 0.13.0) keeps about twenty
# times the size of every script it parses (measured: 6 MB for one 276 KB `configure`), so the big
# generated scripts that are its main victims get regex references only.
MAX_PARSE_BYTES_FOR = {"bash": 1 << 16}
# Grammars that are superlinear on hostile input (tree-sitter-scala: 2 s on 16 KB of `{[`, 29 s on
# 64 KB): their parses run under PARSE_BUDGET_SECONDS, at the price of keeping each parsed file in
# memory (see _parse). The others parse from bytes, which cannot be cut short.
BUDGETED_LANGUAGES = frozenset({"scala"})
PARSE_BUDGET_SECONDS = 2.0  # a parse still running after this sees end of input
_BINARY_PROBE = 8192
_IDENTIFIER = re.compile(rb"\b[A-Za-z_]\w+")
_UPPER = re.compile(r"_*[A-Z][A-Z0-9_]*\Z")
_METHOD_CONTAINERS = frozenset({"class", "interface", "enum", "type", "scope"})


# ---------------------------------------------------------------------------------------------
# Queries, one entry per language. Section order matters: definitions, imports, skip.
# When two definition patterns capture the same name, the earlier pattern wins.
# ---------------------------------------------------------------------------------------------

_PYTHON = {
    "definitions": """
        (class_definition name: (identifier) @name.definition.class) @definition
        (function_definition name: (identifier) @name.definition.function) @definition
        (module (assignment left: (identifier) @name.definition.variable) @definition)
        (module (assignment left: (pattern_list (identifier) @name.definition.variable)) @definition)
        (module (type_alias_statement left: (type (identifier) @name.definition.type)) @definition)
    """,
    "imports": """
        (import_statement name: (dotted_name) @import)
        (import_statement name: (aliased_import name: (dotted_name) @import))
        (import_from_statement) @import.python_from
    """,
    "skip": "(comment) @skip (string_start) @skip (string_content) @skip",
}

_JS_DEFINITIONS = """
    (class_declaration name: (_) @name.definition.class) @definition
    (function_declaration name: (identifier) @name.definition.function) @definition
    (generator_function_declaration name: (identifier) @name.definition.function) @definition
    (method_definition name: (_) @name.definition.method) @definition
    (program (lexical_declaration (variable_declarator name: (identifier) @name.definition.function
        value: [(arrow_function) (function_expression) (generator_function)]) @definition))
    (program (export_statement declaration: (lexical_declaration (variable_declarator
        name: (identifier) @name.definition.function
        value: [(arrow_function) (function_expression) (generator_function)]) @definition)))
    (program (variable_declaration (variable_declarator name: (identifier) @name.definition.function
        value: [(arrow_function) (function_expression) (generator_function)]) @definition))
    (program (lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition))
    (program (export_statement declaration: (lexical_declaration (variable_declarator
        name: (identifier) @name.definition.variable) @definition)))
    (program (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition))
"""

_TS_DEFINITIONS = """
    (abstract_class_declaration name: (_) @name.definition.class) @definition
    (interface_declaration name: (_) @name.definition.interface) @definition
    (type_alias_declaration name: (_) @name.definition.type) @definition
    (enum_declaration name: (_) @name.definition.enum) @definition
    (internal_module name: (identifier) @name.definition.module) @definition
    (function_signature name: (identifier) @name.definition.function) @definition
    (method_signature name: (_) @name.definition.method) @definition
    (abstract_method_signature name: (_) @name.definition.method) @definition
"""

_JS_IMPORTS = """
    (import_statement source: (string (string_fragment) @import))
    (export_statement source: (string (string_fragment) @import))
    (call_expression function: (identifier) @_require
        arguments: (arguments . (string (string_fragment) @import)) (#eq? @_require "require"))
    (call_expression function: (import) arguments: (arguments . (string (string_fragment) @import)))
"""

_JS_SKIP = "(comment) @skip (string) @skip (template_string (string_fragment) @skip) (regex) @skip"

_JAVASCRIPT = {
    "definitions": _JS_DEFINITIONS,
    "imports": _JS_IMPORTS,
    "skip": _JS_SKIP + " (jsx_text) @skip",
}

_TYPESCRIPT = {
    "definitions": _TS_DEFINITIONS + _JS_DEFINITIONS,
    "imports": _JS_IMPORTS + "(import_require_clause source: (string (string_fragment) @import))",
    "skip": _JS_SKIP,
}

_TSX = dict(_TYPESCRIPT, skip=_JS_SKIP + " (jsx_text) @skip")

_GO = {
    "definitions": """
        (function_declaration name: (identifier) @name.definition.function) @definition
        (method_declaration
            receiver: (parameter_list (parameter_declaration type: [
                (type_identifier) @parent
                (pointer_type (type_identifier) @parent)
                (generic_type type: (type_identifier) @parent)
                (pointer_type (generic_type type: (type_identifier) @parent))]))
            name: (field_identifier) @name.definition.method) @definition
        (type_spec name: (type_identifier) @name.definition.class type: (struct_type)) @definition
        (type_spec name: (type_identifier) @name.definition.interface type: (interface_type)) @definition
        (type_spec name: (type_identifier) @name.definition.type) @definition
        (type_alias name: (type_identifier) @name.definition.type) @definition
        (method_elem name: (field_identifier) @name.definition.method) @definition
        (const_spec name: (identifier) @name.definition.constant) @definition
        (source_file (var_declaration (var_spec name: (identifier) @name.definition.variable) @definition))
        (source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name.definition.variable) @definition)))
    """,
    "imports": """
        (import_spec path: (interpreted_string_literal (interpreted_string_literal_content) @import))
        (import_spec path: (raw_string_literal) @import)
    """,
    "skip": """
        (comment) @skip (interpreted_string_literal) @skip (raw_string_literal) @skip (rune_literal) @skip
    """,
}

_RUST = {
    "definitions": """
        (struct_item name: (type_identifier) @name.definition.class) @definition
        (union_item name: (type_identifier) @name.definition.class) @definition
        (enum_item name: (type_identifier) @name.definition.enum) @definition
        (trait_item name: (type_identifier) @name.definition.interface) @definition
        (type_item name: (type_identifier) @name.definition.type) @definition
        (function_item name: (identifier) @name.definition.function) @definition
        (function_signature_item name: (identifier) @name.definition.function) @definition
        (mod_item name: (identifier) @name.definition.module) @definition
        (const_item name: (identifier) @name.definition.constant) @definition
        (static_item name: (identifier) @name.definition.constant) @definition
        (macro_definition name: (identifier) @name.definition.function) @definition
        (impl_item type: [
            (type_identifier) @name.scope
            (generic_type type: (type_identifier) @name.scope)
            (scoped_type_identifier name: (type_identifier) @name.scope)]) @scope
    """,
    "imports": """
        (use_declaration argument: (_) @import.rust_use)
        (mod_item name: (identifier) @import.rust_mod !body)
    """,
    "skip": """
        (line_comment) @skip (block_comment) @skip (string_literal) @skip
        (raw_string_literal) @skip (char_literal) @skip
    """,
}

_JAVA = {
    "definitions": """
        (class_declaration name: (identifier) @name.definition.class) @definition
        (record_declaration name: (identifier) @name.definition.class) @definition
        (interface_declaration name: (identifier) @name.definition.interface) @definition
        (annotation_type_declaration name: (identifier) @name.definition.interface) @definition
        (enum_declaration name: (identifier) @name.definition.enum) @definition
        (method_declaration name: (identifier) @name.definition.method) @definition
        (constructor_declaration name: (identifier) @name.definition.method) @definition
        (field_declaration declarator: (variable_declarator name: (identifier) @name.definition.field)) @definition
        (constant_declaration declarator: (variable_declarator name: (identifier) @name.definition.field)) @definition
    """,
    "imports": "(import_declaration [(scoped_identifier) (identifier)] @import)",
    "skip": """
        (line_comment) @skip (block_comment) @skip (string_literal) @skip (character_literal) @skip
    """,
}

_C_DEFINITIONS = """
    (function_definition declarator: (function_declarator
        declarator: {name} @name.definition.function)) @definition
    (function_definition declarator: (_ declarator: (function_declarator
        declarator: {name} @name.definition.function))) @definition
    (function_definition declarator: (_ declarator: (_ declarator: (function_declarator
        declarator: {name} @name.definition.function)))) @definition
    (declaration declarator: (function_declarator
        declarator: {name} @name.definition.function)) @definition
    (declaration declarator: (_ declarator: (function_declarator
        declarator: {name} @name.definition.function))) @definition
    (field_declaration declarator: (function_declarator
        declarator: {name} @name.definition.function)) @definition
    (struct_specifier name: (type_identifier) @name.definition.class body: (_)) @definition
    (union_specifier name: (type_identifier) @name.definition.class body: (_)) @definition
    (enum_specifier name: (type_identifier) @name.definition.enum body: (_)) @definition
    (type_definition declarator: (type_identifier) @name.definition.type)
    (type_definition declarator: (_ declarator: (type_identifier) @name.definition.type))
    (preproc_def name: (identifier) @name.definition.constant value: (_)) @definition
    (preproc_function_def name: (identifier) @name.definition.function) @definition
    (translation_unit (declaration declarator: (identifier) @name.definition.variable) @definition)
    (translation_unit (declaration declarator: (init_declarator
        declarator: (identifier) @name.definition.variable)) @definition)
    (translation_unit (declaration declarator: (init_declarator
        declarator: (_ declarator: (identifier) @name.definition.variable))) @definition)
"""

_C_IMPORTS = """
    (preproc_include path: (string_literal (string_content) @import))
    (preproc_include path: (system_lib_string) @import)
"""

_C = {
    "definitions": _C_DEFINITIONS.format(name="[(identifier) (field_identifier)]"),
    "imports": _C_IMPORTS,
    "skip": "(comment) @skip (string_literal) @skip (char_literal) @skip (system_lib_string) @skip",
}

_CPP = {
    "definitions": """
        (class_specifier name: (type_identifier) @name.definition.class body: (_)) @definition
        (namespace_definition name: (_) @name.definition.module) @definition
        (alias_declaration name: (type_identifier) @name.definition.type) @definition
        (concept_definition name: (identifier) @name.definition.type) @definition
        (namespace_definition body: (declaration_list
            (declaration declarator: (init_declarator
                declarator: (identifier) @name.definition.variable)) @definition))
    """ + _C_DEFINITIONS.format(
        name="[(identifier) (field_identifier) (qualified_identifier) (operator_name) (destructor_name)]"
    ),
    "imports": _C_IMPORTS,
    "skip": _C["skip"] + " (raw_string_literal) @skip",
}

_CSHARP = {
    "definitions": """
        (class_declaration name: (identifier) @name.definition.class) @definition
        (struct_declaration name: (identifier) @name.definition.class) @definition
        (record_declaration name: (identifier) @name.definition.class) @definition
        (interface_declaration name: (identifier) @name.definition.interface) @definition
        (enum_declaration name: (identifier) @name.definition.enum) @definition
        (delegate_declaration name: (identifier) @name.definition.type) @definition
        (namespace_declaration name: (_) @name.definition.module) @definition
        (file_scoped_namespace_declaration name: (_) @name.definition.module) @definition
        (method_declaration name: (identifier) @name.definition.method) @definition
        (constructor_declaration name: (identifier) @name.definition.method) @definition
        (field_declaration (modifier) @_const (variable_declaration (variable_declarator
            name: (identifier) @name.definition.constant)) (#eq? @_const "const")) @definition
    """,
    "imports": "(using_directive) @import.csharp_using",
    "skip": """
        (comment) @skip (string_literal) @skip (verbatim_string_literal) @skip
        (raw_string_literal) @skip (character_literal) @skip (string_content) @skip
    """,
}

_RUBY = {
    "definitions": """
        (class name: [(constant) (scope_resolution)] @name.definition.class) @definition
        (module name: [(constant) (scope_resolution)] @name.definition.module) @definition
        (method name: (_) @name.definition.function) @definition
        (singleton_method name: (_) @name.definition.method) @definition
        (assignment left: (constant) @name.definition.constant) @definition
    """,
    "imports": """
        (call method: (identifier) @_require arguments: (argument_list . (string (string_content) @import))
            (#eq? @_require "require"))
        (call method: (identifier) @_require arguments: (argument_list . (string (string_content) @import.relative))
            (#eq? @_require "require_relative"))
    """,
    "skip": "(comment) @skip (string_content) @skip (heredoc_content) @skip",
}

_PHP = {
    "definitions": """
        (class_declaration name: (name) @name.definition.class) @definition
        (trait_declaration name: (name) @name.definition.class) @definition
        (interface_declaration name: (name) @name.definition.interface) @definition
        (enum_declaration name: (name) @name.definition.enum) @definition
        (namespace_definition name: (namespace_name) @name.definition.module body: (_)) @definition
        (method_declaration name: (name) @name.definition.method) @definition
        (function_definition name: (name) @name.definition.function) @definition
        (const_element (name) @name.definition.constant) @definition
    """,
    "imports": """
        (namespace_use_declaration) @import.php_use
        (require_expression) @import.php_require
        (require_once_expression) @import.php_require
        (include_expression) @import.php_require
        (include_once_expression) @import.php_require
    """,
    "skip": "(comment) @skip (string_content) @skip (text) @skip (heredoc_body) @skip (nowdoc_body) @skip",
}

_KOTLIN = {
    "definitions": """
        (class_declaration "interface" (type_identifier) @name.definition.interface) @definition
        (class_declaration (type_identifier) @name.definition.enum (enum_class_body)) @definition
        (class_declaration (type_identifier) @name.definition.class) @definition
        (object_declaration (type_identifier) @name.definition.class) @definition
        (type_alias (type_identifier) @name.definition.type) @definition
        (function_declaration (simple_identifier) @name.definition.function) @definition
        (source_file (property_declaration (modifiers (property_modifier) @_const)
            (variable_declaration (simple_identifier) @name.definition.constant)) @definition
            (#eq? @_const "const"))
        (source_file (property_declaration
            (variable_declaration (simple_identifier) @name.definition.variable)) @definition)
    """,
    "imports": "(import_header (identifier) @import)",
    "skip": "(line_comment) @skip (multiline_comment) @skip (string_content) @skip (character_literal) @skip",
}

_SWIFT = {
    "definitions": """
        (class_declaration "enum" name: (type_identifier) @name.definition.enum) @definition
        (class_declaration "extension" name: (user_type (type_identifier) @name.scope)) @scope
        (class_declaration name: (type_identifier) @name.definition.class) @definition
        (protocol_declaration name: (type_identifier) @name.definition.interface) @definition
        (typealias_declaration name: (type_identifier) @name.definition.type) @definition
        (function_declaration name: (simple_identifier) @name.definition.function) @definition
        (protocol_function_declaration name: (simple_identifier) @name.definition.method) @definition
        (init_declaration "init" @name.definition.method) @definition
        (source_file (property_declaration
            name: (pattern bound_identifier: (simple_identifier) @name.definition.variable)) @definition)
    """,
    "imports": "(import_declaration (identifier) @import)",
    "skip": """
        (comment) @skip (multiline_comment) @skip (line_str_text) @skip (multi_line_str_text) @skip
    """,
}

_SCALA = {
    "definitions": """
        (class_definition name: (identifier) @name.definition.class) @definition
        (object_definition name: (identifier) @name.definition.class) @definition
        (trait_definition name: (identifier) @name.definition.interface) @definition
        (enum_definition name: (identifier) @name.definition.enum) @definition
        (type_definition name: (type_identifier) @name.definition.type) @definition
        (function_definition name: (identifier) @name.definition.function) @definition
        (function_declaration name: (identifier) @name.definition.function) @definition
        (compilation_unit (val_definition pattern: (identifier) @name.definition.variable) @definition)
        (compilation_unit (var_definition pattern: (identifier) @name.definition.variable) @definition)
    """,
    "imports": "(import_declaration) @import.scala",
    "skip": "(comment) @skip (block_comment) @skip (string) @skip (character_literal) @skip",
}

_BASH = {
    "definitions": """
        (function_definition name: (word) @name.definition.function) @definition
        (program (variable_assignment name: (variable_name) @name.definition.variable) @definition)
        (program (declaration_command (variable_assignment
            name: (variable_name) @name.definition.variable)) @definition)
    """,
    "imports": """
        (command name: (command_name (word) @_source) . argument: [(word) (raw_string)] @import
            (#any-of? @_source "source" "."))
        (command name: (command_name (word) @_source) . argument: (string . (string_content) @import .)
            (#any-of? @_source "source" "."))
    """,
    "skip": "(comment) @skip (string_content) @skip (raw_string) @skip (heredoc_body) @skip",
}

QUERIES: dict[str, dict[str, str]] = {
    "python": _PYTHON, "javascript": _JAVASCRIPT, "typescript": _TYPESCRIPT, "tsx": _TSX,
    "go": _GO, "rust": _RUST, "java": _JAVA, "c": _C, "cpp": _CPP, "csharp": _CSHARP,
    "ruby": _RUBY, "php": _PHP, "kotlin": _KOTLIN, "swift": _SWIFT, "scala": _SCALA, "bash": _BASH,
}

_SECTIONS = ("definitions", "imports", "skip")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_JS_KEYWORDS = """
    break case catch class const continue debugger default delete do else export extends false
    finally for function if import in instanceof let new null return super switch this throw true
    try typeof var void while with yield async await static of get set undefined from as
"""
_C_KEYWORDS = """
    auto break case char const continue default do double else enum extern float for goto if inline
    int long register restrict return short signed sizeof static struct switch typedef union
    unsigned void volatile while bool true false NULL
    define include ifdef ifndef endif undef pragma defined elif
"""

KEYWORDS: dict[str, frozenset[str]] = {
    "python": _words("""
        False None True and as assert async await break class continue def del elif else except
        finally for from global if import in is lambda nonlocal not or pass raise return try while
        with yield
    """),
    "javascript": _words(_JS_KEYWORDS),
    "typescript": _words(_JS_KEYWORDS + """
        interface type enum implements private protected public readonly abstract declare namespace
        module keyof infer is as any unknown never number string boolean symbol object satisfies
    """),
    "tsx": frozenset(),  # filled in below: the same as typescript
    "go": _words("""
        break case chan const continue default defer else fallthrough for func go goto if import
        interface map package range return select struct switch type var nil true false iota
    """),
    "rust": _words("""
        as async await break const continue crate dyn else enum extern false fn for if impl in let
        loop match mod move mut pub ref return self Self static struct super trait true type unsafe
        use where while
    """),
    "java": _words("""
        abstract assert boolean break byte case catch char class const continue default do double
        else enum extends final finally float for goto if implements import instanceof int interface
        long native new package private protected public return short static strictfp super switch
        synchronized this throw throws transient try void volatile while true false null var record
        yield sealed permits
    """),
    "c": _words(_C_KEYWORDS),
    "cpp": _words(_C_KEYWORDS + """
        alignas alignof and asm catch class constexpr consteval constinit decltype delete explicit
        export friend mutable namespace new noexcept not nullptr operator or private protected public
        static_assert template this thread_local throw try typeid typename using virtual override final
        concept requires co_await co_return co_yield
    """),
    "csharp": _words("""
        abstract as base bool break byte case catch char checked class const continue decimal default
        delegate do double else enum event explicit extern false finally fixed float for foreach goto
        if implicit in int interface internal is lock long namespace new null object operator out
        override params private protected public readonly ref return sbyte sealed short sizeof
        stackalloc static string struct switch this throw true try typeof uint ulong unchecked unsafe
        ushort using virtual void volatile while var async await get set record init
        region endregion pragma define undef endif nullable
    """),
    "ruby": _words("""
        BEGIN END alias and begin break case class def defined do else elsif end ensure false for if
        in module next nil not or redo rescue retry return self super then true undef unless until
        when while yield __FILE__ __LINE__ __method__
    """),
    "php": _words("""
        abstract and array as break callable case catch class clone const continue declare default do
        echo else elseif empty enddeclare endfor endforeach endif endswitch endwhile enum extends
        final finally fn for foreach function global goto if implements include include_once
        instanceof insteadof interface isset list match namespace new or print private protected
        public readonly require require_once return static switch throw trait try unset use var while
        xor yield null true false self parent this php
    """),
    "kotlin": _words("""
        as break class continue do else false for fun if in interface is null object package return
        super this throw true try typealias typeof val var when while by catch constructor finally
        get import init set where const data enum companion override open private protected public
        internal abstract sealed inner lateinit suspend
    """),
    "swift": _words("""
        associatedtype class deinit enum extension fileprivate func import init inout internal let
        open operator private protocol public rethrows static struct subscript typealias var break
        case continue default defer do else fallthrough for guard if in repeat return switch where
        while as catch false is nil self Self super throw throws true try async await actor some any
        override mutating final lazy weak
    """),
    "scala": _words("""
        abstract case catch class def do else extends false final finally for forSome if implicit
        import lazy match new null object override package private protected return sealed super this
        throw trait try true type val var while with yield given using enum then export
    """),
    "bash": _words("""
        if then else elif fi case esac for select while until do done in function time coproc
        declare typeset local export readonly unset return exit source echo
    """),
}

KEYWORDS["tsx"] = KEYWORDS["typescript"]


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------


def extract(path: str, source: bytes) -> FileSymbols:
    """The symbols of `source` (the file at `path`). Never raises."""
    if not isinstance(source, bytes):
        try:
            source = bytes(source)  # bytearray, memoryview
        except Exception:  # noqa: BLE001 - extract never raises
            source = b""
    try:
        language = language_for(path, source[:_BINARY_PROBE]) or ""
    except Exception:  # noqa: BLE001 - extract never raises
        language = ""
    try:
        return _extract(language, source)
    except Exception:  # noqa: BLE001 - extract never raises
        return _regex_only(language, source)


def _extract(language: str, source: bytes) -> FileSymbols:
    if language not in QUERIES or not source or b"\0" in source[:_BINARY_PROBE]:
        return FileSymbols(language, (), {}, ())
    if len(source) > MAX_PARSE_BYTES_FOR.get(language, MAX_PARSE_BYTES):
        return _regex_only(language, source)
    compiled = _compiled(language)
    tree = _parse(compiled, source)
    raw, imports, skips = _run_query(compiled, tree, source)
    definitions = _definitions(raw)
    references = _references(source, skips, KEYWORDS[language], definitions)
    return FileSymbols(language, definitions, references, tuple(dict.fromkeys(imports)))


def _regex_only(language: str, source: bytes) -> FileSymbols:
    try:
        if not isinstance(source, bytes) or b"\0" in source[:_BINARY_PROBE]:
            return FileSymbols(language, (), {}, ())
        references = _references(source, [], KEYWORDS.get(language, frozenset()), ())
        return FileSymbols(language, (), references, ())
    except Exception:  # noqa: BLE001 - extract never raises
        return FileSymbols(language, (), {}, ())


# ---------------------------------------------------------------------------------------------
# Parsing and querying (tree_sitter is imported here, never at module import)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    language: Any  # tree_sitter.Language
    query: Any  # tree_sitter.Query
    roles: tuple[str, ...]  # the section of each pattern, by pattern index


_COMPILED: dict[str, _Compiled] = {}
_COMPILE_LOCK = threading.Lock()
_LOCAL = threading.local()  # parsers are not thread-safe: one per thread and language


def _compiled(language: str) -> _Compiled:
    found = _COMPILED.get(language)
    if found is None:
        with _COMPILE_LOCK:
            found = _COMPILED.get(language) or _compile(language)
            _COMPILED[language] = found
    return found


def _compile(language: str) -> _Compiled:
    from tree_sitter import Query
    from tree_sitter_language_pack import get_language

    grammar = get_language(language)
    sections = QUERIES[language]
    roles: list[str] = []
    for section in _SECTIONS:
        roles += [section] * Query(grammar, sections[section]).pattern_count
    query = Query(grammar, "\n".join(sections[section] for section in _SECTIONS))
    return _Compiled(language, grammar, query, tuple(roles))


def _parse(compiled: _Compiled, source: bytes) -> Any:
    """Parse `source`. For BUDGETED_LANGUAGES, a parse still running after the budget is abandoned
    (ValueError: the caller falls back to regex references)."""
    parsers = getattr(_LOCAL, "parsers", None)
    if parsers is None:
        parsers = _LOCAL.parsers = {}
    parser = parsers.get(id(compiled))
    if parser is None:
        from tree_sitter import Parser

        parser = parsers[id(compiled)] = Parser(compiled.language)
    if compiled.name not in BUDGETED_LANGUAGES:
        return parser.parse(source)
    deadline = time.perf_counter() + PARSE_BUDGET_SECONDS

    # Only a parse fed by a read callback can be cancelled (progress_callback is ignored for a
    # bytestring), and the 0.26 binding never releases what a read callback returns: each file
    # parsed so stays in memory (measured). So only grammars that need the budget are fed that way.
    def read(offset: int, _point: Any) -> bytes:
        return source if offset == 0 else source[offset:]

    return parser.parse(read, progress_callback=lambda *_: time.perf_counter() > deadline)


def _run_query(compiled: _Compiled, tree: Any, source: bytes) -> tuple[list, list[str], list]:
    """One pass of the language's query: raw definitions, imports, and skipped byte ranges."""
    from tree_sitter import QueryCursor

    # No progress_callback here: tree-sitter 0.26.1's binding crashes with one. The query's
    # cost is linear in the tree, which the parse budget already bounds.
    matches = QueryCursor(compiled.query).matches(tree.root_node)
    roles = compiled.roles
    raw: dict[int, tuple] = {}
    imports: list[str] = []
    skips: list[tuple[int, int]] = []
    for index, captures in matches:
        role = roles[index]
        if role == "skip":
            node = captures["skip"][0]
            skips.append((node.start_byte, node.end_byte))
        elif role == "definitions":
            _add_raw_definition(raw, index, captures, source)
        else:
            imports.extend(_imports_of(captures, source))
    return sorted(raw.values(), key=lambda item: item[:3]), imports, skips


# ---------------------------------------------------------------------------------------------
# Definitions
# ---------------------------------------------------------------------------------------------


def _add_raw_definition(raw: dict[int, tuple], index: int, captures: dict, source: bytes) -> None:
    """Record one definition match as (start, -end, pattern, kind, name, line, end_line, parent)."""
    kind = name_node = None
    for key, nodes in captures.items():
        if key.startswith("name."):
            kind, name_node = key.rsplit(".", 1)[1], nodes[0]
    if name_node is None:
        return
    key = name_node.start_byte
    if key in raw and raw[key][2] <= index:
        return
    whole = (captures.get("definition") or captures.get("scope") or [name_node])[0]
    parent = _text(captures["parent"][0], source) if "parent" in captures else None
    end_row = whole.end_point.row
    if whole.end_point.column == 0 and end_row > whole.start_point.row:
        end_row -= 1  # the node ends with its line break
    name, line = _text(name_node, source), name_node.start_point.row + 1
    raw[key] = (whole.start_byte, -whole.end_byte, index, kind, name, line, end_row + 1, parent)


def _definitions(raw: list[tuple]) -> tuple[Definition, ...]:
    """Definitions in source order, with parents from nesting and kinds settled."""
    stack: list[tuple[int, int, str, str]] = []  # (start, end, name, kind) of enclosing ones
    classes = {item[4] for item in raw if item[3] in _METHOD_CONTAINERS}
    result: list[Definition] = []
    for start, neg_end, _index, kind, name, line, end_line, parent in raw:
        while stack and (stack[-1][1] <= start or stack[-1][:2] == (start, -neg_end)):
            stack.pop()  # ended before this one, or the same node (`a, b = 1, 2`)
        enclosing_kind = stack[-1][3] if stack else ""
        if parent is None:
            parent = stack[-1][2] if stack else ""
        elif parent:
            enclosing_kind = "class"
        definition = _settle(name, kind, line, end_line, parent, enclosing_kind, classes)
        if definition is not None:
            result.append(definition)
            stack.append((start, -neg_end, definition.name, kind))
        elif kind == "scope":
            stack.append((start, -neg_end, name, kind))
    return tuple(result)


def _settle(name: str, kind: str, line: int, end_line: int, parent: str, enclosing_kind: str,
            classes: set[str]) -> Definition | None:
    """The final Definition for one raw match, or None for a dropped or scope-only match."""
    if kind == "scope":
        return None
    if "::" in name:
        parts = [re.sub(r"<.*", "", part).strip() for part in name.split("::")]
        name, parent = parts[-1], parts[-2] or parent
        if parent in classes or parent[:1].isupper() or parent == name or name.startswith("~"):
            enclosing_kind = "class"
    if kind == "function" and enclosing_kind in _METHOD_CONTAINERS:
        kind = "method"
    elif kind in ("variable", "field"):
        if _UPPER.match(name):
            kind = "constant"
        elif kind == "field":
            return None
    if not name:
        return None
    return Definition(name, kind, line, max(end_line, line), parent)


def _text(node: Any, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def _references(source: bytes, skips: list[tuple[int, int]], keywords: frozenset[str],
                definitions: tuple[Definition, ...] | tuple) -> dict[str, int]:
    """Identifier counts outside comments and strings, minus keywords and definition names."""
    counts = Counter(_IDENTIFIER.findall(_without(source, skips) if skips else source))
    references = {word.decode("ascii"): count for word, count in counts.items()}
    for keyword in keywords:
        references.pop(keyword, None)
    for definition in definitions:
        for word in _IDENTIFIER.findall(definition.name.encode()):
            _discount(references, word.decode("ascii"))
    return references


def _discount(references: dict[str, int], word: str) -> None:
    count = references.get(word)
    if count is not None:
        if count > 1:
            references[word] = count - 1
        else:
            del references[word]


def _without(source: bytes, skips: list[tuple[int, int]]) -> bytes:
    """`source` with the skipped ranges cut out (a line break in each cut keeps words apart)."""
    skips.sort()
    parts: list[bytes] = []
    position = 0
    for start, end in skips:
        if start > position:
            parts.append(source[position:start])
        position = max(position, end)
    parts.append(source[position:])
    return b"\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------------


def _imports_of(captures: dict, source: bytes) -> list[str]:
    found: list[str] = []
    for key, nodes in captures.items():
        if key == "import":
            found += [_unquote(_text(node, source)) for node in nodes]
        elif key.startswith("import."):
            handler = _IMPORT_HANDLERS[key[len("import."):]]
            for node in nodes:
                found += handler(node, source)
    return [item for item in found if item]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return text


def _python_from(node: Any, source: bytes) -> list[str]:
    """`from M import a, b as c` -> "M", "M.a", "M.b"; relative modules keep their dots."""
    module_node = node.child_by_field_name("module_name")
    if module_node is None:
        return []
    module = "".join(_text(module_node, source).split())
    found = [module]
    for name_node in node.children_by_field_name("name"):
        if name_node.type == "aliased_import":
            name_node = name_node.child_by_field_name("name") or name_node
        name = _text(name_node, source)
        found.append(module + name if module.endswith(".") else f"{module}.{name}")
    return found


def _rust_use(node: Any, source: bytes) -> list[str]:
    """`use a::{b, c::d as e, self}` -> "a::b", "a::c::d", "a"; `a::*` -> "a"."""
    kind = node.type
    if kind == "use_as_clause":
        path = node.child_by_field_name("path")
        return _rust_use(path, source) if path is not None else []
    if kind == "use_wildcard":
        inner = [child for child in node.named_children]
        return [_text(inner[0], source)] if inner else []
    if kind == "use_list":
        return [item for child in node.named_children for item in _rust_use(child, source)]
    if kind == "scoped_use_list":
        path_node = node.child_by_field_name("path")
        prefix = _text(path_node, source) if path_node is not None else ""
        list_node = node.child_by_field_name("list")
        items = _rust_use(list_node, source) if list_node is not None else []
        return [prefix if item == "self" else f"{prefix}::{item}" if prefix else item for item in items]
    return ["".join(_text(node, source).split())]


def _rust_mod(node: Any, source: bytes) -> list[str]:
    return ["mod:" + _text(node, source)]


def _relative(node: Any, source: bytes) -> list[str]:
    return ["relative:" + _text(node, source)]


def _csharp_using(node: Any, source: bytes) -> list[str]:
    """`using A.B;`, `using static A.B;` -> "A.B"; the alias of `using X = A.B;` is not a target."""
    alias = node.child_by_field_name("name")
    for child in node.named_children:
        if child.type in ("qualified_name", "identifier") and (alias is None or child.id != alias.id):
            return [_text(child, source)]
    return []


def _php_use(node: Any, source: bytes) -> list[str]:
    """`use A\\B;`, `use A\\{B, C};` -> "A\\B", "A\\C" (leading backslashes dropped)."""
    prefix = ""
    clauses = []
    for child in node.named_children:
        if child.type == "namespace_name":
            prefix = _text(child, source)
        elif child.type == "namespace_use_clause":
            clauses.append(child)
        elif child.type == "namespace_use_group":
            clauses += [c for c in child.named_children if c.type == "namespace_use_clause"]
    found = []
    for clause in clauses:
        target = next((c for c in clause.named_children if c.type in ("qualified_name", "name")), None)
        if target is not None:
            name = _text(target, source)
            found.append((f"{prefix}\\{name}" if prefix else name).lstrip("\\"))
    return found


def _php_require(node: Any, source: bytes) -> list[str]:
    """A require/include of a string literal, or of `__DIR__ . 'literal'`."""
    target = node.named_children[0] if node.named_children else None
    while target is not None and target.type == "parenthesized_expression" and target.named_children:
        target = target.named_children[0]
    if target is None:
        return []
    if target.type in ("string", "encapsed_string"):
        return [_unquote(_text(target, source))]
    if target.type == "binary_expression":
        left, right = target.child_by_field_name("left"), target.child_by_field_name("right")
        if (left is not None and right is not None and right.type in ("string", "encapsed_string")
                and _text(left, source) in ("__DIR__", "dirname(__FILE__)")):
            return ["__DIR__" + _unquote(_text(right, source))]
    return []


def _scala(node: Any, source: bytes) -> list[str]:
    """`import a.b.{C, D => E}` -> "a.b.C", "a.b.D"; `import a.b._` -> "a.b"."""
    path = ".".join(_text(c, source) for c in node.children_by_field_name("path") if c.is_named)
    selectors = [child for child in node.named_children if child.type == "namespace_selectors"]
    if not selectors:
        return [path]
    found = []
    for child in selectors[0].named_children:
        if child.type == "identifier":
            found.append(f"{path}.{_text(child, source)}")
        elif child.type.endswith("renamed_identifier"):
            name = child.child_by_field_name("name")
            if name is not None:
                found.append(f"{path}.{_text(name, source)}")
    return found or [path]


_IMPORT_HANDLERS: dict[str, Callable[[Any, bytes], list[str]]] = {
    "python_from": _python_from,
    "rust_use": _rust_use,
    "rust_mod": _rust_mod,
    "relative": _relative,
    "csharp_using": _csharp_using,
    "php_use": _php_use,
    "php_require": _php_require,
    "scala": _scala,
}
