import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  firstMismatch,
  type Matcher,
  matches,
  matchesAll,
  parseMatcher,
} from "../../../src/core/policy/matchers.js";

/** Parses a matcher the test knows to be valid (fails the test with the reason otherwise). */
function m(text: string): Matcher {
  const r = parseMatcher(text);
  if (typeof r === "string") throw new Error(`expected a matcher, got: ${r}`);
  return r;
}

/** A value as it is written between double quotes. */
function quote(v: string): string {
  return `"${v.replace(/[\\"]/g, "\\$&")}"`;
}

/** A literal string as a regex that matches only itself. */
function reEscape(v: string): string {
  return v.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

const labelName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);

describe("parseMatcher", () => {
  it("reads the four Alertmanager operators", () => {
    expect(m('env="prod"')).toMatchObject({
      name: "env",
      op: "=",
      value: "prod",
      re: null,
      text: 'env="prod"',
    });
    expect(m('env!="prod"')).toMatchObject({ name: "env", op: "!=", value: "prod", re: null });
    const re = m('alertname=~"Disk.*"');
    expect(re).toMatchObject({ name: "alertname", op: "=~", value: "Disk.*" });
    expect(re.re).toBeInstanceOf(RegExp);
    const nre = m('alertname!~"Disk.*"');
    expect(nre).toMatchObject({ op: "!~", value: "Disk.*" });
    expect(nre.re).toBeInstanceOf(RegExp);
  });

  it("accepts single quotes, bare values, empty values and spaces around the parts", () => {
    expect(m("env='prod'")).toMatchObject({ name: "env", op: "=", value: "prod" });
    expect(m("env=prod")).toMatchObject({ name: "env", op: "=", value: "prod" });
    expect(m("env!~prod|staging")).toMatchObject({ op: "!~", value: "prod|staging" });
    expect(m('env=""')).toMatchObject({ op: "=", value: "" });
    expect(m("env=")).toMatchObject({ op: "=", value: "" });
    const spaced = m('  env  !=  "prod"  ');
    expect(spaced).toMatchObject({ name: "env", op: "!=", value: "prod", text: 'env  !=  "prod"' });
    expect(m('kubernetes.io_zone="a"').name).toBe("kubernetes.io_zone");
  });

  it("keeps spaces inside quotes and reads backslash escapes", () => {
    expect(m('summary="disk is full"').value).toBe("disk is full");
    expect(m('msg="say \\"hi\\""').value).toBe('say "hi"');
    expect(m("msg='it\\'s'").value).toBe("it's");
    expect(m('path="C:\\\\temp"').value).toBe("C:\\temp");
    // An escaped backslash before the closing quote does not escape the quote.
    expect(m('path="ends\\\\"').value).toBe("ends\\");
    // Inside a regex, "\\." (written escaped) is a literal dot.
    const dot = m('host=~"db\\\\.example"');
    expect(dot.value).toBe("db\\.example");
    expect(matches(dot, { host: "db.example" })).toBe(true);
    expect(matches(dot, { host: "dbxexample" })).toBe(false);
  });

  it.each([
    "env",
    'env "prod"',
    '="prod"',
    '1env="prod"',
    'env~"prod"',
    'env="prod',
    'env="prod" extra',
    'env="a"b',
    "env=a b",
    // An unclosed quote after =~ must not fall back to `=` with the value `~"(`.
    'service=~"(',
    "service!~'a",
    'env=a"b',
    "",
    "   ",
  ])("gives a reason for %j instead of a matcher", (text) => {
    const r = parseMatcher(text);
    expect(typeof r).toBe("string");
    expect(r).toContain("is not a matcher");
    expect(r).toContain(`"${text}"`);
  });

  it.each(['env=~"("', 'env!~"[a-"', 'env=~"*x"', 'env=~"a{2,1}"'])(
    "gives a reason for the invalid regex in %j",
    (text) => {
      const r = parseMatcher(text);
      expect(typeof r).toBe("string");
      expect(r).toContain(`"${text}"`);
      expect(r).toMatch(/Invalid regular expression/);
    },
  );

  it("does not compile the value of = and != as a regex", () => {
    expect(m('env="("')).toMatchObject({ value: "(", re: null });
    expect(matches(m('env="("'), { env: "(" })).toBe(true);
    expect(matches(m('env!="a.b"'), { env: "axb" })).toBe(true);
  });
});

