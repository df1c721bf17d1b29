import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterStep,
  allowed,
  answer,
  currentStep,
  gate,
  isActive,
  isFinished,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  type StepOutcome,
} from "../../../src/core/automation/run.js";
import type { ActionStep, Playbook } from "../../../src/core/automation/types.js";

const action = (name: string): ActionStep => ({
  name,
  method: "POST",
  url: `http://runbooks.internal/${name}`,
  headers: {},
  body: null,
  timeoutMs: 30_000,
});

function book(steps: number, rollback: number, autoAbove: number | null = 0.6): Playbook {
  return {
    name: "disk-cleanup",
    description: null,
    autoAbove,
    approvalTimeoutMs: 15 * 60_000,
    steps: Array.from({ length: steps }, (_, i) => action(`step-${i}`)),
    rollback: Array.from({ length: rollback }, (_, i) => action(`undo-${i}`)),
  };
}

const T0 = 1_800_000_000_000;

function newRun(b: Playbook, status: RunStatus = "running"): Run {
  return {
    id: 1,
    incidentId: 10,
    playbook: b.name,
    book: b,
    status,
    step: 0,
    failedStep: null,
    lastError: null,
    score: 0.9,
    decidedBy: status === "running" ? "pagewise" : null,
    onFailure: { kind: "page", chain: null, twoPerson: false },
    createdAt: T0,
    updatedAt: T0,
  };
}

const OK: StepOutcome = { ok: true, detail: "HTTP 200" };
const fail = (reason: string): StepOutcome => ({ ok: false, reason });

describe("gate", () => {
  const b = book(1, 0, 0.6);
  it.each([
    [0.6, "run"],
    [0.61, "run"],
    [1, "run"],
    [0.59, "ask"],
    [0, "ask"],
  ] as const)("auto_above 0.6, score %s -> %s", (score, want) => {
    expect(gate(b, score)).toBe(want);
  });

  it("asks when the score is unknown", () => {
    expect(gate(b, null)).toBe("ask");
    expect(gate(book(1, 0, 0), null)).toBe("ask");
  });

  it("always asks when auto_above is null, even at score 1", () => {
    for (const s of [0, 0.5, 1, null]) expect(gate(book(1, 0, null), s)).toBe("ask");
  });

  it("auto_above 0 runs at any known score", () => {
    expect(gate(book(1, 0, 0), 0)).toBe("run");
  });
});

describe("currentStep", () => {
  const b = book(3, 2);
  it("is the forward step while running and the rollback step while rolling back", () => {
    expect(currentStep({ ...newRun(b), step: 1 })).toBe(b.steps[1]);
    expect(currentStep({ ...newRun(b), status: "rolling_back", step: 1 })).toBe(b.rollback[1]);
  });
  it("is null while awaiting approval, once finished, and past the end", () => {
    for (const s of RUN_STATUSES.filter((x) => !isActive(x))) expect(currentStep(newRun(b, s))).toBeNull();
    expect(currentStep({ ...newRun(b), step: 3 })).toBeNull();
  });
});

