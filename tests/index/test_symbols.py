"""Symbol extraction: definitions, references and imports for every supported language, and
`extract` staying calm on input that is not code at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from freehold.index import symbols
from freehold.index.languages import language_for
from freehold.index.symbols import Definition, FileSymbols, extract


def code(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode()


def defs(found: FileSymbols) -> set[tuple[str, str, int, str]]:
    """(kind, name, line, parent) of every definition."""
    return {(d.kind, d.name, d.line, d.parent) for d in found.definitions}


def by_name(found: FileSymbols, name: str) -> Definition:
    return next(d for d in found.definitions if d.name == name)


# ------------------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    "path, head, expected",
    [
        ("src/app.py", None, "python"),
        ("a/b/widget.JSX", None, "javascript"),
        ("lib/x.mjs", None, "javascript"),
        ("lib/x.cjs", None, "javascript"),
        ("ui/App.tsx", None, "tsx"),
        ("ui/api.ts", None, "typescript"),
        ("main.go", None, "go"),
        ("lib.rs", None, "rust"),
        ("A.java", None, "java"),
        ("x.c", None, "c"),
        ("x.cc", None, "cpp"),
        ("x.hpp", None, "cpp"),
        ("x.h", None, "c"),
        ("x.h", b"#pragma once\nnamespace app {\n", "cpp"),
        ("x.h", b"#include <vector>\nstd::vector<int> v;\n", "cpp"),
        ("x.h", b"struct point { int x; };\n", "c"),
        ("Program.cs", None, "csharp"),
        ("x.rb", None, "ruby"),
        ("Rakefile", None, "ruby"),
        ("index.php", None, "php"),
        ("Main.kt", None, "kotlin"),
        ("View.swift", None, "swift"),
        ("Main.scala", None, "scala"),
        ("install.sh", None, "bash"),
        ("README.md", None, "text"),
        ("pyproject.toml", None, "text"),
        ("config.yaml", None, "text"),
        ("Makefile", None, "text"),
        ("Dockerfile", None, "text"),
        ("docs/conf.cfg", None, "text"),
        ("query.sql", None, "text"),
        ("script.lua", None, "text"),
        ("logo.png", None, None),
        ("archive.tar.gz", None, None),
        ("bin/tool", None, None),
        ("bin/tool", b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("bin/tool", b"#!/bin/bash\necho hi\n", "bash"),
        ("bin/tool", b"#!/usr/bin/env -S node --harmony\n", "javascript"),
        ("bin/tool", b"#!/usr/bin/perl\n", "text"),
        ("bin/tool", b"\x7fELF\x02\x01", None),
    ],
)
def test_language_for(path, head, expected):
    assert language_for(path, head) == expected


# ---------------------------------------------------------------------------------------- python

PYTHON = code('''
    """Module docstring mentions GhostInDoc."""
    import os.path as osp, sys
    from ..pkg.sub import thing as alias, other
    from . import sibling
    from typing import (
        Any,
        Optional,
    )

    MAX_DEPTH = 3
    __all__ = ["Engine"]
    a, b = 1, 2

    @decorator
    class Engine(Base):
        """Docstring with GhostWord."""
        speed = 10

        def start(self, fuel):
            # comment ghostComment
            def inner():
                return fuel
            return run(self.speed, inner, f"{fuel_label} text")

        async def stop(self):
            pass

    def run(*args):
        return helper(args)
''')


def test_python_definitions():
    found = extract("pkg/engine.py", PYTHON)
    assert found.language == "python"
    assert defs(found) == {
        ("constant", "MAX_DEPTH", 10, ""),
        ("variable", "__all__", 11, ""),
        ("variable", "a", 12, ""),
        ("variable", "b", 12, ""),
        ("class", "Engine", 15, ""),
        ("method", "start", 19, "Engine"),
        ("function", "inner", 21, "start"),
        ("method", "stop", 25, "Engine"),
        ("function", "run", 28, ""),
    }
    assert by_name(found, "Engine").end_line == 26
    assert by_name(found, "start").end_line == 23
    assert [d.name for d in found.definitions][:3] == ["MAX_DEPTH", "__all__", "a"]  # source order


def test_python_imports():
    found = extract("pkg/engine.py", PYTHON)
    assert found.imports == (
        "os.path", "sys", "..pkg.sub", "..pkg.sub.thing", "..pkg.sub.other",
        ".", ".sibling", "typing", "typing.Any", "typing.Optional",
    )


def test_python_references():
    refs = extract("pkg/engine.py", PYTHON).references
    assert refs["helper"] == 1 and refs["Base"] == 1 and refs["decorator"] == 1
    assert refs["speed"] == 2  # `self.speed`, and `speed = 10` (class attributes are not definitions)
    assert refs["fuel"] == 2 and refs["fuel_label"] == 1  # f-string expressions still count
    assert refs["run"] == 1 and refs["inner"] == 1  # the definitions themselves do not count
    assert "Engine" not in refs and "start" not in refs
    for absent in ("GhostInDoc", "GhostWord", "ghostComment", "text", "def", "return", "class", "a", "b"):
        assert absent not in refs


def test_python_type_alias_and_annotated_assignment():
    found = extract("t.py", b"counter: int = 0\ntype Vector = list[float]\n")
    assert defs(found) == {("variable", "counter", 1, ""), ("type", "Vector", 2, "")}


# ------------------------------------------------------------------------------ javascript / ts

JAVASCRIPT = code("""
    import React, { useState } from "react";
    import * as path from 'path';
    export { foo } from "./foo.js";
    const fs = require("fs");
    const lazy = await import("./lazy.mjs");
    export const MAX_SIZE = 10;
    export default class Widget extends Base {
      constructor(props) { super(props); }
      render() { return helper(this.props.value); }
    }
    function helper(value) { return value * 2; }
    const arrow = (a, b) => a + b;
    // comment mentions ghostName
    const s = `template ${interp} text`;