describe("matches", () => {
  it("compares = and != exactly", () => {
    expect(matches(m('env="prod"'), { env: "prod" })).toBe(true);
    expect(matches(m('env="prod"'), { env: "production" })).toBe(false);
    expect(matches(m('env="prod"'), { env: "Prod" })).toBe(false);
    expect(matches(m('env!="prod"'), { env: "prod" })).toBe(false);
    expect(matches(m('env!="prod"'), { env: "staging" })).toBe(true);
  });

  it("anchors regexes at both ends, as Alertmanager does", () => {
    const a = m('x=~"a"');
    expect(matches(a, { x: "a" })).toBe(true);
    expect(matches(a, { x: "ab" })).toBe(false);
    expect(matches(a, { x: "ba" })).toBe(false);
    // The whole alternation is anchored, not only its first and last branch.
    const alt = m('x=~"a|b"');
    expect(matches(alt, { x: "a" })).toBe(true);
    expect(matches(alt, { x: "b" })).toBe(true);
    expect(matches(alt, { x: "ab" })).toBe(false);
    expect(matches(alt, { x: "xa" })).toBe(false);
    expect(matches(alt, { x: "bx" })).toBe(false);
    const db = m('alertname=~".*(Database|Postgres).*"');
    expect(matches(db, { alertname: "PostgresReplicationLag" })).toBe(true);
    expect(matches(db, { alertname: "DiskFull" })).toBe(false);
    const not = m('x!~"a"');
    expect(matches(not, { x: "a" })).toBe(false);
    expect(matches(not, { x: "ab" })).toBe(true);
  });

  it("is case-sensitive and treats a regex's dot as any character but a newline", () => {
    expect(matches(m('x=~"abc"'), { x: "ABC" })).toBe(false);
    expect(matches(m('x=~"a.c"'), { x: "abc" })).toBe(true);
    expect(matches(m('x=~"a.c"'), { x: "a\nc" })).toBe(false);
  });

  it("matches a missing label as the empty string", () => {
    expect(matches(m('env=""'), {})).toBe(true);
    expect(matches(m('env!=""'), {})).toBe(false);
    expect(matches(m('env="prod"'), {})).toBe(false);
    expect(matches(m('env!="prod"'), {})).toBe(true);
    expect(matches(m('env=~".*"'), {})).toBe(true);
    expect(matches(m('env=~".+"'), {})).toBe(false);
    expect(matches(m('env!~".+"'), {})).toBe(true);
    expect(matches(m('env=~"prod|"'), { other: "x" })).toBe(true);
  });

  // Bug: labels are plain objects, so `labels[name]` finds Object.prototype's members
  // (constructor, toString, valueOf, hasOwnProperty, __proto__, ...) for a label that is absent.
  // A missing label named `constructor` then does not match `constructor=""`.
  it("matches a missing label named like an Object.prototype member as the empty string too", () => {
    const names = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];
    const labels: Record<string, string> = { alertname: "X" };
    const seen = Object.fromEntries(
      names.map((n) => [
        n,
        [
          matches(m(`${n}=""`), labels),
          matches(m(`${n}!=""`), labels),
          matches(m(`${n}=~""`), labels),
          matches(m(`${n}!~".+"`), labels),
        ],
      ]),
    );
    expect(seen).toEqual(Object.fromEntries(names.map((n) => [n, [true, false, true, true]])));
  });

  it("matchesAll needs every matcher (an empty list matches anything); firstMismatch names the first that fails", () => {
    const ms = [m('env="prod"'), m('team=~"pay.*"'), m('region!="eu"')];
    expect(matchesAll([], {})).toBe(true);
    expect(firstMismatch([], {})).toBeNull();
    expect(matchesAll(ms, { env: "prod", team: "payments", region: "us" })).toBe(true);
    expect(firstMismatch(ms, { env: "prod", team: "payments", region: "us" })).toBeNull();
    expect(matchesAll(ms, { env: "prod", team: "search", region: "eu" })).toBe(false);
    expect(firstMismatch(ms, { env: "prod", team: "search", region: "eu" })?.text).toBe('team=~"pay.*"');
    expect(firstMismatch(ms, { env: "dev", team: "search", region: "eu" })?.text).toBe('env="prod"');
    expect(firstMismatch(ms, { env: "prod", team: "payments", region: "eu" })?.text).toBe('region!="eu"');
  });
});