describe("afterStep", () => {
  it("runs every step in order and succeeds after the last", () => {
    const b = book(3, 1);
    let run = newRun(b);
    for (let i = 0; i < 3; i++) {
      expect(currentStep(run)?.name).toBe(`step-${i}`);
      const r = afterStep(run, OK, T0 + i + 1);
      expect(r.fallback).toBe(false);
      run = r.run;
      expect(run.updatedAt).toBe(T0 + i + 1);
      expect(run.status).toBe(i < 2 ? "running" : "succeeded");
    }
    expect(run.failedStep).toBeNull();
    expect(run.lastError).toBeNull();
    expect(currentStep(run)).toBeNull();
  });

  it("a failing step with rollback steps rolls back from the first rollback step, then falls back", () => {
    const b = book(3, 2);
    let r = afterStep(newRun(b), OK, T0 + 1);
    r = afterStep(r.run, fail("HTTP 500: disk busy"), T0 + 2);
    expect(r.fallback).toBe(false);
    expect(r.run).toMatchObject({
      status: "rolling_back",
      step: 0,
      failedStep: "step-1",
      lastError: "HTTP 500: disk busy",
      updatedAt: T0 + 2,
    });
    expect(currentStep(r.run)?.name).toBe("undo-0");

    r = afterStep(r.run, OK, T0 + 3);
    expect(r.fallback).toBe(false);
    expect(r.run).toMatchObject({ status: "rolling_back", step: 1 });
    expect(currentStep(r.run)?.name).toBe("undo-1");

    r = afterStep(r.run, OK, T0 + 4);
    expect(r.fallback).toBe(true);
    expect(r.run).toMatchObject({
      status: "rolled_back",
      failedStep: "step-1",
      lastError: "HTTP 500: disk busy",
    });
    expect(isFinished(r.run.status)).toBe(true);
  });

  it("a failing first step still runs the rollback (it may have half-run)", () => {
    const r = afterStep(newRun(book(2, 1)), fail("timeout"), T0 + 1);
    expect(r.run).toMatchObject({ status: "rolling_back", step: 0, failedStep: "step-0" });
    expect(r.fallback).toBe(false);
  });

  it("a failing step without rollback steps fails and falls back at once", () => {
    let r = afterStep(newRun(book(2, 0)), OK, T0 + 1);
    r = afterStep(r.run, fail("connection refused"), T0 + 2);
    expect(r.fallback).toBe(true);
    expect(r.run).toMatchObject({ status: "failed", failedStep: "step-1", lastError: "connection refused" });
    expect(isFinished(r.run.status)).toBe(true);
  });

  it("a failing rollback step stops there: failed, fallback, and the error names the rollback step", () => {
    const b = book(2, 3);
    let r = afterStep(newRun(b), fail("HTTP 502"), T0 + 1);
    r = afterStep(r.run, OK, T0 + 2);
    r = afterStep(r.run, fail("HTTP 503"), T0 + 3);
    expect(r.fallback).toBe(true);
    expect(r.run.status).toBe("failed");
    expect(r.run.failedStep).toBe("step-0");
    expect(r.run.lastError).toContain("undo-1");
    expect(r.run.lastError).toContain("HTTP 503");
    expect(currentStep(r.run)).toBeNull();
  });

  it("a run with no step here (finished or waiting) is left as it is, with no second fallback", () => {
    const b = book(1, 1);
    for (const s of RUN_STATUSES.filter((x) => !isActive(x))) {
      const r = afterStep(newRun(b, s), fail("late"), T0 + 5);
      expect(r.fallback).toBe(false);
      expect(r.run.status).toBe(s);
      expect(r.run.lastError).toBeNull();
    }
  });
});

describe("answer", () => {
  const b = book(2, 0);
  it("approval starts the run; rejection finishes it; both record who and when", () => {
    const waiting = newRun(b, "awaiting_approval");
    expect(answer(waiting, true, "alice", T0 + 9)).toMatchObject({
      status: "running",
      decidedBy: "alice",
      updatedAt: T0 + 9,
      step: 0,
    });
    const no = answer(waiting, false, "bob", T0 + 9);
    expect(no).toMatchObject({ status: "rejected", decidedBy: "bob" });
    expect(isFinished(no?.status as RunStatus)).toBe(true);
  });

  it.each(RUN_STATUSES.filter((s) => s !== "awaiting_approval"))("is refused from %s", (s) => {
    expect(answer(newRun(b, s), true, "alice", T0)).toBeNull();
    expect(answer(newRun(b, s), false, "alice", T0)).toBeNull();
  });
});