""")


def test_javascript():
    found = extract("src/widget.jsx", JAVASCRIPT)
    assert found.language == "javascript"
    assert {
        ("class", "Widget", 7, ""),
        ("method", "constructor", 8, "Widget"),
        ("method", "render", 9, "Widget"),
        ("function", "helper", 11, ""),
        ("function", "arrow", 12, ""),
        ("constant", "MAX_SIZE", 6, ""),
        ("variable", "fs", 4, ""),
    } <= defs(found)
    assert by_name(found, "Widget").end_line == 10
    assert found.imports == ("react", "path", "./foo.js", "fs", "./lazy.mjs")
    refs = found.references
    assert refs["helper"] == 1 and refs["props"] == 3 and refs["interp"] == 1 and refs["Base"] == 1
    for absent in ("ghostName", "template", "text", "const", "this", "from"):
        assert absent not in refs


TYPESCRIPT = code("""
    import type { Foo } from "./types";
    import fs = require("fs");
    export interface Shape { area(): number; name: string }
    export type Id = string | number;
    enum Color { Red, Green }
    abstract class Circle implements Shape {
      area(): number { return Math.PI * this.r; }
    }
    namespace Geo { export function dist(): number { return 0; } }
    export function make<T>(x: T): T { return x; }
""")


def test_typescript():
    found = extract("src/shapes.ts", TYPESCRIPT)
    assert found.language == "typescript"
    assert defs(found) == {
        ("interface", "Shape", 3, ""),
        ("method", "area", 3, "Shape"),
        ("type", "Id", 4, ""),
        ("enum", "Color", 5, ""),
        ("class", "Circle", 6, ""),
        ("method", "area", 7, "Circle"),
        ("module", "Geo", 9, ""),
        ("function", "dist", 9, "Geo"),
        ("function", "make", 10, ""),
    }
    assert found.imports == ("./types", "fs")
    assert found.references["Shape"] == 1 and found.references["Math"] == 1


def test_tsx():
    source = code("""
        import { Button } from "./button";
        interface Props { label: string }
        export function App(props: Props) { return <Button onClick={handleClick}>Hello there</Button>; }
        class Page extends React.Component<Props> { render() { return <App label="a" />; } }
    """)
    found = extract("ui/App.tsx", source)
    assert found.language == "tsx"
    assert defs(found) == {
        ("interface", "Props", 2, ""),
        ("function", "App", 3, ""),
        ("class", "Page", 4, ""),
        ("method", "render", 4, "Page"),
    }
    assert found.imports == ("./button",)
    assert found.references["handleClick"] == 1 and found.references["Button"] == 3  # import, open and close tags
    assert "Hello" not in found.references and "there" not in found.references


# ------------------------------------------------------------------------------------------- go

GO = code("""
    package server

    import (
    \t"fmt"
    \tlog "github.com/sirupsen/logrus"
    )
    import "os"

    const MaxConns = 10
    var DefaultName = "x"

    type Server struct {
    \tName string
    }

    type Handler interface {
    \tServe(req *Request) error
    }

    type ID int

    func (s *Server) Start(port int) error {
    \tfmt.Println(s.Name) // prints ghostWord
    \treturn helper(port)
    }

    func helper(p int) error { return nil }
