"""The quality benchmark's tasks: small, precise specs in Python and Rust, each with a visible
test (in the repository, what a check loop may run) and a hidden test the model never sees (run
only to score the result). Each task is a dict:

    name, lang ("python" | "rust"), kind (what kind of delegated work), file (the one file to
    create or change), given (the file's content before, or None), extra (other files in the
    repository: {path: text}), spec (the Markdown spec), visible (test source), hidden (test
    source), held (kept out of every tuning run: see HELD), reference (a right answer: the file's
    text, for `run.py --selftest`, which checks that it passes both tests)

Python tests are scripts run with `python3 FILE` from the repository's top; Rust tests are
compiled with `rustc --edition 2021 --test FILE`, and start with `include!("src/lib.rs");`.
"""

import json


def py(name, file, spec, visible, hidden, given=None, kind="function", extra=None, held=False, reference=None):
    return dict(name=name, lang="python", file=file, given=given, spec=spec, visible=visible, hidden=hidden,
                kind=kind, extra=extra or {}, held=held, reference=reference)


def rs(name, spec, visible, hidden, given=None, kind="function", extra=None, held=False, reference=None):
    return dict(name=name, lang="rust", file="src/lib.rs", given=given, spec=spec, visible=visible, hidden=hidden,
                kind=kind, extra=extra or {}, held=held, reference=reference)


def spec(title, file, new, signature, requirements, tests):
    verb = "create" if new else "change"
    reqs = "".join(f"- {r}\n" for r in requirements)
    cases = "".join(f"- {t}\n" for t in tests)
    return (f"# {title}\n\n{title}.\n\n## Files\n\n- {verb} `{file}`\n\n## Signatures\n\n- `{signature}`\n\n"
            f"## Requirements\n\n{reqs}\n## Tests\n\n{cases}")


PY_HEAD = "import sys\nsys.path.insert(0, '.')\n"