describe("afterStep: any playbook, any outcomes", () => {
  it("terminates within steps + rollback calls, with fallback exactly on rolled_back/failed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (n, m, oks) => {
          const b = book(n, m);
          let run = newRun(b);
          let calls = 0;
          let fallbacks = 0;
          let forwardAllOk = true;
          while (!isFinished(run.status)) {
            expect(calls).toBeLessThan(n + m);
            const ok = oks[calls] ?? true;
            if (!ok && run.status === "running") forwardAllOk = false;
            const r = afterStep(run, ok ? OK : fail(`boom ${calls}`), T0 + calls);
            calls++;
            run = r.run;
            if (r.fallback) {
              fallbacks++;
              // fallback only ever comes with the final status
              expect(isFinished(run.status)).toBe(true);
            }
          }
          expect(calls).toBeLessThanOrEqual(n + m);
          expect(["succeeded", "rolled_back", "failed"]).toContain(run.status);
          expect(fallbacks === 1).toBe(run.status === "rolled_back" || run.status === "failed");
          expect(fallbacks).toBeLessThanOrEqual(1);
          expect(run.status === "succeeded").toBe(forwardAllOk);
          if (run.status === "succeeded") expect(calls).toBe(n);
          else expect(run.failedStep).toMatch(/^step-\d$/);
          if (run.status === "rolled_back") expect(m).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe("allowed", () => {
  const LIST = {
    hosts: [
      "runbooks.internal",
      "127.0.0.1:8080",
      "*.example.com",
      "api.example.org:443",
      "plain.example.net:80",
      "Mixed.Case.Host",
      "[::1]:9000",
      "[fe80::1]",
      "*.wild.test:8443",
    ],
  };
  it.each([
    // exact hosts, any port when the entry names none
    ["http://runbooks.internal/x", true],
    ["https://runbooks.internal:8443/x?y=1", true],
    ["http://runbooks.internal.evil.com/", false],
    ["http://internal/", false],
    // host:port
    ["http://127.0.0.1:8080/-/sink/x", true],
    ["http://127.0.0.1:8081/", false],
    ["http://127.0.0.1/", false],
    ["https://127.0.0.1:8080/", true],
    // default ports
    ["https://api.example.org/x", true],
    ["https://api.example.org:443/x", true],
    ["http://api.example.org/x", false],
    ["http://api.example.org:443/x", true],
    ["http://plain.example.net/", true],
    ["http://plain.example.net:80/", true],
    ["https://plain.example.net/", false],
    // wildcards: subdomains only
    ["http://a.example.com/", true],
    ["https://deep.a.example.com/x", true],
    ["http://example.com/", false],
    ["http://evil-example.com/", false],
    ["http://aexample.com/", false],
    ["http://example.com.evil.net/", false],
    ["https://a.wild.test:8443/", true],
    ["https://a.wild.test/", false],
    ["https://wild.test:8443/", false],
    // case-insensitive
    ["HTTP://RUNBOOKS.INTERNAL/X", true],
    ["http://mixed.case.host/", true],
    ["http://A.EXAMPLE.COM/", true],
    // userinfo and other tricks
    ["http://127.0.0.1:8080@evil.com/", false],
    ["http://runbooks.internal@evil.com/", false],
    ["http://evil.com/?to=http://127.0.0.1:8080/", false],
    ["http://evil.com#@127.0.0.1:8080", false],
    ["http://evil.com\\@runbooks.internal/", false],
    // IPv6
    ["http://[::1]:9000/", true],
    ["http://[::1]:9001/", false],
    ["http://[::1]/", false],
    ["http://[fe80::1]/", true],
    ["http://[fe80::1]:1234/", true],
    ["http://[fe80::2]/", false],
    // only http(s)
    ["ftp://runbooks.internal/", false],
    ["ws://runbooks.internal/", false],
    ["file:///etc/passwd", false],
    ["javascript:alert(1)", false],
    ["data:text/plain,hi", false],
    // not URLs
    ["", false],
    ["not a url", false],
    ["http://", false],
    ["//runbooks.internal/x", false],
    ["runbooks.internal/x", false],
    ["http://run books.internal/", false],
  ] as const)("%s -> %s", (url, want) => {
    expect(allowed(LIST, url)).toBe(want);
  });

  it("an empty allowlist allows nothing", () => {
    expect(allowed({ hosts: [] }, "http://runbooks.internal/")).toBe(false);
    expect(allowed({ hosts: [] }, "http://127.0.0.1/")).toBe(false);
  });

  it("an entry with a port never matches another port, for any port", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        const url = `http://127.0.0.1:${port}/`;
        expect(allowed({ hosts: ["127.0.0.1:8080"] }, url)).toBe(port === 8080);
      }),
    );
  });
});