""")


def test_go():
    found = extract("server/server.go", GO)
    assert defs(found) == {
        ("constant", "MaxConns", 9, ""),
        ("variable", "DefaultName", 10, ""),
        ("class", "Server", 12, ""),
        ("interface", "Handler", 16, ""),
        ("method", "Serve", 17, "Handler"),
        ("type", "ID", 20, ""),
        ("method", "Start", 22, "Server"),
        ("function", "helper", 27, ""),
    }
    assert by_name(found, "Start").end_line == 25
    assert found.imports == ("fmt", "github.com/sirupsen/logrus", "os")
    refs = found.references
    assert refs["Println"] == 1 and refs["Request"] == 1 and refs["helper"] == 1 and refs["Name"] == 2
    assert "ghostWord" not in refs and "func" not in refs and "return" not in refs


# ----------------------------------------------------------------------------------------- rust

RUST = code("""
    use std::io::{self, Read};
    use crate::config::Config;
    use super::util::*;
    use std::collections::HashMap as Map;
    mod network;
    pub mod inner { pub fn nested() {} }

    pub const MAX: usize = 8;
    pub struct Point { x: i32, y: i32 }
    pub enum Shape { Circle(f64), Square }
    pub trait Draw { fn draw(&self); }
    type Alias = Vec<Point>;

    impl Point {
        pub fn new(x: i32, y: i32) -> Self { Point { x, y } }
    }

    impl Draw for Point {
        fn draw(&self) { println!("{} ghost", self.x); helper(); }
    }

    fn helper() -> io::Result<()> { Ok(()) }
""")


def test_rust():
    found = extract("src/lib.rs", RUST)
    assert defs(found) == {
        ("module", "network", 5, ""),
        ("module", "inner", 6, ""),
        ("function", "nested", 6, "inner"),
        ("constant", "MAX", 8, ""),
        ("class", "Point", 9, ""),
        ("enum", "Shape", 10, ""),
        ("interface", "Draw", 11, ""),
        ("method", "draw", 11, "Draw"),
        ("type", "Alias", 12, ""),
        ("method", "new", 15, "Point"),
        ("method", "draw", 19, "Point"),
        ("function", "helper", 22, ""),
    }
    assert by_name(found, "new").end_line == 15
    assert found.imports == (
        "std::io", "std::io::Read", "crate::config::Config", "super::util",
        "std::collections::HashMap", "mod:network",
    )
    refs = found.references
    assert refs["Point"] == 4 and refs["helper"] == 1 and refs["println"] == 1
    assert "ghost" not in refs and "fn" not in refs and "impl" not in refs


# ----------------------------------------------------------------------------------------- java

JAVA = code("""
    package com.example.app;

    import java.util.List;
    import static java.util.Collections.emptyList;
    import java.io.*;

    public class Service extends Base implements Runnable {
        public static final int LIMIT = 5;
        private List<String> items;

        public Service() { super(); }

        @Override
        public void run() { process(items); }

        private static int process(List<String> xs) { return xs.size(); }

        interface Callback { void done(); }
        enum Mode { ON, OFF }
    }