TASKS = [
    py("clamp", "clamp.py",
       spec("Clamp a number", "clamp.py", True, "def clamp(value: int, low: int, high: int) -> int",
            ["return `low` when `value` is below it, `high` when above it, else `value`",
             "raise ValueError when `low` is greater than `high`"],
            ["`clamp(5, 0, 10)` returns `5`", "`clamp(-3, 0, 10)` returns `0`"]),
       PY_HEAD + "from clamp import clamp\nassert clamp(5, 0, 10) == 5\nassert clamp(-3, 0, 10) == 0\n",
       PY_HEAD + "from clamp import clamp\nassert clamp(11, 0, 10) == 10\nassert clamp(0, 0, 0) == 0\n"
       "try:\n    clamp(1, 5, 2)\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n"),
    py("slugify", "slug.py",
       spec("Make URL slugs", "slug.py", True, "def slugify(text: str) -> str",
            ["lowercase the text (`\"AB\"` becomes `\"ab\"`)", "replace every run of characters other than `a-z` and `0-9` with one `-`",
             "strip `-` from both ends; an empty result returns `\"\"`"],
            ["`slugify(\"Hello, World!\")` returns `\"hello-world\"`"]),
       PY_HEAD + "from slug import slugify\nassert slugify('Hello, World!') == 'hello-world'\n",
       PY_HEAD + "from slug import slugify\nassert slugify('  A  b--C ') == 'a-b-c'\nassert slugify('!!!') == ''\n"
       "assert slugify('Rust 2024') == 'rust-2024'\n"),
    py("parse_port", "port.py",
       spec("Parse a port number", "port.py", True, "def parse_port(value: str) -> int",
            ["strip whitespace first (`\" 80 \"` is port `80`)", "raise ValueError for an empty string or one that is not all digits",
             "raise ValueError for 0 and for values above 65535"],
            ["`parse_port(\"80\")` returns `80`", "`parse_port(\" 8080 \")` returns `8080`"]),
       PY_HEAD + "from port import parse_port\nassert parse_port('80') == 80\nassert parse_port(' 8080 ') == 8080\n",
       PY_HEAD + "from port import parse_port\nfor bad in ['', '0', '65536', 'http', '-1']:\n"
       "    try:\n        parse_port(bad)\n        raise SystemExit('accepted ' + repr(bad))\n    except ValueError:\n        pass\n"
       "assert parse_port('65535') == 65535\n"),
    py("word_count", "words.py",
       spec("Count words", "words.py", True, "def word_count(text: str) -> dict[str, int]",
            ["words are runs of letters `a-z`, compared in lowercase", "an empty text returns `{}`"],
            ["`word_count(\"a b a\")` returns `{\"a\": 2, \"b\": 1}`"]),
       PY_HEAD + "from words import word_count\nassert word_count('a b a') == {'a': 2, 'b': 1}\n",
       PY_HEAD + "from words import word_count\nassert word_count('') == {}\n"
       "assert word_count('The the, THE!') == {'the': 3}\n"),
    py("palindrome", "pal.py",
       spec("Detect palindromes", "pal.py", True, "def is_palindrome(text: str) -> bool",
            ["ignore case and every character outside `a-z`, `A-Z` and `0-9`",
             "an empty text is a palindrome (returns `True`)"],
            ["`is_palindrome(\"Racecar\")` returns `True`", "`is_palindrome(\"abc\")` returns `False`"]),
       PY_HEAD + "from pal import is_palindrome\nassert is_palindrome('Racecar')\nassert not is_palindrome('abc')\n",
       PY_HEAD + "from pal import is_palindrome\nassert is_palindrome('A man, a plan, a canal: Panama')\n"
       "assert is_palindrome('')\nassert not is_palindrome('ab1')\n"),
    py("fizzbuzz", "fizz.py",
       spec("FizzBuzz", "fizz.py", True, "def fizzbuzz(n: int) -> list[str]",
            ["return the strings for 1 to `n`: `\"Fizz\"` for multiples of 3, `\"Buzz\"` for multiples of 5, "
             "`\"FizzBuzz\"` for multiples of both, else the number", "`n` of 0 returns `[]`"],
            ["`fizzbuzz(5)` returns `[\"1\", \"2\", \"Fizz\", \"4\", \"Buzz\"]`"]),
       PY_HEAD + "from fizz import fizzbuzz\nassert fizzbuzz(5) == ['1', '2', 'Fizz', '4', 'Buzz']\n",
       PY_HEAD + "from fizz import fizzbuzz\nassert fizzbuzz(15)[-1] == 'FizzBuzz'\nassert fizzbuzz(0) == []\n"),
    py("chunk", "chunk.py",
       spec("Split a list into chunks", "chunk.py", True, "def chunk(items: list, size: int) -> list[list]",
            ["consecutive pieces of `size` items; the last may be shorter",
             "raise ValueError when `size` is less than 1"],
            ["`chunk([1, 2, 3], 2)` returns `[[1, 2], [3]]`"]),
       PY_HEAD + "from chunk import chunk\nassert chunk([1, 2, 3], 2) == [[1, 2], [3]]\n",
       PY_HEAD + "from chunk import chunk\nassert chunk([], 3) == []\nassert chunk([1, 2], 5) == [[1, 2]]\n"
       "try:\n    chunk([1], 0)\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n"),
    py("flatten", "flat.py",
       spec("Flatten nested lists", "flat.py", True, "def flatten(nested: list) -> list",
            ["lists inside lists at any depth are flattened, in order (`[[1], [[2]]]` gives `[1, 2]`)",
             "items that are not lists stay as they are (a string `\"ab\"` stays one item)"],
            ["`flatten([1, [2, [3]]])` returns `[1, 2, 3]`"]),
       PY_HEAD + "from flat import flatten\nassert flatten([1, [2, [3]]]) == [1, 2, 3]\n",
       PY_HEAD + "from flat import flatten\nassert flatten([]) == []\nassert flatten([[[]], 'ab', [[4], 5]]) == ['ab', 4, 5]\n"),
    py("roman", "roman.py",
       spec("Roman numerals", "roman.py", True, "def to_roman(n: int) -> str",
            ["subtractive notation (`4` is `\"IV\"`, `900` is `\"CM\"`)", "raise ValueError outside 1 to 3999"],
            ["`to_roman(1994)` returns `\"MCMXCIV\"`"]),
       PY_HEAD + "from roman import to_roman\nassert to_roman(1994) == 'MCMXCIV'\n",
       PY_HEAD + "from roman import to_roman\nassert to_roman(4) == 'IV'\nassert to_roman(3999) == 'MMMCMXCIX'\n"
       "try:\n    to_roman(0)\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n"),
    py("median", "stats.py",
       spec("Median of numbers", "stats.py", True, "def median(values: list[float]) -> float",
            ["the middle value of the sorted values, or the mean of the two middle ones",
             "raise ValueError for an empty list"],
            ["`median([3, 1, 2])` returns `2`", "`median([1, 2, 3, 4])` returns `2.5`"]),
       PY_HEAD + "from stats import median\nassert median([3, 1, 2]) == 2\nassert median([1, 2, 3, 4]) == 2.5\n",
       PY_HEAD + "from stats import median\nassert median([5]) == 5\n"
       "try:\n    median([])\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n"),
    py("caesar", "caesar.py",
       spec("Caesar cipher", "caesar.py", True, "def caesar(text: str, shift: int) -> str",
            ["shift letters `a-z` and `A-Z` by `shift` places, wrapping around, keeping case",
             "every other character stays unchanged"],
            ["`caesar(\"abc\", 1)` returns `\"bcd\"`"]),
       PY_HEAD + "from caesar import caesar\nassert caesar('abc', 1) == 'bcd'\n",
       PY_HEAD + "from caesar import caesar\nassert caesar('xyz', 3) == 'abc'\nassert caesar('Hi, Bo!', 27) == 'Ij, Cp!'\n"
       "assert caesar('b', -1) == 'a'\n"),
    py("dedupe", "dedupe.py",
       spec("Remove duplicates", "dedupe.py", True, "def dedupe(items: list) -> list",
            ["keep the first occurrence of each item, in order (`[2, 1, 2]` gives `[2, 1]`)"],
            ["`dedupe([1, 2, 1, 3])` returns `[1, 2, 3]`"]),
       PY_HEAD + "from dedupe import dedupe\nassert dedupe([1, 2, 1, 3]) == [1, 2, 3]\n",
       PY_HEAD + "from dedupe import dedupe\nassert dedupe([]) == []\nassert dedupe(['b', 'a', 'b']) == ['b', 'a']\n"),
    py("extend_module", "mathutil.py",
       spec("Add multiplication", "mathutil.py", False, "def mul(a: int, b: int) -> int",
            ["keep `add` and `sub` exactly as they are", "`mul` returns the product of `a` and `b`"],
            ["`mul(3, 4)` returns `12`"]),
       PY_HEAD + "from mathutil import mul\nassert mul(3, 4) == 12\n",
       PY_HEAD + "from mathutil import add, sub, mul\nassert add(2, 3) == 5\nassert sub(2, 3) == -1\nassert mul(-2, 3) == -6\n",
       given="def add(a: int, b: int) -> int:\n    return a + b\n\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n"),
    rs("clamp_rs",
       spec("Clamp an integer", "src/lib.rs", True, "pub fn clamp(v: i64, lo: i64, hi: i64) -> i64",
            ["`lo` when `v` is below it, `hi` when above it, else `v`"],
            ["`clamp(5, 0, 10)` returns `5`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(clamp(5, 0, 10), 5); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(clamp(-5, 0, 10), 0); assert_eq!(clamp(50, 0, 10), 10); }\n'),
    rs("leap_year",
       spec("Leap years", "src/lib.rs", True, "pub fn is_leap_year(year: u32) -> bool",
            ["divisible by 4, except centuries, except those divisible by 400"],
            ["`is_leap_year(2024)` returns `true`", "`is_leap_year(1900)` returns `false`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert!(is_leap_year(2024)); assert!(!is_leap_year(1900)); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert!(is_leap_year(2000)); assert!(!is_leap_year(2023)); }\n'),
    rs("reverse_words",
       spec("Reverse word order", "src/lib.rs", True, "pub fn reverse_words(s: &str) -> String",
            ["words are separated by whitespace; the result joins them with one space"],
            ["`reverse_words(\"a b c\")` returns `\"c b a\"`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(reverse_words("a b c"), "c b a"); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(reverse_words("  hi   there "), "there hi"); assert_eq!(reverse_words(""), ""); }\n'),
    rs("gcd",
       spec("Greatest common divisor", "src/lib.rs", True, "pub fn gcd(a: u64, b: u64) -> u64",
            ["Euclid's algorithm; `gcd(0, 0)` returns `0`"],
            ["`gcd(12, 18)` returns `6`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(gcd(12, 18), 6); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(gcd(0, 7), 7); assert_eq!(gcd(0, 0), 0); assert_eq!(gcd(17, 5), 1); }\n'),
    rs("count_vowels",
       spec("Count vowels", "src/lib.rs", True, "pub fn count_vowels(s: &str) -> usize",
            ["vowels are `a e i o u` in either case"],
            ["`count_vowels(\"Hello\")` returns `2`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(count_vowels("Hello"), 2); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(count_vowels("AEIOU xyz"), 5); assert_eq!(count_vowels(""), 0); }\n'),
    rs("parse_kv",
       spec("Parse key=value", "src/lib.rs", True, "pub fn parse_kv(line: &str) -> Option<(String, String)>",
            ["split at the first `=`, trimming both sides", "`None` when there is no `=` or the key is empty"],
            ["`parse_kv(\"a = 1\")` returns `Some((\"a\".into(), \"1\".into()))`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(parse_kv("a = 1"), Some(("a".into(), "1".into()))); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(parse_kv("k=v=w"), Some(("k".into(), "v=w".into()))); assert_eq!(parse_kv("nokey"), None); assert_eq!(parse_kv(" =x"), None); }\n'),
    rs("to_binary",
       spec("Binary digits", "src/lib.rs", True, "pub fn to_binary(n: u32) -> String",
            ["no leading zeros; `0` returns `\"0\"`"],
            ["`to_binary(5)` returns `\"101\"`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(to_binary(5), "101"); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(to_binary(0), "0"); assert_eq!(to_binary(255), "11111111"); }\n'),
    rs("extend_lib",
       spec("Add factorial", "src/lib.rs", False, "pub fn factorial(n: u32) -> u64",
            ["keep `add` exactly as it is", "`factorial(0)` returns `1`"],
            ["`factorial(5)` returns `120`"]),
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(factorial(5), 120); }\n',
       'include!("src/lib.rs");\n#[test]\nfn t() { assert_eq!(factorial(0), 1); assert_eq!(factorial(10), 3628800); assert_eq!(add(2, 2), 4); }\n',
       given="pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"),
]

for _t in TASKS:
    if _t["name"].startswith("extend_"):
        _t["kind"] = "extend"

RS_HEAD = 'include!("src/lib.rs");\n'


def rs_test(body):
    return RS_HEAD + "#[test]\nfn t() {\n" + body + "\n}\n"


# Tasks written after the first 21, across the kinds of work delegated to a local model. Those
# with held=True are the held-out third: no tuning run reads them (run.py leaves them out unless
# asked with --half held or --half all), and their results were first looked at only to report.
TASKS += [
    # CRUD over a store.
    py("todo_crud", "todo.py",
       spec("Keep a to-do list", "todo.py", True, "class TodoList",
            ["`TodoList()` starts empty; `add(title: str) -> int` stores a to-do and returns its id, "
             "starting at `1` and counting up", "`get(id: int)` returns the title, or `None` for an unknown id",
             "`rename(id: int, title: str) -> bool` returns `False` for an unknown id",
             "`delete(id: int) -> bool` removes it (`False` when unknown); ids are never reused",
             "`add(\"\")` raises `ValueError`"],
            ["`TodoList().add(\"milk\")` returns `1`"]),
       PY_HEAD + "from todo import TodoList\nt = TodoList()\nassert t.add('milk') == 1\nassert t.get(1) == 'milk'\n",
       PY_HEAD + "from todo import TodoList\nt = TodoList()\nassert t.add('a') == 1 and t.add('b') == 2\n"
       "assert t.rename(2, 'c') and t.get(2) == 'c'\nassert not t.rename(9, 'x')\nassert t.delete(1) and not t.delete(1)\n"
       "assert t.get(1) is None\nassert t.add('d') == 3\ntry:\n    t.add('')\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n",
       kind="crud",
       reference="class TodoList:\n    def __init__(self):\n        self.items = {}\n        self.next = 1\n\n"
       "    def add(self, title):\n        if not title:\n            raise ValueError('empty title')\n        self.items[self.next] = title\n        self.next += 1\n        return self.next - 1\n\n"
       "    def get(self, id):\n        return self.items.get(id)\n\n    def rename(self, id, title):\n        if id not in self.items:\n            return False\n        self.items[id] = title\n        return True\n\n"
       "    def delete(self, id):\n        return self.items.pop(id, None) is not None\n"),
    py("inventory", "inventory.py",
       spec("Track stock", "inventory.py", True, "class Inventory",
            ["`Inventory()` starts empty", "`add(name: str, qty: int) -> None` adds `qty` to the item's count; "
             "`qty` below `1` raises `ValueError`", "`remove(name: str, qty: int) -> None` takes `qty` away; "
             "removing more than there is raises `ValueError` and changes nothing",
             "`count(name: str) -> int` returns `0` for an item never added",
             "`names() -> list[str]` returns the names with a count above `0`, sorted"],
            ["`count(\"apple\")` on a new `Inventory()` returns `0`"]),
       PY_HEAD + "from inventory import Inventory\ni = Inventory()\nassert i.count('apple') == 0\ni.add('apple', 3)\nassert i.count('apple') == 3\n",
       PY_HEAD + "from inventory import Inventory\ni = Inventory()\ni.add('b', 2)\ni.add('a', 1)\ni.add('b', 1)\n"
       "assert i.names() == ['a', 'b']\ni.remove('a', 1)\nassert i.names() == ['b'] and i.count('a') == 0\n"
       "for bad in [lambda: i.add('x', 0), lambda: i.remove('b', 4), lambda: i.remove('zz', 1)]:\n"
       "    try:\n        bad()\n        raise SystemExit('no ValueError')\n    except ValueError:\n        pass\nassert i.count('b') == 3\n",
       kind="crud",
       reference="class Inventory:\n    def __init__(self):\n        self.stock = {}\n\n    def add(self, name, qty):\n        if qty < 1:\n            raise ValueError(qty)\n"
       "        self.stock[name] = self.stock.get(name, 0) + qty\n\n    def remove(self, name, qty):\n        if qty > self.stock.get(name, 0):\n            raise ValueError(qty)\n"
       "        self.stock[name] -= qty\n\n    def count(self, name):\n        return self.stock.get(name, 0)\n\n    def names(self):\n        return sorted(n for n, c in self.stock.items() if c > 0)\n"),
    rs("store_rs",
       spec("A key-value store", "src/lib.rs", True, "pub struct Store",
            ["`Store::new()` starts empty; `set(&mut self, key: &str, value: i64) -> Option<i64>` stores the value "
             "and returns the one it replaced", "`get(&self, key: &str) -> Option<i64>`",
             "`remove(&mut self, key: &str) -> bool` returns `true` when the key was there",
             "`len(&self) -> usize` counts the keys"],
            ["`Store::new().get(\"a\")` returns `None`"]),
       rs_test("    let mut s = Store::new();\n    assert_eq!(s.get(\"a\"), None);\n    assert_eq!(s.set(\"a\", 1), None);\n    assert_eq!(s.get(\"a\"), Some(1));"),
       rs_test("    let mut s = Store::new();\n    s.set(\"a\", 1);\n    assert_eq!(s.set(\"a\", 2), Some(1));\n    s.set(\"b\", 3);\n    assert_eq!(s.len(), 2);\n"
               "    assert!(s.remove(\"a\"));\n    assert!(!s.remove(\"a\"));\n    assert_eq!(s.len(), 1);\n    assert_eq!(s.get(\"b\"), Some(3));"),
       kind="crud",
       reference="use std::collections::HashMap;\n\npub struct Store {\n    map: HashMap<String, i64>,\n}\n\nimpl Store {\n"
       "    pub fn new() -> Store {\n        Store { map: HashMap::new() }\n    }\n\n"
       "    pub fn set(&mut self, key: &str, value: i64) -> Option<i64> {\n        self.map.insert(key.to_string(), value)\n    }\n\n"
       "    pub fn get(&self, key: &str) -> Option<i64> {\n        self.map.get(key).copied()\n    }\n\n"
       "    pub fn remove(&mut self, key: &str) -> bool {\n        self.map.remove(key).is_some()\n    }\n\n"
       "    pub fn len(&self) -> usize {\n        self.map.len()\n    }\n}\n"),
    # Written when inventory and store_rs were read to trace a false alarm of the examples reader
    # (and so left the held-out third): two of the same kind in their place.
    py("library", "library.py",
       spec("Lend books", "library.py", True, "class Library",
            ["`Library()` has no books",
             "`add(isbn: str, title: str) -> None` adds a book; an `isbn` already there raises `KeyError`",
             "`lend(isbn: str, member: str) -> None` lends the book to `member`; an unknown `isbn` raises `KeyError`, "
             "a book already lent raises `ValueError`",
             "`give_back(isbn: str) -> None` makes the book available again; a book that is not lent raises `ValueError`",
             "`lent_to(member: str) -> list[str]` returns the titles of the books lent to `member`, sorted"],
            ["`lent_to(\"ann\")` on a new `Library()` returns `[]`"]),
       PY_HEAD + "from library import Library\nl = Library()\nassert l.lent_to('ann') == []\nl.add('1', 'Dune')\n"
       "l.lend('1', 'ann')\nassert l.lent_to('ann') == ['Dune']\n",
       PY_HEAD + "from library import Library\nl = Library()\nl.add('1', 'Dune')\nl.add('2', 'Beloved')\nl.add('3', 'Emma')\n"
       "l.lend('1', 'ann')\nl.lend('2', 'ann')\nl.lend('3', 'bob')\nassert l.lent_to('ann') == ['Beloved', 'Dune']\n"
       "l.give_back('2')\nassert l.lent_to('ann') == ['Dune'] and l.lent_to('bob') == ['Emma']\nl.lend('2', 'bob')\n"
       "assert l.lent_to('bob') == ['Beloved', 'Emma']\n"
       "for bad, error in [(lambda: l.add('1', 'X'), KeyError), (lambda: l.lend('9', 'ann'), KeyError),\n"
       "                   (lambda: l.lend('1', 'bob'), ValueError), (lambda: l.give_back('9'), (KeyError, ValueError))]:\n"
       "    try:\n        bad()\n        raise SystemExit('no error')\n    except error:\n        pass\n"
       "l.give_back('1')\ntry:\n    l.give_back('1')\n    raise SystemExit('gave back twice')\nexcept ValueError:\n    pass\n"
       "assert l.lent_to('ann') == []\n",
       kind="crud", held=True,
       reference="class Library:\n    def __init__(self):\n        self.titles = {}\n        self.borrower = {}\n\n"
       "    def add(self, isbn, title):\n        if isbn in self.titles:\n            raise KeyError(isbn)\n        self.titles[isbn] = title\n\n"
       "    def lend(self, isbn, member):\n        if isbn not in self.titles:\n            raise KeyError(isbn)\n"
       "        if isbn in self.borrower:\n            raise ValueError(isbn)\n        self.borrower[isbn] = member\n\n"
       "    def give_back(self, isbn):\n        if isbn not in self.borrower:\n            raise ValueError(isbn)\n        del self.borrower[isbn]\n\n"
       "    def lent_to(self, member):\n        return sorted(self.titles[i] for i, m in self.borrower.items() if m == member)\n"),
    rs("tally_rs",
       spec("Count words", "src/lib.rs", True, "pub struct Tally",
            ["`Tally::new()` counts nothing", "`add(&mut self, word: &str)` counts one more of `word`, compared in lowercase",
             "`count(&self, word: &str) -> usize` returns how often `word` was added, in any case; `0` if never",
             "`top(&self) -> Option<String>` returns the word added most often, in lowercase, the alphabetically first on a tie; "
             "`None` when nothing was added"],
            ["`Tally::new().top()` returns `None`"]),
       rs_test("    let mut t = Tally::new();\n    assert_eq!(t.top(), None);\n    t.add(\"a\");\n    assert_eq!(t.count(\"a\"), 1);"),
       rs_test("    let mut t = Tally::new();\n    t.add(\"Bee\");\n    t.add(\"ant\");\n    t.add(\"BEE\");\n    assert_eq!(t.count(\"bee\"), 2);\n"
               "    assert_eq!(t.count(\"Bee\"), 2);\n    assert_eq!(t.count(\"cat\"), 0);\n    assert_eq!(t.top(), Some(\"bee\".to_string()));\n"
               "    t.add(\"ant\");\n    assert_eq!(t.top(), Some(\"ant\".to_string()));"),
       kind="crud", held=True,
       reference="use std::collections::HashMap;\n\npub struct Tally {\n    counts: HashMap<String, usize>,\n}\n\nimpl Tally {\n"
       "    pub fn new() -> Tally {\n        Tally { counts: HashMap::new() }\n    }\n\n"
       "    pub fn add(&mut self, word: &str) {\n        *self.counts.entry(word.to_lowercase()).or_insert(0) += 1;\n    }\n\n"
       "    pub fn count(&self, word: &str) -> usize {\n        self.counts.get(&word.to_lowercase()).copied().unwrap_or(0)\n    }\n\n"
       "    pub fn top(&self) -> Option<String> {\n        let mut best: Option<(&String, usize)> = None;\n"
       "        for (w, &c) in &self.counts {\n            if best.map_or(true, |(bw, bc)| c > bc || (c == bc && w < bw)) {\n"
       "                best = Some((w, c));\n            }\n        }\n        best.map(|(w, _)| w.clone())\n    }\n}\n"),
    # Request handlers.
    py("health_handler", "handler.py",
       spec("Answer health checks", "handler.py", True, "def handle(method: str, path: str) -> tuple[int, str]",
            ["`GET /health` returns `(200, \"ok\")`", "any other method on `/health` returns `(405, \"method not allowed\")`",
             "any other path returns `(404, \"not found\")`", "a trailing `/` is ignored (`/health/` is `/health`)"],
            ["`handle(\"GET\", \"/health\")` returns `(200, \"ok\")`"]),
       PY_HEAD + "from handler import handle\nassert handle('GET', '/health') == (200, 'ok')\n",
       PY_HEAD + "from handler import handle\nassert handle('POST', '/health') == (405, 'method not allowed')\n"
       "assert handle('GET', '/nope') == (404, 'not found')\nassert handle('GET', '/health/') == (200, 'ok')\n",
       kind="handler", held=True,
       reference="def handle(method, path):\n    if path.endswith('/') and path != '/':\n        path = path[:-1]\n    if path != '/health':\n        return (404, 'not found')\n"
       "    if method != 'GET':\n        return (405, 'method not allowed')\n    return (200, 'ok')\n"),
    py("parse_query", "query.py",
       spec("Parse a query string", "query.py", True, "def parse_query(query: str) -> dict[str, str]",
            ["split on `&`, then each part at its first `=`", "a part without `=` maps to `\"\"`",
             "skip empty parts; a later key replaces an earlier one", "a leading `?` is ignored"],
            ["`parse_query(\"a=1&b=2\")` returns `{\"a\": \"1\", \"b\": \"2\"}`"]),
       PY_HEAD + "from query import parse_query\nassert parse_query('a=1&b=2') == {'a': '1', 'b': '2'}\n",
       PY_HEAD + "from query import parse_query\nassert parse_query('?x=1&&flag&x=2') == {'x': '2', 'flag': ''}\n"
       "assert parse_query('') == {}\nassert parse_query('k=a=b') == {'k': 'a=b'}\n",
       kind="handler", held=True,
       reference="def parse_query(query):\n    if query.startswith('?'):\n        query = query[1:]\n    out = {}\n    for part in query.split('&'):\n"
       "        if part:\n            key, _, value = part.partition('=')\n            out[key] = value\n    return out\n"),
    rs("status_line",
       spec("HTTP status lines", "src/lib.rs", True, "pub fn status_line(code: u16) -> String",
            ["`200` is `\"HTTP/1.1 200 OK\"`, `404` is `\"HTTP/1.1 404 Not Found\"`, `500` is `\"HTTP/1.1 500 Internal Server Error\"`",
             "any other code gives `\"HTTP/1.1 <code> Unknown\"`"],
            ["`status_line(200)` returns `\"HTTP/1.1 200 OK\"`"]),
       rs_test("    assert_eq!(status_line(200), \"HTTP/1.1 200 OK\");"),
       rs_test("    assert_eq!(status_line(404), \"HTTP/1.1 404 Not Found\");\n    assert_eq!(status_line(500), \"HTTP/1.1 500 Internal Server Error\");\n"
               "    assert_eq!(status_line(418), \"HTTP/1.1 418 Unknown\");"),
       kind="handler",
       reference="pub fn status_line(code: u16) -> String {\n    let reason = match code {\n        200 => \"OK\",\n        404 => \"Not Found\",\n"
       "        500 => \"Internal Server Error\",\n        _ => \"Unknown\",\n    };\n    format!(\"HTTP/1.1 {} {}\", code, reason)\n}\n"),
    # Validation with stated rules.
    py("password_rules", "password.py",
       spec("Check passwords", "password.py", True, "def password_problems(password: str) -> list[str]",
            ["return the problems in this order: `\"too short\"` when under 8 characters, `\"no digit\"` when it has no digit, "
             "`\"no uppercase\"` when it has no uppercase letter", "a good password returns `[]`"],
            ["`password_problems(\"Secret123\")` returns `[]`", "`password_problems(\"abc\")` returns `[\"too short\", \"no digit\", \"no uppercase\"]`"]),
       PY_HEAD + "from password import password_problems\nassert password_problems('Secret123') == []\n",
       PY_HEAD + "from password import password_problems\nassert password_problems('abc') == ['too short', 'no digit', 'no uppercase']\n"
       "assert password_problems('abcdefgh1') == ['no uppercase']\nassert password_problems('ABCDEFGHI') == ['no digit']\n",
       kind="validation", held=True,
       reference="def password_problems(password):\n    problems = []\n    if len(password) < 8:\n        problems.append('too short')\n"
       "    if not any(c.isdigit() for c in password):\n        problems.append('no digit')\n    if not any(c.isupper() for c in password):\n        problems.append('no uppercase')\n    return problems\n"),
    py("valid_email", "checks.py",
       spec("Validate e-mail addresses", "checks.py", True, "def valid_email(address: str) -> bool",
            ["exactly one `@`, with a non-empty part before it", "the part after it holds a `.` that is neither its first nor its last character",
             "no space (`\" \"`) anywhere"],
            ["`valid_email(\"ann@example.com\")` returns `True`", "`valid_email(\"ann@com\")` returns `False`"]),
       PY_HEAD + "from checks import valid_email\nassert valid_email('ann@example.com')\nassert not valid_email('ann@com')\n",
       PY_HEAD + "from checks import valid_email\nfor bad in ['@example.com', 'a@@b.com', 'a@.com', 'a@b.', 'a b@c.de', 'plain']:\n"
       "    assert not valid_email(bad), bad\nassert valid_email('x.y@sub.example.org')\n",
       kind="validation", held=True,
       reference="def valid_email(address):\n    if ' ' in address or address.count('@') != 1:\n        return False\n    local, domain = address.split('@')\n"
       "    if not local:\n        return False\n    return '.' in domain[1:-1]\n"),
    rs("valid_username",
       spec("Validate user names", "src/lib.rs", True, "pub fn valid_username(name: &str) -> bool",
            ["3 to 16 characters", "only lowercase letters `a-z`, digits and `_`", "the first character is a letter `a-z`"],
            ["`valid_username(\"ann_1\")` returns `true`", "`valid_username(\"1ann\")` returns `false`"]),
       rs_test("    assert!(valid_username(\"ann_1\"));\n    assert!(!valid_username(\"1ann\"));"),
       rs_test("    assert!(!valid_username(\"an\"));\n    assert!(valid_username(\"abc\"));\n    assert!(!valid_username(\"Ann\"));\n"
               "    assert!(!valid_username(\"a2345678901234567\"));\n    assert!(valid_username(\"a234567890123456\"));\n    assert!(!valid_username(\"a-b\"));"),
       kind="validation", held=True,
       reference="pub fn valid_username(name: &str) -> bool {\n    let n = name.chars().count();\n    (3..=16).contains(&n)\n"
       "        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())\n"
       "        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')\n}\n"),
    rs("validate_age",
       spec("Validate an age", "src/lib.rs", True, "pub fn validate_age(age: i32) -> Result<u8, String>",
            ["a negative age is `Err(\"negative\")`", "an age above 150 is `Err(\"too old\")`", "else `Ok` with the age"],
            ["`validate_age(30)` returns `Ok(30)`", "`validate_age(-1)` returns `Err(\"negative\")`"]),
       rs_test("    assert_eq!(validate_age(30), Ok(30));"),
       rs_test("    assert_eq!(validate_age(-1), Err(\"negative\".to_string()));\n    assert_eq!(validate_age(151), Err(\"too old\".to_string()));\n"
               "    assert_eq!(validate_age(150), Ok(150));\n    assert_eq!(validate_age(0), Ok(0));"),
       kind="validation",
       reference="pub fn validate_age(age: i32) -> Result<u8, String> {\n    if age < 0 {\n        return Err(\"negative\".to_string());\n    }\n"
       "    if age > 150 {\n        return Err(\"too old\".to_string());\n    }\n    Ok(age as u8)\n}\n"),
    # Data transformation.
    py("csv_line", "csvline.py",
       spec("Split a CSV line", "csvline.py", True, "def split_csv(line: str) -> list[str]",
            ["split on `,`; a field in double quotes may hold commas, and the quotes are dropped",
             "an empty line returns `[\"\"]`"],
            ["`split_csv(\"a,b,,c\")` returns `[\"a\", \"b\", \"\", \"c\"]`", "`split_csv('x,\"y,z\"')` returns `[\"x\", \"y,z\"]`"]),
       PY_HEAD + "from csvline import split_csv\nassert split_csv('a,b,,c') == ['a', 'b', '', 'c']\n",
       PY_HEAD + "from csvline import split_csv\nassert split_csv('x,\"y,z\"') == ['x', 'y,z']\nassert split_csv('') == ['']\n"
       "assert split_csv('\"a\",b') == ['a', 'b']\n",
       kind="transform",
       reference="def split_csv(line):\n    fields, field, quoted = [], '', False\n    for c in line:\n        if c == '\"':\n            quoted = not quoted\n"
       "        elif c == ',' and not quoted:\n            fields.append(field)\n            field = ''\n        else:\n            field += c\n    fields.append(field)\n    return fields\n"),
    py("to_snake", "case.py",
       spec("Convert to snake case", "case.py", True, "def to_snake(name: str) -> str",
            ["put `_` before each uppercase letter that follows a lowercase letter or a digit, then lowercase everything",
             "spaces and `-` become `_`"],
            ["`to_snake(\"HelloWorld\")` returns `\"hello_world\"`"]),
       PY_HEAD + "from case import to_snake\nassert to_snake('HelloWorld') == 'hello_world'\n",
       PY_HEAD + "from case import to_snake\nassert to_snake('parseHTTPRequest') == 'parse_httprequest'\nassert to_snake('utf8Value') == 'utf8_value'\n"
       "assert to_snake('my-name here') == 'my_name_here'\nassert to_snake('x') == 'x'\n",
       kind="transform", held=True,
       reference="def to_snake(name):\n    out = ''\n    for i, c in enumerate(name):\n        if c.isupper() and i > 0 and (name[i - 1].islower() or name[i - 1].isdigit()):\n            out += '_'\n"
       "        out += '_' if c in ' -' else c.lower()\n    return out\n"),
    py("group_by_length", "group.py",
       spec("Group words by length", "group.py", True, "def group_by_length(words: list[str]) -> dict[int, list[str]]",
            ["keys are lengths (`len(word)`); each list keeps the words' order", "a word given twice appears twice (`[\"ab\", \"ab\"]` gives `{2: [\"ab\", \"ab\"]}`)"],
            ["`group_by_length([\"a\", \"bb\", \"c\"])` returns `{1: [\"a\", \"c\"], 2: [\"bb\"]}`"]),
       PY_HEAD + "from group import group_by_length\nassert group_by_length(['a', 'bb', 'c']) == {1: ['a', 'c'], 2: ['bb']}\n",
       PY_HEAD + "from group import group_by_length\nassert group_by_length([]) == {}\nassert group_by_length(['x', 'x']) == {1: ['x', 'x']}\n",
       kind="transform", held=True,
       reference="def group_by_length(words):\n    out = {}\n    for w in words:\n        out.setdefault(len(w), []).append(w)\n    return out\n"),
    py("transpose", "matrix.py",
       spec("Transpose a matrix", "matrix.py", True, "def transpose(rows: list[list[int]]) -> list[list[int]]",
            ["row `i` of the result is column `i` of `rows`", "`[]` returns `[]`", "rows of different lengths raise `ValueError`"],
            ["`transpose([[1, 2], [3, 4]])` returns `[[1, 3], [2, 4]]`"]),
       PY_HEAD + "from matrix import transpose\nassert transpose([[1, 2], [3, 4]]) == [[1, 3], [2, 4]]\n",
       PY_HEAD + "from matrix import transpose\nassert transpose([]) == []\nassert transpose([[1, 2, 3]]) == [[1], [2], [3]]\n"
       "try:\n    transpose([[1], [2, 3]])\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n",
       kind="transform", held=True,
       reference="def transpose(rows):\n    if any(len(r) != len(rows[0]) for r in rows):\n        raise ValueError('ragged')\n"
       "    return [list(c) for c in zip(*rows)] if rows else []\n"),
    rs("run_length",
       spec("Run-length encoding", "src/lib.rs", True, "pub fn run_length(s: &str) -> String",
            ["each run of one character becomes the character then the run's length (`\"aaab\"` becomes `\"a3b1\"`)",
             "an empty string returns `\"\"`"],
            ["`run_length(\"aaab\")` returns `\"a3b1\"`"]),
       rs_test("    assert_eq!(run_length(\"aaab\"), \"a3b1\");"),
       rs_test("    assert_eq!(run_length(\"\"), \"\");\n    assert_eq!(run_length(\"abba\"), \"a1b2a1\");\n    assert_eq!(run_length(\"zzzzzzzzzzzz\"), \"z12\");"),
       kind="transform", held=True,
       reference="pub fn run_length(s: &str) -> String {\n    let mut out = String::new();\n    let chars: Vec<char> = s.chars().collect();\n    let mut i = 0;\n"
       "    while i < chars.len() {\n        let mut j = i;\n        while j < chars.len() && chars[j] == chars[i] {\n            j += 1;\n        }\n"
       "        out.push(chars[i]);\n        out.push_str(&(j - i).to_string());\n        i = j;\n    }\n    out\n}\n"),
    rs("title_case",
       spec("Title case", "src/lib.rs", True, "pub fn title_case(s: &str) -> String",
            ["uppercase the first letter of each word and lowercase the rest (`\"wORLD\"` becomes `\"World\"`)", "words are separated by single spaces (`\" \"`), kept as they are"],
            ["`title_case(\"hello wORLD\")` returns `\"Hello World\"`"]),
       rs_test("    assert_eq!(title_case(\"hello wORLD\"), \"Hello World\");"),
       rs_test("    assert_eq!(title_case(\"\"), \"\");\n    assert_eq!(title_case(\"a b\"), \"A B\");\n    assert_eq!(title_case(\"rUST\"), \"Rust\");"),
       kind="transform", held=True,
       reference="pub fn title_case(s: &str) -> String {\n    s.split(' ')\n        .map(|w| {\n            let mut c = w.chars();\n            match c.next() {\n"
       "                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),\n                None => String::new(),\n            }\n        })\n"
       "        .collect::<Vec<_>>()\n        .join(\" \")\n}\n"),
]

MONEY = ("def to_cents(text: str) -> int:\n    \"\"\"'1.50' -> 150; raises ValueError on anything else.\"\"\"\n    whole, dot, part = text.partition('.')\n"
         "    if not whole.isdigit() or (dot and (len(part) != 2 or not part.isdigit())):\n        raise ValueError(text)\n"
         "    return int(whole) * 100 + (int(part) if dot else 0)\n")
SLUG = ("import re\n\n\ndef slugify(text: str) -> str:\n    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')\n")


def tests_hidden(module, right, mutant, test_file):
    """A hidden test for a task that writes tests: they pass on the right code, fail on a broken
    one, and the module itself is left as it was."""
    return (f"import subprocess, sys\nRIGHT = {right!r}\nMUTANT = {mutant!r}\n"
            f"assert open({module!r}).read() == RIGHT, 'the module was changed'\n"
            f"ok = subprocess.run([sys.executable, {test_file!r}], capture_output=True)\n"
            "assert ok.returncode == 0, 'the tests fail on the right code: ' + ok.stdout.decode() + ok.stderr.decode()\n"
            f"open({module!r}, 'w').write(MUTANT)\n"
            f"bad = subprocess.run([sys.executable, {test_file!r}], capture_output=True)\n"
            f"open({module!r}, 'w').write(RIGHT)\n"
            "assert bad.returncode != 0, 'the tests pass on broken code'\n")


TASKS += [
    # Tests for existing code.
    py("tests_money", "test_money.py",
       "# Test to_cents\n\nWrite tests for `to_cents` in `money.py`.\n\n## Files\n\n- create `test_money.py` (leave `money.py` as it is)\n\n"
       "## Signatures\n\n- `def to_cents(text: str) -> int` (exists in `money.py`)\n\n## Requirements\n\n"
       "- `test_money.py` is a script run as `python3 test_money.py`: it imports `to_cents` from `money` and uses plain `assert` statements, "
       "exiting non-zero when one fails\n- assert that `to_cents(\"1.50\")` is `150` and `to_cents(\"3\")` is `300`\n"
       "- assert that `to_cents(\"1.5\")` and `to_cents(\"abc\")` raise `ValueError`\n\n## Tests\n\n- `to_cents(\"1.50\")` returns `150`\n",
       "import subprocess, sys\nassert subprocess.run([sys.executable, 'test_money.py']).returncode == 0\n",
       tests_hidden("money.py", MONEY, MONEY.replace("len(part) != 2 or ", ""), "test_money.py"),
       kind="tests", extra={"money.py": MONEY},
       reference="from money import to_cents\n\nassert to_cents('1.50') == 150\nassert to_cents('3') == 300\n"
       "for bad in ['1.5', 'abc']:\n    try:\n        to_cents(bad)\n    except ValueError:\n        pass\n    else:\n        raise AssertionError(bad)\n"),
    py("tests_slug", "test_slug.py",
       "# Test slugify\n\nWrite tests for `slugify` in `slug.py`.\n\n## Files\n\n- create `test_slug.py` (leave `slug.py` as it is)\n\n"
       "## Signatures\n\n- `def slugify(text: str) -> str` (exists in `slug.py`)\n\n## Requirements\n\n"
       "- `test_slug.py` is a script run as `python3 test_slug.py`: it imports `slugify` from `slug` and uses plain `assert` statements\n"
       "- assert that `slugify(\"Hello, World!\")` is `\"hello-world\"` and that `slugify(\"--A--\")` is `\"a\"`\n\n"
       "## Tests\n\n- `slugify(\"Hello, World!\")` returns `\"hello-world\"`\n",
       "import subprocess, sys\nassert subprocess.run([sys.executable, 'test_slug.py']).returncode == 0\n",
       tests_hidden("slug.py", SLUG, SLUG.replace(".strip('-')", ""), "test_slug.py"),
       kind="tests", extra={"slug.py": SLUG},
       reference="from slug import slugify\n\nassert slugify('Hello, World!') == 'hello-world'\nassert slugify('--A--') == 'a'\n"),
    rs("tests_rs",
       "# Test is_even\n\nAdd unit tests for `is_even` in `src/lib.rs`.\n\n## Files\n\n- change `src/lib.rs`\n\n## Signatures\n\n"
       "- `pub fn is_even(n: i64) -> bool` (exists; keep it exactly as it is)\n\n## Requirements\n\n"
       "- add a `#[cfg(test)] mod tests` with at least two `#[test]` functions\n- they assert that `is_even(4)` is `true`, "
       "`is_even(7)` is `false` and `is_even(-2)` is `true`\n\n## Tests\n\n- `is_even(4)` returns `true`\n",
       rs_test("    assert!(is_even(4));"),
       # The file's own tests run (two or more, passing), and is_even still works.
       rs_test("    assert!(is_even(-2) && !is_even(7));\n    let src = std::fs::read_to_string(\"src/lib.rs\").unwrap();\n"
               "    assert!(src.contains(\"#[cfg(test)]\") && src.matches(\"#[test]\").count() >= 2, \"no tests\");\n"
               "    let out = std::process::Command::new(\"rustc\").args([\"--edition\", \"2021\", \"--test\", \"src/lib.rs\", \"-o\", \"own-tests\"]).status().unwrap();\n"
               "    assert!(out.success());\n    assert!(std::process::Command::new(\"./own-tests\").status().unwrap().success());"),
       kind="tests",
       given="pub fn is_even(n: i64) -> bool {\n    n % 2 == 0\n}\n",
       reference="pub fn is_even(n: i64) -> bool {\n    n % 2 == 0\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
       "    #[test]\n    fn even() {\n        assert!(is_even(4));\n        assert!(is_even(-2));\n    }\n\n"
       "    #[test]\n    fn odd() {\n        assert!(!is_even(7));\n    }\n}\n"),
    # Documentation.
    py("docs_area", "geometry.py",
       "# Document area\n\nDocument `area` in `geometry.py`.\n\n## Files\n\n- change `geometry.py`\n\n## Signatures\n\n"
       "- `def area(width: float, height: float) -> float` (keep its code exactly as it is)\n\n## Requirements\n\n"
       "- give `area` a docstring saying it returns the width times the height, and that a negative side raises `ValueError`\n\n"
       "## Tests\n\n- `area(2, 3)` returns `6`\n",
       PY_HEAD + "from geometry import area\nassert area(2, 3) == 6\n",
       PY_HEAD + "from geometry import area\nassert area(2, 3) == 6\nassert area.__doc__ and 'ValueError' in area.__doc__, area.__doc__\n"
       "try:\n    area(-1, 2)\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n",
       kind="docs",
       given="def area(width: float, height: float) -> float:\n    if width < 0 or height < 0:\n        raise ValueError('negative side')\n    return width * height\n",
       reference="def area(width: float, height: float) -> float:\n    \"\"\"Returns width times height; a negative side raises ValueError.\"\"\"\n"
       "    if width < 0 or height < 0:\n        raise ValueError('negative side')\n    return width * height\n"),
    py("docs_module", "units.py",
       "# Document the units module\n\nGive `units.py` a module docstring.\n\n## Files\n\n- change `units.py`\n\n## Signatures\n\n"
       "- `def km_to_miles(km: float) -> float` (keep its code exactly as it is)\n\n## Requirements\n\n"
       "- the module's docstring, its first statement, says it converts between kilometres and miles and names `km_to_miles`\n\n"
       "## Tests\n\n- `km_to_miles(0)` returns `0`\n",
       PY_HEAD + "from units import km_to_miles\nassert km_to_miles(0) == 0\n",
       PY_HEAD + "import units\nassert units.__doc__ and 'km_to_miles' in units.__doc__ and 'kilometre' in units.__doc__.lower(), units.__doc__\n"
       "assert abs(units.km_to_miles(1.609344) - 1) < 1e-9\n",
       kind="docs",
       given="def km_to_miles(km: float) -> float:\n    return km / 1.609344\n",
       reference="\"\"\"Converts between kilometres and miles: km_to_miles.\"\"\"\n\n\ndef km_to_miles(km: float) -> float:\n    return km / 1.609344\n"),
    rs("docs_rs",
       "# Document mean\n\nDocument `mean` in `src/lib.rs`.\n\n## Files\n\n- change `src/lib.rs`\n\n## Signatures\n\n"
       "- `pub fn mean(values: &[f64]) -> Option<f64>` (keep its code exactly as it is)\n\n## Requirements\n\n"
       "- put a `///` doc comment right above `mean` saying it returns `None` for an empty slice, with an `# Examples` heading\n\n"
       "## Tests\n\n- `mean(&[])` returns `None`\n",
       rs_test("    assert_eq!(mean(&[]), None);"),
       rs_test("    assert_eq!(mean(&[1.0, 3.0]), Some(2.0));\n    let src = std::fs::read_to_string(\"src/lib.rs\").unwrap();\n"
               "    let before: Vec<&str> = src.split(\"pub fn mean\").next().unwrap().lines().collect();\n"
               "    let doc: Vec<&str> = before.iter().rev().take_while(|l| l.trim_start().starts_with(\"///\")).copied().collect();\n"
               "    assert!(doc.iter().any(|l| l.contains(\"None\")) && doc.iter().any(|l| l.contains(\"# Examples\")), \"{doc:?}\");"),
       kind="docs",
       given="pub fn mean(values: &[f64]) -> Option<f64> {\n    if values.is_empty() {\n        return None;\n    }\n    Some(values.iter().sum::<f64>() / values.len() as f64)\n}\n",
       reference="/// The arithmetic mean; `None` for an empty slice.\n///\n/// # Examples\n///\n/// ```\n/// assert_eq!(mean(&[1.0, 3.0]), Some(2.0));\n/// ```\n"
       "pub fn mean(values: &[f64]) -> Option<f64> {\n    if values.is_empty() {\n        return None;\n    }\n    Some(values.iter().sum::<f64>() / values.len() as f64)\n}\n"),
]

# Written when tests_money, tests_rs and docs_rs were read while a check for the tests an answer
# writes was designed (and so left the held-out third): three of the same kinds in their place.
TEMP = ("def c_to_f(c: float) -> float:\n    \"\"\"Celsius to Fahrenheit; below absolute zero raises ValueError.\"\"\"\n"
        "    if c < -273.15:\n        raise ValueError(c)\n    return c * 9 / 5 + 32\n")
INITIALS = ("pub fn initials(name: &str) -> String {\n    name.split_whitespace()\n        .filter_map(|w| w.chars().next())\n"
            "        .flat_map(char::to_uppercase)\n        .collect()\n}\n")
PERCENT = ("pub fn percent(part: u32, whole: u32) -> Option<u32> {\n    if whole == 0 {\n        return None;\n    }\n"
           "    Some(part * 100 / whole)\n}\n")


def rs_tests_hidden(original, mutant, call):
    """A hidden test for a Rust task that writes unit tests: the function is kept as it was, the
    file's own tests compile and pass, and they fail once the function is broken."""
    return rs_test(
        f"    {call}\n    let src = std::fs::read_to_string(\"src/lib.rs\").unwrap();\n"
        f"    assert!(src.contains({json.dumps(original)}.trim_end()), \"the function was changed\");\n"
        "    assert!(src.contains(\"#[cfg(test)]\") && src.matches(\"#[test]\").count() >= 2, \"no tests\");\n"
        "    let run = |file: &str, out: &str| {\n"
        "        let built = std::process::Command::new(\"rustc\").args([\"--edition\", \"2021\", \"--test\", file, \"-o\", out]).status().unwrap();\n"
        "        built.success() && std::process::Command::new(format!(\"./{out}\")).status().unwrap().success()\n    };\n"
        "    assert!(run(\"src/lib.rs\", \"own-tests\"), \"the tests fail on the right code\");\n"
        f"    std::fs::write(\"mutant.rs\", src.replace({json.dumps(original)}.trim_end(), {json.dumps(mutant)}.trim_end())).unwrap();\n"
        "    assert!(!run(\"mutant.rs\", \"mutant-tests\"), \"the tests pass on broken code\");")


TASKS += [
    py("tests_temp", "test_temp.py",
       "# Test c_to_f\n\nWrite tests for `c_to_f` in `temp.py`.\n\n## Files\n\n- create `test_temp.py` (leave `temp.py` as it is)\n\n"
       "## Signatures\n\n- `def c_to_f(c: float) -> float` (exists in `temp.py`)\n\n## Requirements\n\n"
       "- `test_temp.py` is a script run as `python3 test_temp.py`: it imports `c_to_f` from `temp` and uses plain `assert` statements\n"
       "- assert that `c_to_f(100)` is `212` and `c_to_f(0)` is `32`\n"
       "- assert that `c_to_f(-300)` raises `ValueError`\n\n## Tests\n\n- `c_to_f(100)` returns `212.0`\n",
       "import subprocess, sys\nassert subprocess.run([sys.executable, 'test_temp.py']).returncode == 0\n",
       tests_hidden("temp.py", TEMP, TEMP.replace("    if c < -273.15:\n        raise ValueError(c)\n", ""), "test_temp.py"),
       kind="tests", held=True, extra={"temp.py": TEMP},
       reference="from temp import c_to_f\n\nassert c_to_f(100) == 212\nassert c_to_f(0) == 32\n"
       "try:\n    c_to_f(-300)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('no ValueError')\n"),
    rs("tests_initials",
       "# Test initials\n\nAdd unit tests for `initials` in `src/lib.rs`.\n\n## Files\n\n- change `src/lib.rs`\n\n## Signatures\n\n"
       "- `pub fn initials(name: &str) -> String` (exists; keep it exactly as it is)\n\n## Requirements\n\n"
       "- add a `#[cfg(test)] mod tests` with at least two `#[test]` functions\n- they assert that `initials(\"ada lovelace\")` is `\"AL\"`, "
       "`initials(\"\")` is `\"\"` and `initials(\"  grace  hopper \")` is `\"GH\"`\n\n## Tests\n\n- `initials(\"ada lovelace\")` returns `\"AL\"`\n",
       rs_test("    assert_eq!(initials(\"ada lovelace\"), \"AL\");"),
       rs_tests_hidden(INITIALS, INITIALS.replace("        .flat_map(char::to_uppercase)\n", ""),
                       "assert_eq!(initials(\"x y\"), \"XY\");"),
       kind="tests", held=True, given=INITIALS,
       reference=INITIALS + "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn two_words() {\n"
       "        assert_eq!(initials(\"ada lovelace\"), \"AL\");\n        assert_eq!(initials(\"  grace  hopper \"), \"GH\");\n    }\n\n"
       "    #[test]\n    fn empty() {\n        assert_eq!(initials(\"\"), \"\");\n    }\n}\n"),
    rs("docs_percent",
       "# Document the percent crate\n\nDocument `src/lib.rs` and its `percent`.\n\n## Files\n\n- change `src/lib.rs`\n\n## Signatures\n\n"
       "- `pub fn percent(part: u32, whole: u32) -> Option<u32>` (keep its code exactly as it is)\n\n## Requirements\n\n"
       "- the file starts with a `//!` comment saying the crate computes percentages\n"
       "- a `///` doc comment right above `percent` says it returns `None` when `whole` is `0`\n\n"
       "## Tests\n\n- `percent(1, 4)` returns `Some(25)`\n",
       rs_test("    assert_eq!(percent(1, 4), Some(25));"),
       rs_test("    assert_eq!(percent(3, 0), None);\n    assert_eq!(percent(1, 3), Some(33));\n"
               "    let src = std::fs::read_to_string(\"src/lib.rs\").unwrap();\n"
               "    assert!(src.trim_start().starts_with(\"//!\") && src.lines().next().unwrap().to_lowercase().contains(\"percent\"), \"no crate doc\");\n"
               "    let before: Vec<&str> = src.split(\"pub fn percent\").next().unwrap().lines().collect();\n"
               "    let doc: Vec<&str> = before.iter().rev().take_while(|l| l.trim_start().starts_with(\"///\")).copied().collect();\n"
               "    assert!(doc.iter().any(|l| l.contains(\"None\")), \"{doc:?}\");"),
       kind="docs", held=True, given=PERCENT,
       reference="//! Percentages of whole numbers.\n\n/// `part` as a percentage of `whole`, rounded down; `None` when `whole` is `0`.\n" + PERCENT),
]


# Extending a module too long to rewrite safely (40 to 90 lines): where the edit format decides
# whether the answer applies at all (`run.py --edit-format`). Written after the format choice's
# code; the held ones were not run before the choice was made.
CONFIG = '''"""Reads `key = value` settings, one per line; `#` starts a comment."""

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A line or a value that cannot be read."""


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"not a boolean: {text!r}")


def parse_int(text: str, low: int = 0, high: int = 65535) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"not a number: {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{value} is outside {low}..{high}")
    return value


def strip_comment(line: str) -> str:
    head, _, _ = line.partition("#")
    return head.strip()


def load(lines) -> dict:
    """The settings in `lines`, as strings; a line without `=` is an error."""
    settings = {}
    for number, line in enumerate(lines, start=1):
        line = strip_comment(line)
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"line {number}: expected key = value")
        settings[key.strip()] = value.strip()
    return settings


def get_bool(settings: dict, key: str, default: bool = False) -> bool:
    if key not in settings:
        return default
    return parse_bool(settings[key])


def get_int(settings: dict, key: str, default: int = 0) -> int:
    if key not in settings:
        return default
    return parse_int(settings[key])
'''

CART = '''"""A shopping cart: prices in cents, quantities in units."""


class CartError(ValueError):
    pass


class Cart:
    def __init__(self):
        self.items = {}
        self.prices = {}

    def add(self, name: str, price: int, qty: int = 1) -> None:
        if qty < 1:
            raise CartError("quantity must be at least 1")
        if price < 0:
            raise CartError("price cannot be negative")
        self.prices[name] = price
        self.items[name] = self.items.get(name, 0) + qty

    def remove(self, name: str, qty: int = 1) -> None:
        if self.items.get(name, 0) < qty:
            raise CartError(f"not enough {name} in the cart")
        self.items[name] -= qty
        if self.items[name] == 0:
            del self.items[name]
            del self.prices[name]

    def quantity(self, name: str) -> int:
        return self.items.get(name, 0)

    def total(self) -> int:
        return sum(self.prices[n] * q for n, q in self.items.items())

    def is_empty(self) -> bool:
        return not self.items

    def clear(self) -> None:
        self.items.clear()
        self.prices.clear()


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
'''

STACK = '''// A bounded stack.

#[derive(Debug, PartialEq, Eq)]
pub enum StackError {
    Full,
    Empty,
}

pub struct Stack<T> {
    items: Vec<T>,
    capacity: usize,
}

impl<T> Stack<T> {
    pub fn new(capacity: usize) -> Self {
        Stack {
            items: Vec::new(),
            capacity,
        }
    }

    pub fn push(&mut self, item: T) -> Result<(), StackError> {
        if self.items.len() == self.capacity {
            return Err(StackError::Full);
        }
        self.items.push(item);
        Ok(())
    }

    pub fn pop(&mut self) -> Result<T, StackError> {
        self.items.pop().ok_or(StackError::Empty)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

pub fn describe(error: &StackError) -> &'static str {
    match error {
        StackError::Full => "the stack is full",
        StackError::Empty => "the stack is empty",
    }
}
'''

TEMPS = '''// Temperature conversions.

pub const ABSOLUTE_ZERO_C: f64 = -273.15;

#[derive(Debug, PartialEq)]
pub struct BelowAbsoluteZero(pub f64);

pub fn celsius_to_fahrenheit(c: f64) -> f64 {
    c * 9.0 / 5.0 + 32.0
}

pub fn fahrenheit_to_celsius(f: f64) -> f64 {
    (f - 32.0) * 5.0 / 9.0
}

pub fn celsius_to_kelvin(c: f64) -> Result<f64, BelowAbsoluteZero> {
    if c < ABSOLUTE_ZERO_C {
        return Err(BelowAbsoluteZero(c));
    }
    Ok(c - ABSOLUTE_ZERO_C)
}

pub fn kelvin_to_celsius(k: f64) -> Result<f64, BelowAbsoluteZero> {
    if k < 0.0 {
        return Err(BelowAbsoluteZero(k));
    }
    Ok(k + ABSOLUTE_ZERO_C)
}

pub fn round_to(value: f64, places: u32) -> f64 {
    let factor = 10f64.powi(places as i32);
    (value * factor).round() / factor
}

pub fn describe(c: f64) -> &'static str {
    if c < 0.0 {
        "freezing"
    } else if c < 15.0 {
        "cold"
    } else if c < 25.0 {
        "mild"
    } else {
        "hot"
    }
}
'''

TEXTUTIL = '''"""Small text helpers for reports."""

import re

WORD = re.compile(r"[A-Za-z0-9']+")


def words(text: str) -> list:
    return WORD.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


def capitalize_words(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def indent(text: str, prefix: str = "    ") -> str:
    return "\\n".join(prefix + line if line else line for line in text.split("\\n"))


def pad_right(text: str, width: int, fill: str = " ") -> str:
    if len(fill) != 1:
        raise ValueError("fill must be one character")
    return text + fill * max(0, width - len(text))


def center(text: str, width: int) -> str:
    total = max(0, width - len(text))
    left = total // 2
    return " " * left + text + " " * (total - left)


def initials(name: str) -> str:
    return "".join(part[0].upper() for part in name.split() if part)


def is_blank(text: str) -> bool:
    return not text.strip()


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
'''

MATRIX = '''// A small dense matrix of f64, row-major.

#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn from_rows(rows: &[Vec<f64>]) -> Option<Matrix> {
        let cols = rows.first().map_or(0, |r| r.len());
        if rows.iter().any(|r| r.len() != cols) {
            return None;
        }
        Some(Matrix {
            rows: rows.len(),
            cols,
            data: rows.iter().flatten().copied().collect(),
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn get(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.cols + col]
    }

    pub fn set(&mut self, row: usize, col: usize, value: f64) {
        self.data[row * self.cols + col] = value;
    }

    pub fn scale(&self, factor: f64) -> Matrix {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|v| v * factor).collect(),
        }
    }
}

pub fn identity(n: usize) -> Matrix {
    let mut m = Matrix::zeros(n, n);
    for i in 0..n {
        m.set(i, i, 1.0);
    }
    m
}
'''


def extend_py(name, file, given, title, signature, requirements, tests, visible, hidden, reference, held=False):
    return py(name, file, spec(title, file, False, signature, requirements, tests), PY_HEAD + visible,
              PY_HEAD + hidden, given=given, kind="extend", held=held, reference=reference)


def extend_rs(name, given, title, signature, requirements, tests, visible, hidden, reference, held=False):
    return rs(name, spec(title, "src/lib.rs", False, signature, requirements, tests), rs_test(visible),
              rs_test(hidden), given=given, kind="extend", held=held, reference=reference)


TASKS += [
    extend_py("extend_config", "config.py", CONFIG, "Read lists from the config", "def get_list(settings: dict, key: str) -> list",
              ["keep every existing function exactly as it is",
               "`get_list` splits the value of `key` at commas, strips each item and drops empty ones",
               "a missing `key` returns `[]`"],
              ["`get_list({\"hosts\": \"a, b,,c \"}, \"hosts\")` returns `[\"a\", \"b\", \"c\"]`",
               "`get_list({}, \"hosts\")` returns `[]`"],
              "from config import get_list\nassert get_list({'hosts': 'a, b,,c '}, 'hosts') == ['a', 'b', 'c']\n",
              "from config import get_list, load, get_int, get_bool\nassert get_list({}, 'x') == []\n"
              "assert get_list({'x': ' , '}, 'x') == []\ns = load(['port = 80 # web', 'debug=yes', 'x = 1,2'])\n"
              "assert get_int(s, 'port') == 80 and get_bool(s, 'debug') and get_list(s, 'x') == ['1', '2']\n",
              CONFIG + "\n\ndef get_list(settings: dict, key: str) -> list:\n    if key not in settings:\n        return []\n"
              "    return [item.strip() for item in settings[key].split(\",\") if item.strip()]\n"),
    extend_py("extend_cart", "cart.py", CART, "Discounts in the cart", "def discounted_total(self, percent: int) -> int",
              ["keep every existing method and function exactly as it is",
               "add the method `discounted_total` to `Cart`: the total less `percent` per cent, rounded down to whole cents",
               "`percent` below `0` or above `100` raises `CartError`"],
              ["after `add(\"tea\", 250, 2)`, `discounted_total(10)` returns `450`"],
              "from cart import Cart\nc = Cart()\nc.add('tea', 250, 2)\nassert c.discounted_total(10) == 450\n",
              "from cart import Cart, CartError\nc = Cart()\nc.add('a', 333)\nassert c.discounted_total(0) == 333\n"
              "assert c.discounted_total(50) == 166\nassert c.discounted_total(100) == 0\nassert c.total() == 333\n"
              "for bad in (-1, 101):\n    try:\n        c.discounted_total(bad)\n        raise SystemExit('no CartError')\n"
              "    except CartError:\n        pass\nc.remove('a')\nassert c.is_empty()\n",
              CART.replace("    def is_empty(self)", "    def discounted_total(self, percent: int) -> int:\n"
                           "        if not 0 <= percent <= 100:\n            raise CartError('percent must be 0..100')\n"
                           "        return self.total() * (100 - percent) // 100\n\n    def is_empty(self)")),
    extend_rs("extend_stack", STACK, "Peek at the stack", "pub fn peek(&self) -> Option<&T>",
              ["keep every existing item exactly as it is",
               "add `peek` to `impl<T> Stack<T>`: the top item without removing it, `None` when empty"],
              ["`Stack::<i32>::new(2).peek()` returns `None`"],
              "    let mut s = Stack::new(2);\n    assert_eq!(s.peek(), None);\n    s.push(1).unwrap();\n    assert_eq!(s.peek(), Some(&1));",
              "    let mut s = Stack::new(1);\n    s.push(\"a\").unwrap();\n    assert_eq!(s.peek(), Some(&\"a\"));\n    assert_eq!(s.len(), 1);\n"
              "    assert_eq!(s.push(\"b\"), Err(StackError::Full));\n    assert_eq!(s.pop(), Ok(\"a\"));\n    assert_eq!(s.peek(), None);\n"
              "    assert_eq!(describe(&StackError::Empty), \"the stack is empty\");",
              STACK.replace("    pub fn len(&self)", "    pub fn peek(&self) -> Option<&T> {\n        self.items.last()\n    }\n\n    pub fn len(&self)")),
    extend_rs("extend_temps", TEMPS, "Fahrenheit to kelvin", "pub fn fahrenheit_to_kelvin(f: f64) -> Result<f64, BelowAbsoluteZero>",
              ["keep every existing item exactly as it is",
               "convert through celsius; a temperature below absolute zero returns `Err(BelowAbsoluteZero(f))` with the fahrenheit value"],
              ["`fahrenheit_to_kelvin(32.0)` returns `Ok(273.15)`"],
              "    assert_eq!(fahrenheit_to_kelvin(32.0), Ok(273.15));",
              "    assert_eq!(round_to(fahrenheit_to_kelvin(212.0).unwrap(), 2), 373.15);\n"
              "    assert_eq!(fahrenheit_to_kelvin(-500.0), Err(BelowAbsoluteZero(-500.0)));\n    assert_eq!(describe(20.0), \"mild\");",
              TEMPS + "\npub fn fahrenheit_to_kelvin(f: f64) -> Result<f64, BelowAbsoluteZero> {\n"
              "    celsius_to_kelvin(fahrenheit_to_celsius(f)).map_err(|_| BelowAbsoluteZero(f))\n}\n"),
    extend_py("extend_text", "textutil.py", TEXTUTIL, "Truncate text", "def truncate(text: str, width: int) -> str",
              ["keep every existing function exactly as it is",
               "`truncate` returns `text` unchanged when it has at most `width` characters",
               "otherwise it returns the first `width - 3` characters followed by `\"...\"`",
               "`width` below `3` raises `ValueError`"],
              ["`truncate(\"hello world\", 8)` returns `\"hello...\"`", "`truncate(\"hi\", 5)` returns `\"hi\"`"],
              "from textutil import truncate\nassert truncate('hello world', 8) == 'hello...'\n",
              "from textutil import truncate, plural, initials\nassert truncate('abc', 3) == 'abc'\nassert truncate('abcd', 3) == '...'\n"
              "assert truncate('', 4) == ''\ntry:\n    truncate('abc', 2)\n    raise SystemExit('no ValueError')\nexcept ValueError:\n    pass\n"
              "assert plural(2, 'file') == '2 files' and initials('ada lovelace') == 'AL'\n",
              TEXTUTIL + "\n\ndef truncate(text: str, width: int) -> str:\n    if width < 3:\n        raise ValueError('width below 3')\n"
              "    if len(text) <= width:\n        return text\n    return text[:width - 3] + '...'\n", held=True),
    extend_rs("extend_matrix", MATRIX, "Transpose a matrix", "pub fn transpose(&self) -> Matrix",
              ["keep every existing item exactly as it is",
               "add `transpose` to `impl Matrix`: a new matrix whose element at row `c`, column `r` is this one's at row `r`, column `c`"],
              ["`Matrix::zeros(2, 3).transpose().rows()` returns `3`"],
              "    assert_eq!(Matrix::zeros(2, 3).transpose().rows(), 3);",
              "    let m = Matrix::from_rows(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]).unwrap();\n    let t = m.transpose();\n"
              "    assert_eq!((t.rows(), t.cols()), (3, 2));\n    assert_eq!(t.get(2, 1), 6.0);\n    assert_eq!(t.get(0, 1), 4.0);\n"
              "    assert_eq!(t.transpose(), m);\n    assert_eq!(identity(3).transpose(), identity(3));",
              MATRIX.replace("    pub fn scale(&self", "    pub fn transpose(&self) -> Matrix {\n        let mut t = Matrix::zeros(self.cols, self.rows);\n"
                             "        for r in 0..self.rows {\n            for c in 0..self.cols {\n                t.set(c, r, self.get(r, c));\n"
                             "            }\n        }\n        t\n    }\n\n    pub fn scale(&self"), held=True),
]



# Right answers of the first tasks, which were written before tasks carried one: every task is
# audited by `run.py --selftest` (its tests, and the check its spec's examples become).
_REFERENCES = {
    "clamp": "def clamp(value, low, high):\n    if low > high:\n        raise ValueError('low above high')\n"
             "    return max(low, min(value, high))\n",
    "slugify": "import re\n\n\ndef slugify(text):\n    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')\n",
    "parse_port": "def parse_port(value):\n    value = value.strip()\n    if not value.isdigit():\n        raise ValueError(value)\n"
                  "    port = int(value)\n    if not 1 <= port <= 65535:\n        raise ValueError(value)\n    return port\n",
    "word_count": "import re\n\n\ndef word_count(text):\n    counts = {}\n    for word in re.findall(r'[a-z]+', text.lower()):\n"
                  "        counts[word] = counts.get(word, 0) + 1\n    return counts\n",
    "palindrome": "def is_palindrome(text):\n    kept = [c.lower() for c in text if c.isascii() and c.isalnum()]\n    return kept == kept[::-1]\n",
    "fizzbuzz": "def fizzbuzz(n):\n    out = []\n    for i in range(1, n + 1):\n"
                "        out.append('FizzBuzz' if i % 15 == 0 else 'Fizz' if i % 3 == 0 else 'Buzz' if i % 5 == 0 else str(i))\n"
                "    return out\n",
    "chunk": "def chunk(items, size):\n    if size < 1:\n        raise ValueError(size)\n"
             "    return [items[i:i + size] for i in range(0, len(items), size)]\n",
    "flatten": "def flatten(nested):\n    out = []\n    for item in nested:\n"
               "        out.extend(flatten(item) if isinstance(item, list) else [item])\n    return out\n",
    "roman": "def to_roman(n):\n    if not 1 <= n <= 3999:\n        raise ValueError(n)\n"
             "    marks = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'), (50, 'L'),\n"
             "             (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]\n    out = ''\n"
             "    for value, mark in marks:\n        while n >= value:\n            out += mark\n            n -= value\n    return out\n",
    "median": "def median(values):\n    if not values:\n        raise ValueError('no values')\n    s = sorted(values)\n    mid = len(s) // 2\n"
              "    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2\n",
    "caesar": "def caesar(text, shift):\n    out = []\n    for c in text:\n        if 'a' <= c <= 'z' or 'A' <= c <= 'Z':\n"
              "            base = ord('a') if c.islower() else ord('A')\n            c = chr((ord(c) - base + shift) % 26 + base)\n"
              "        out.append(c)\n    return ''.join(out)\n",
    "dedupe": "def dedupe(items):\n    out = []\n    for item in items:\n        if item not in out:\n            out.append(item)\n    return out\n",
    "extend_module": "def add(a: int, b: int) -> int:\n    return a + b\n\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n\n\n"
                     "def mul(a: int, b: int) -> int:\n    return a * b\n",
    "clamp_rs": "pub fn clamp(v: i64, lo: i64, hi: i64) -> i64 {\n    if v < lo { lo } else if v > hi { hi } else { v }\n}\n",
    "leap_year": "pub fn is_leap_year(year: u32) -> bool {\n    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)\n}\n",
    "reverse_words": "pub fn reverse_words(s: &str) -> String {\n    s.split_whitespace().rev().collect::<Vec<_>>().join(\" \")\n}\n",
    "gcd": "pub fn gcd(a: u64, b: u64) -> u64 {\n    if b == 0 { a } else { gcd(b, a % b) }\n}\n",
    "count_vowels": "pub fn count_vowels(s: &str) -> usize {\n    s.chars().filter(|c| \"aeiouAEIOU\".contains(*c)).count()\n}\n",
    "parse_kv": "pub fn parse_kv(line: &str) -> Option<(String, String)> {\n    let (k, v) = line.split_once('=')?;\n"
                "    let k = k.trim();\n    if k.is_empty() {\n        return None;\n    }\n    Some((k.to_string(), v.trim().to_string()))\n}\n",
    "to_binary": "pub fn to_binary(n: u32) -> String {\n    format!(\"{:b}\", n)\n}\n",
    "extend_lib": "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\npub fn factorial(n: u32) -> u64 {\n    (1..=n as u64).product()\n}\n",
}
for _t in TASKS:
    if _t["reference"] is None:
        _t["reference"] = _REFERENCES[_t["name"]]
HELD = [t["name"] for t in TASKS if t["held"]]
