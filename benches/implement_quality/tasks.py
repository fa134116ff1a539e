"""The quality benchmark's tasks: small, precise specs in Python and Rust, each with a visible
test (in the repository, what a check loop may run) and a hidden test the model never sees (run
only to score the result). Each task is a dict:

    name, lang ("python" | "rust"), file (the one file to create or change),
    given (the file's content before, or None), spec (the Markdown spec),
    visible (test source), hidden (test source)

Python tests are scripts run with `python3 FILE` from the repository's top; Rust tests are
compiled with `rustc --edition 2021 --test FILE`, and start with `include!("src/lib.rs");`.
"""


def py(name, file, spec, visible, hidden, given=None):
    return dict(name=name, lang="python", file=file, given=given, spec=spec, visible=visible, hidden=hidden)


def rs(name, spec, visible, hidden, given=None):
    return dict(name=name, lang="rust", file="src/lib.rs", given=given, spec=spec, visible=visible, hidden=hidden)


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