""")


def test_java():
    found = extract("src/Service.java", JAVA)
    assert defs(found) == {
        ("class", "Service", 7, ""),
        ("constant", "LIMIT", 8, "Service"),
        ("method", "Service", 11, "Service"),
        ("method", "run", 14, "Service"),
        ("method", "process", 16, "Service"),
        ("interface", "Callback", 18, "Service"),
        ("method", "done", 18, "Callback"),
        ("enum", "Mode", 19, "Service"),
    }
    assert by_name(found, "Service").end_line == 20
    assert found.imports == ("java.util.List", "java.util.Collections.emptyList", "java.io")
    assert found.references["items"] == 2  # fields are not definitions: declaration and use count
    assert found.references["Runnable"] == 1
    assert "public" not in found.references


# ---------------------------------------------------------------------------------------- c/c++

C = code("""
    #include <stdio.h>
    #include "util/helpers.h"
    #define MAX_LEN 256
    #define SQUARE(x) ((x) * (x))

    typedef struct node { int value; struct node *next; } node_t;
    enum color { RED, GREEN };
    static const int LIMIT = 3;
    int counter = 0;

    int add(int a, int b);

    static int *make_buf(size_t n) { return malloc(n * sizeof(int)); }

    int main(int argc, char **argv) {
        /* block comment hiddenName */
        printf("%d ghost\\n", add(argc, LIMIT));
        return 0;
    }
""")


def test_c():
    found = extract("src/main.c", C)
    assert defs(found) == {
        ("constant", "MAX_LEN", 3, ""),
        ("function", "SQUARE", 4, ""),
        ("class", "node", 6, ""),
        ("type", "node_t", 6, ""),
        ("enum", "color", 7, ""),
        ("constant", "LIMIT", 8, ""),
        ("variable", "counter", 9, ""),
        ("function", "add", 11, ""),
        ("function", "make_buf", 13, ""),
        ("function", "main", 15, ""),
    }
    assert by_name(found, "main").end_line == 19
    assert found.imports == ("<stdio.h>", "util/helpers.h")
    refs = found.references
    assert refs["add"] == 1 and refs["printf"] == 1 and refs["LIMIT"] == 1 and refs["malloc"] == 1
    for absent in ("hiddenName", "ghost", "include", "define", "return", "int"):
        assert absent not in refs


CPP = code("""
    #include <vector>
    #include "widget.hpp"

    namespace app {

    class Widget : public Base {
    public:
        Widget(int w);
        int width() const { return w_; }
        virtual void draw() = 0;
    private:
        int w_;
    };

    template <typename T>
    T max_of(T a, T b) { return a > b ? a : b; }

    }  // namespace app

    void app::Widget::draw() { std::vector<int> v; helper(v); }

    using IntVec = std::vector<int>;
    enum class Mode { Fast, Slow };
""")


def test_cpp():
    found = extract("src/widget.cpp", CPP)
    assert defs(found) == {
        ("module", "app", 4, ""),
        ("class", "Widget", 6, "app"),
        ("method", "Widget", 8, "Widget"),
        ("method", "width", 9, "Widget"),
        ("method", "draw", 10, "Widget"),
        ("function", "max_of", 16, "app"),
        ("method", "draw", 20, "Widget"),
        ("type", "IntVec", 22, ""),
        ("enum", "Mode", 23, ""),
    }
    assert by_name(found, "app").end_line == 18
    assert found.imports == ("<vector>", "widget.hpp")
    assert found.references["helper"] == 1 and found.references["Base"] == 1
    assert "namespace" not in found.references and "virtual" not in found.references


def test_cpp_header_with_h_extension():
    found = extract("include/widget.h", b"#pragma once\nnamespace ui {\nclass Button { void press(); };\n}\n")
    assert found.language == "cpp"
    assert defs(found) == {("module", "ui", 2, ""), ("class", "Button", 3, "ui"), ("method", "press", 3, "Button")}


# --------------------------------------------------------------------------------------- csharp

CSHARP = code("""
    using System;
    using System.Collections.Generic;
    using static System.Math;
    using Alias = System.Text.StringBuilder;

    namespace Shop.Orders
    {
        public interface IOrder { decimal Total(); }
        public enum Status { Open, Closed }
        public struct Money { public decimal Amount; }
        public delegate void Notify(string msg);

        public class Order : IOrder
        {
            public const int MaxItems = 10;
            private readonly List<Item> items = new();
            public Order() { }
            public decimal Total() { return Compute(items); }
            private static decimal Compute(List<Item> xs) => xs.Count;
        }
    }