describe("matcher properties", () => {
  const labelsWith = (name: string, value: string | undefined, rest: Record<string, string>) => {
    const l: Record<string, string> = { ...rest };
    delete l[name];
    if (value !== undefined) l[name] = value;
    return l;
  };
  const arbLabels = fc.dictionary(labelName, fc.string({ maxLength: 6 }), { maxKeys: 4 });

  it('reads any quoted value back exactly: name="v" has value v', () => {
    fc.assert(
      fc.property(labelName, fc.string({ unit: "binary", maxLength: 20 }), (name, v) => {
        const parsed = m(`${name}=${quote(v)}`);
        expect(parsed.name).toBe(name);
        expect(parsed.value).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('name="v" and name!="v" are complements on every label set', () => {
    fc.assert(
      fc.property(
        labelName,
        fc.string({ maxLength: 6 }),
        fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
        fc.boolean(),
        arbLabels,
        (name, v, other, same, rest) => {
          const labels = labelsWith(name, same ? v : other, rest);
          const eq = m(`${name}=${quote(v)}`);
          const ne = m(`${name}!=${quote(v)}`);
          expect(matches(ne, labels)).toBe(!matches(eq, labels));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("=~ and !~ are complements too", () => {
    fc.assert(
      fc.property(
        labelName,
        fc.constantFrom("a.*", "a|b", "[0-9]+", "", ".*", "x?y"),
        fc.option(fc.constantFrom("a", "ab", "b", "123", "", "y", "xy", "c"), { nil: undefined }),
        (name, re, value) => {
          const labels = labelsWith(name, value, {});
          expect(matches(m(`${name}!~${quote(re)}`), labels)).toBe(
            !matches(m(`${name}=~${quote(re)}`), labels),
          );
        },
      ),
    );
  });

  it("=~ of an escaped literal matches exactly what = matches", () => {
    fc.assert(
      fc.property(
        labelName,
        fc.string({ unit: "binary", maxLength: 12 }),
        fc.option(fc.string({ unit: "binary", maxLength: 12 }), { nil: undefined }),
        fc.boolean(),
        arbLabels,
        (name, v, other, same, rest) => {
          const labels = labelsWith(name, same ? v : other, rest);
          const eq = m(`${name}=${quote(v)}`);
          const re = m(`${name}=~${quote(reEscape(v))}`);
          expect(matches(re, labels)).toBe(matches(eq, labels));
          const nre = m(`${name}!~${quote(reEscape(v))}`);
          expect(matches(nre, labels)).toBe(!matches(eq, labels));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a missing label matches exactly as an empty one", () => {
    fc.assert(
      fc.property(
        labelName,
        fc.constantFrom("=", "!=", "=~", "!~"),
        fc.constantFrom("", "x", ".*", ".+", "a|"),
        arbLabels,
        (name, op, value, rest) => {
          const matcher = m(`${name}${op}${quote(value)}`);
          const without = labelsWith(name, undefined, rest);
          expect(matches(matcher, without)).toBe(matches(matcher, { ...without, [name]: "" }));
        },
      ),
    );
  });
});