""")


def test_csharp():
    found = extract("Orders/Order.cs", CSHARP)
    assert defs(found) == {
        ("module", "Shop.Orders", 6, ""),
        ("interface", "IOrder", 8, "Shop.Orders"),
        ("method", "Total", 8, "IOrder"),
        ("enum", "Status", 9, "Shop.Orders"),
        ("class", "Money", 10, "Shop.Orders"),
        ("type", "Notify", 11, "Shop.Orders"),
        ("class", "Order", 13, "Shop.Orders"),
        ("constant", "MaxItems", 15, "Order"),
        ("method", "Order", 17, "Order"),
        ("method", "Total", 18, "Order"),
        ("method", "Compute", 19, "Order"),
    }
    assert by_name(found, "Order").end_line == 20
    assert found.imports == ("System", "System.Collections.Generic", "System.Math", "System.Text.StringBuilder")
    assert found.references["Compute"] == 1 and found.references["Item"] == 2
    assert "public" not in found.references


# ----------------------------------------------------------------------------------------- ruby

RUBY = code("""
    require "json"
    require_relative "lib/helper"

    module Billing
      TAX_RATE = 0.2

      class Invoice < Base
        def initialize(total)
          @total = total
        end

        def self.build(data)
          new(JSON.parse(data)) # comment ghostWord
        end

        def paid?
          compute_status(@total)
        end
      end
    end

    def top_level_fn(x)
      x * 2
    end
""")


def test_ruby():
    found = extract("lib/billing.rb", RUBY)
    assert defs(found) == {
        ("module", "Billing", 4, ""),
        ("constant", "TAX_RATE", 5, "Billing"),
        ("class", "Invoice", 7, "Billing"),
        ("method", "initialize", 8, "Invoice"),
        ("method", "build", 12, "Invoice"),
        ("method", "paid?", 16, "Invoice"),
        ("function", "top_level_fn", 22, ""),
    }
    assert by_name(found, "Invoice").end_line == 19
    assert found.imports == ("json", "relative:lib/helper")
    refs = found.references
    assert refs["compute_status"] == 1 and refs["JSON"] == 1 and refs["Base"] == 1
    assert "paid" not in refs and "ghostWord" not in refs and "end" not in refs and "def" not in refs


# ------------------------------------------------------------------------------------------ php

PHP = code("""
    <?php
    namespace App\\Http;

    use App\\Models\\User;
    use Illuminate\\Support\\{Str, Arr};
    require_once __DIR__ . '/bootstrap.php';
    include_once("lib.php");

    const VERSION = "1.0";

    interface Greeter { public function greet(): string; }
    trait Loggable { public function log($m) { echo $m; } }

    class UserController extends Controller implements Greeter
    {
        const LIMIT = 5;
        public function greet(): string { return format_name($this->repo->find(1)); }
    }

    function helper($x) { return $x; }
""")


def test_php():
    found = extract("app/Http/UserController.php", PHP)
    assert defs(found) == {
        ("constant", "VERSION", 9, ""),
        ("interface", "Greeter", 11, ""),
        ("method", "greet", 11, "Greeter"),
        ("class", "Loggable", 12, ""),
        ("method", "log", 12, "Loggable"),
        ("class", "UserController", 14, ""),
        ("constant", "LIMIT", 16, "UserController"),
        ("method", "greet", 17, "UserController"),
        ("function", "helper", 20, ""),
    }
    assert found.imports == (
        "App\\Models\\User", "Illuminate\\Support\\Str", "Illuminate\\Support\\Arr",
        "__DIR__/bootstrap.php", "lib.php",
    )
    assert found.references["format_name"] == 1 and found.references["Controller"] == 1
    assert "php" not in found.references and "function" not in found.references


# --------------------------------------------------------------------------------------- kotlin

KOTLIN = code("""
    package com.example.kt

    import kotlin.math.max
    import com.example.util.*
    import org.lib.Thing as Other

    const val MAX_RETRIES = 3
    val topLevel = "x"

    interface Repo { fun find(id: Int): User? }
    data class User(val id: Int, val name: String)
    enum class Level { LOW, HIGH }
    object Registry { fun register(u: User) { store.add(u) } }
    typealias Users = List<User>

    class Service(private val repo: Repo) : Repo {
        override fun find(id: Int): User? = repo.find(max(id, 0))
    }

    fun main() { println("ghost text") }
""")


def test_kotlin():
    found = extract("src/Main.kt", KOTLIN)
    assert defs(found) == {
        ("constant", "MAX_RETRIES", 7, ""),
        ("variable", "topLevel", 8, ""),
        ("interface", "Repo", 10, ""),
        ("method", "find", 10, "Repo"),
        ("class", "User", 11, ""),
        ("enum", "Level", 12, ""),
        ("class", "Registry", 13, ""),
        ("method", "register", 13, "Registry"),
        ("type", "Users", 14, ""),
        ("class", "Service", 16, ""),
        ("method", "find", 17, "Service"),
        ("function", "main", 20, ""),
    }
    assert found.imports == ("kotlin.math.max", "com.example.util", "org.lib.Thing")
    assert found.references["store"] == 1 and found.references["max"] == 2
    assert "ghost" not in found.references and "fun" not in found.references


# ---------------------------------------------------------------------------------------- swift

SWIFT = code("""
    import Foundation
    import UIKit

    let maxCount = 10

    protocol Drawable { func draw() }
    struct Point { var x: Int; var y: Int }
    enum Direction { case north, south }
    typealias Pair = (Int, Int)

    class Canvas: NSObject, Drawable {
        init(size: Int) { super.init() }
        func draw() { render(shapes) }
    }

    extension Point { func moved() -> Point { return self } }

    func render(_ pts: [Point]) { print("ghost \\(pts.count)") }
""")


def test_swift():
    found = extract("Sources/Canvas.swift", SWIFT)
    assert defs(found) == {
        ("variable", "maxCount", 4, ""),
        ("interface", "Drawable", 6, ""),
        ("method", "draw", 6, "Drawable"),
        ("class", "Point", 7, ""),
        ("enum", "Direction", 8, ""),
        ("type", "Pair", 9, ""),
        ("class", "Canvas", 11, ""),
        ("method", "init", 12, "Canvas"),
        ("method", "draw", 13, "Canvas"),
        ("method", "moved", 16, "Point"),
        ("function", "render", 18, ""),
    }
    assert found.imports == ("Foundation", "UIKit")
    refs = found.references
    assert refs["render"] == 1 and refs["NSObject"] == 1 and refs["count"] == 1
    assert "ghost" not in refs and "func" not in refs


# ---------------------------------------------------------------------------------------- scala

SCALA = code("""
    package com.example.sc

    import scala.collection.mutable
    import java.util.{List, Map => JMap}
    import cats.implicits._

    trait Animal { def speak(): String }
    case class Dog(name: String) extends Animal {
      def speak(): String = bark(name) // ghost comment
    }
    object Dog { def apply(): Dog = new Dog("rex") }
    enum Color { case Red, Green }
    type Name = String
    val MaxDogs = 3
    def topLevel(x: Int): Int = x + 1
""")


def test_scala():
    found = extract("src/Dog.scala", SCALA)
    assert defs(found) == {
        ("interface", "Animal", 7, ""),
        ("method", "speak", 7, "Animal"),
        ("class", "Dog", 8, ""),
        ("method", "speak", 9, "Dog"),
        ("class", "Dog", 11, ""),
        ("method", "apply", 11, "Dog"),
        ("enum", "Color", 12, ""),
        ("type", "Name", 13, ""),
        ("variable", "MaxDogs", 14, ""),
        ("function", "topLevel", 15, ""),
    }
    assert found.imports == ("scala.collection.mutable", "java.util.List", "java.util.Map", "cats.implicits")
    assert found.references["bark"] == 1 and "ghost" not in found.references and "rex" not in found.references


# ----------------------------------------------------------------------------------------- bash

BASH = code("""
    #!/usr/bin/env bash
    source ./lib/common.sh
    . "$HOME/.profile"
    . '/etc/defaults.sh'
    export PATH_PREFIX=/opt
    log_level=debug

    setup() {
      mkdir -p "$PATH_PREFIX/bin"
      run_helper "$@"
    }

    function run_helper {
      echo "running $1"   # comment mentionsGhost
    }

    setup
""")


def test_bash():
    found = extract("scripts/install.sh", BASH)
    assert defs(found) == {
        ("constant", "PATH_PREFIX", 5, ""),
        ("variable", "log_level", 6, ""),
        ("function", "setup", 8, ""),
        ("function", "run_helper", 13, ""),
    }
    assert by_name(found, "setup").end_line == 11
    assert found.imports == ("./lib/common.sh", "/etc/defaults.sh")  # "$HOME/..." is not literal
    refs = found.references
    assert refs["run_helper"] == 1 and refs["setup"] == 1 and refs["mkdir"] == 1 and refs["PATH_PREFIX"] == 1
    assert "mentionsGhost" not in refs and "running" not in refs


def test_extensionless_script_is_recognised_by_its_shebang():
    found = extract("bin/deploy", b"#!/usr/bin/env python3\ndef main():\n    pass\n")
    assert found.language == "python" and defs(found) == {("function", "main", 2, "")}


# ----------------------------------------------------------------------------- hostile input


def test_empty_file():
    assert extract("empty.py", b"") == FileSymbols("python", (), {}, ())


def test_text_and_unknown_files_have_no_symbols():
    assert extract("README.md", b"# Title\n\nSome words here\n") == FileSymbols("text", (), {}, ())
    assert extract("data.bin", b"whatever") == FileSymbols("", (), {}, ())


def test_binary_content_under_a_code_name():
    found = extract("weird.py", b"\x00\x01\x02def f(): pass\x00" * 100)
    assert found == FileSymbols("python", (), {}, ())


@pytest.mark.parametrize("language_path", ["g.py", "g.js", "g.rs", "g.cpp", "g.rb", "g.php", "g.scala", "g.sh"])
def test_garbage_never_raises(language_path):
    import random

    rng = random.Random(7)
    for size in (1, 10, 1000, 20000):
        noise = bytes(rng.randrange(1, 256) for _ in range(size))  # no NUL: it gets parsed
        found = extract(language_path, noise)
        assert isinstance(found, FileSymbols)
        assert all(isinstance(d, Definition) for d in found.definitions)


@pytest.mark.parametrize("source", [None, "def f(): pass", 12, bytearray(b"def f(): pass\n")])
def test_wrong_types_never_raise(source):
    assert isinstance(extract("x.py", source), FileSymbols)


def test_wrong_path_type_never_raises():
    assert isinstance(extract(None, b"def f(): pass\n"), FileSymbols)  # type: ignore[arg-type]


def test_wrong_language_still_returns_something():
    found = extract("not_really.rs", PYTHON)
    assert found.language == "rust" and isinstance(found.references, dict)


def test_invalid_utf8_is_tolerated():
    found = extract("latin.py", "def caf\xe9():\n    return naïve_value\n".encode("latin-1"))
    assert found.language == "python"
    assert isinstance(found.references, dict)


def test_syntax_errors_keep_the_definitions_that_parse():
    source = code("""
        def good_one(x):
            return x

        def broken(:
            return )(

        class Survivor:
            def method(self):
                return 1
    """)
    found = extract("broken.py", source)
    names = {d.name for d in found.definitions}
    assert {"good_one", "Survivor", "method"} <= names
    assert ("method", "method", 8, "Survivor") in defs(found)


def test_syntax_errors_in_javascript():
    found = extract("broken.js", b"function ok() { return 1; }\nfunction bad( { {\nclass Fine { m() {} }\n")
    assert "ok" in {d.name for d in found.definitions}


def test_huge_files_get_regex_references_only(monkeypatch):
    monkeypatch.setattr(symbols, "MAX_PARSE_BYTES", 1000)
    source = b"def visible_name():\n    return other_name\n# trailing comment words\n" * 40
    found = extract("huge.py", source)
    assert found.definitions == () and found.imports == ()
    assert found.references["visible_name"] == 40 and found.references["other_name"] == 40
    assert "def" not in found.references and "return" not in found.references


def test_a_pathological_parse_is_cut_short(monkeypatch):
    monkeypatch.setattr(symbols, "PARSE_BUDGET_SECONDS", 0.2)
    source = b"object A { def ok = 1 }\n" + b"{[" * 40000  # tree-sitter-scala is superlinear on this
    started = time.perf_counter()
    found = extract("slow.scala", source)
    assert time.perf_counter() - started < 5
    assert isinstance(found, FileSymbols)


def test_threads_share_queries_but_not_parsers():
    results: list[FileSymbols] = []

    def work() -> None:
        for _ in range(20):
            results.append(extract("pkg/engine.py", PYTHON))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80 and all(result == results[0] for result in results)


def test_every_language_query_compiles():
    for language in symbols.QUERIES:
        compiled = symbols._compiled(language)
        assert compiled.roles.count("definitions") > 0, language


# ------------------------------------------------------------------------------ start-up cost


def test_importing_symbols_does_not_import_tree_sitter():
    script = (
        "import sys\n"
        "import freehold.index.symbols as s\n"
        "assert not any(m.startswith('tree_sitter') for m in sys.modules), 'imported early'\n"
        "s.extract('README.md', b'# hello')\n"
        "assert 'tree_sitter' not in sys.modules, 'imported for a text file'\n"
        "s.extract('a.py', b'def f():\\n    pass\\n')\n"
        "assert 'tree_sitter' in sys.modules and 'tree_sitter_language_pack' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


LEAK_PROBE = """
import os
from freehold.index.symbols import extract
source = ("def f(x):\\n    return g(x) + 1\\n\\n\\n" * 3000).encode()
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
for _ in range(20):
    extract("warm.py", source)
before = resident()
for _ in range(80):
    extract("leak.py", bytes(bytearray(source)))  # a new object each time, as files read from disk are
print(resident() - before, len(source))
"""


def test_parsing_does_not_leak_the_source():
    """tree-sitter 0.26's binding keeps every chunk a read callback returns; extract must not feed it
    fresh chunks (before the fix, resident memory grew by about the file's size per parse)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", LEAK_PROBE], capture_output=True, text=True, check=True).stdout
    grown, size = map(int, out.split())
    assert grown < 20 * size, (grown, size)  # leaking, it grows by 80 sources


def test_the_grammar_pack_is_the_release_that_bundles_its_grammars():
    """tree-sitter-language-pack 1.x downloads grammars from GitHub at run time; 0.13.0 ships them."""
    import re
    from importlib.metadata import version
    from pathlib import Path

    assert version("tree-sitter-language-pack") == "0.13.0"
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'"tree-sitter-language-pack==0\.13\.0"', pyproject)
    assert extract("a.py", b"def f():\n    pass\n").definitions  # works offline, from the wheel alone


def test_a_big_shell_script_is_not_parsed_by_the_leaking_grammar():
    script = ("#!/bin/sh\nconfigure_step() {\n  echo step\n}\n" * 4000).encode()
    assert len(script) > 1 << 16
    found = extract("configure", script)
    assert found.language == "bash" and found.definitions == () and found.references.get("configure_step")
    assert extract("small.sh", script[:200]).definitions  # small scripts are still parsed
