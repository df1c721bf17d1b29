import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ContextSnapshot } from "../../../src/core/scoring/context.js";
import {
  FEATURE_COUNT,
  FEATURE_INDEX,
  FEATURES,
  type FeatureName,
  featureVector,
  type LearnedInputs,
  type ScoringInput,
} from "../../../src/core/scoring/features.js";
import { logit } from "../../../src/core/scoring/logistic.js";
import type { Severity } from "../../../src/core/types.js";

/** Monday 2026-11-30 08:30 UTC: 09:30 in Berlin (business hours), 03:30 in New York. */
const MONDAY_0830Z = Date.parse("2026-11-30T08:30:00Z");

const input = (over: Partial<ScoringInput> = {}): ScoringInput => ({
  at: MONDAY_0830Z,
  source: "metrics",
  alertKey: "k1",
  alertname: "Latency",
  service: "checkout",
  host: null,
  team: "payments",
  severity: "warning",
  tier: 3,
  serviceKnown: true,
  timezone: "UTC",
  upstream: null,
  eventCount: 1,
  incidentAlerts: 1,
  incidentAlertnames: 1,
  ...over,
});

const snap = (over: Partial<ContextSnapshot> = {}): ContextSnapshot => ({
  minutesSinceChange: null,
  serviceFires10m: 0,
  serviceFires24h: 0,
  keyTransitions1h: 0,
  keyTransitions24h: 0,
  hoursSinceSameAlertname: null,
  baseline: false,
  otherAlertnames10m: 0,
  otherSources10m: 0,
  otherHostAlertnames10m: 0,
  change30m: false,
  change60m: false,
  serviceIncidents24h: 0,
  teamOpenIncidents: 0,
  teamAlerts1h: 0,
  ...over,
});

const learned = (over: Partial<LearnedInputs> = {}): LearnedInputs => ({
  priorRate: 0.5,
  recentRate: 0.5,
  upstreamProbability: null,
  ...over,
});

/** The named features of one vector. */
function named(
  i: Partial<ScoringInput> = {},
  s: Partial<ContextSnapshot> = {},
  l: Partial<LearnedInputs> = {},
): Record<FeatureName, number> {
  const x = featureVector(input(i), snap(s), learned(l));
  return Object.fromEntries(FEATURES.map((f) => [f, x[FEATURE_INDEX[f]] as number])) as Record<
    FeatureName,
    number
  >;
}

describe("feature layout", () => {
  it("the vector has FEATURE_COUNT entries and FEATURE_INDEX names each position", () => {
    expect(FEATURE_COUNT).toBe(FEATURES.length);
    expect(new Set(FEATURES).size).toBe(FEATURE_COUNT);
    expect(Object.keys(FEATURE_INDEX)).toHaveLength(FEATURE_COUNT);
    FEATURES.forEach((f, i) => {
      expect(FEATURE_INDEX[f]).toBe(i);
    });
    expect(featureVector(input(), snap(), learned())).toHaveLength(FEATURE_COUNT);
  });

  it("fills the buffer it is given, every entry, and returns it", () => {
    const out = new Float64Array(FEATURE_COUNT).fill(Number.NaN);
    const x = featureVector(input(), snap(), learned(), out);
    expect(x).toBe(out);
    expect(Array.from(out).every(Number.isFinite)).toBe(true);
  });

  it("each feature is written at its own index (a value that only one feature has)", () => {
    // Distinct, recognizable values per count feature: each must land at its name's index.
    const f = named(
      { eventCount: 3, incidentAlerts: 5, incidentAlertnames: 7 },
      {
        keyTransitions1h: 10,
        keyTransitions24h: 11,
        otherAlertnames10m: 12,
        otherSources10m: 13,
        otherHostAlertnames10m: 14,
        serviceIncidents24h: 15,
        teamOpenIncidents: 16,
        teamAlerts1h: 17,
        hoursSinceSameAlertname: 18,
      },
    );
    expect(f.flap_1h).toBe(Math.log1p(10));
    expect(f.flap_24h).toBe(Math.log1p(11));
    expect(f.corr_alertnames).toBe(Math.log1p(12));
    expect(f.corr_sources).toBe(Math.log1p(13));
    expect(f.corr_host).toBe(Math.log1p(14));
    expect(f.service_incidents_24h).toBe(Math.log1p(15));
    expect(f.team_open).toBe(Math.log1p(16));
    expect(f.team_alerts_1h).toBe(Math.log1p(17));
    expect(f.since_same).toBe(Math.log1p(18));
    expect(f.repeats).toBe(Math.log1p(2));
    expect(f.incident_alerts).toBe(Math.log1p(4));
    expect(f.incident_alertnames).toBe(Math.log1p(6));
  });
});

describe("feature values", () => {
  it("learned rates enter as log-odds; recent as its difference from the prior", () => {
    const f = named({}, {}, { priorRate: 0.8, recentRate: 0.4 });
    expect(f.prior).toBeCloseTo(Math.log(4), 12);
    expect(f.recent).toBeCloseTo(logit(0.4) - logit(0.8), 12);
    // Rates of 0 and 1 are clamped, never infinite.
    const g = named({}, {}, { priorRate: 0, recentRate: 1 });
    expect(g.prior).toBeCloseTo(logit(1e-4), 9);
    expect(g.recent).toBeCloseTo(logit(1 - 1e-4) - logit(1e-4), 9);
  });

  it("severity is one-hot against warning", () => {
    const cases: [Severity, [number, number, number]][] = [
      ["critical", [1, 0, 0]],
      ["error", [0, 1, 0]],
      ["warning", [0, 0, 0]],
      ["info", [0, 0, 1]],
    ];
    for (const [severity, want] of cases) {
      const f = named({ severity });
      expect([f.sev_critical, f.sev_error, f.sev_info], severity).toEqual(want);
    }
  });

  it("tier is one-hot against tier 3, and an unknown service says so", () => {
    const cases: [number, [number, number, number]][] = [
      [0, [1, 0, 0]],
      [1, [0, 1, 0]],
      [2, [0, 0, 1]],
      [3, [0, 0, 0]],
    ];
    for (const [tier, want] of cases) {
      const f = named({ tier });
      expect([f.tier0, f.tier1, f.tier2], `tier ${tier}`).toEqual(want);
    }
    expect(named({ serviceKnown: true }).service_unknown).toBe(0);
    expect(named({ serviceKnown: false }).service_unknown).toBe(1);
  });

  it("the upstream probability enters as log-odds with a presence flag", () => {
    const none = named({ upstream: 0.9 }, {}, { upstreamProbability: null });
    expect([none.upstream, none.has_upstream]).toEqual([0, 0]);
    const some = named({ upstream: 3 }, {}, { upstreamProbability: 0.8 });
    expect(some.upstream).toBeCloseTo(Math.log(4), 12);
    expect(some.has_upstream).toBe(1);
  });

  it("counts enter as log1p; repeats and incident sizes count the others only", () => {
    const f = named({ eventCount: 1, incidentAlerts: 1, incidentAlertnames: 1 });
    expect([f.repeats, f.incident_alerts, f.incident_alertnames]).toEqual([0, 0, 0]);
    const g = named({ eventCount: 0, incidentAlerts: 0, incidentAlertnames: 0 });
    expect([g.repeats, g.incident_alerts, g.incident_alertnames]).toEqual([0, 0, 0]);
    // A flood of 500 weighs a bit over 3.5 times a burst of 5, not 100 times.
    expect(named({}, { otherAlertnames10m: 500 }).corr_alertnames).toBeCloseTo(Math.log(501), 12);
  });

  it("since_same is capped at 7 days; null (not within 7 days) counts as the cap", () => {
    expect(named({}, { hoursSinceSameAlertname: 2.5 }).since_same).toBeCloseTo(Math.log1p(2.5), 12);
    expect(named({}, { hoursSinceSameAlertname: 1000 }).since_same).toBeCloseTo(Math.log1p(168), 12);
    expect(named({}, { hoursSinceSameAlertname: null }).since_same).toBeCloseTo(Math.log1p(168), 12);
  });

  it("novel only with a baseline: a service seen for under a day has nothing to be new against", () => {
    expect(named({}, { hoursSinceSameAlertname: null, baseline: true }).novel).toBe(1);
    expect(named({}, { hoursSinceSameAlertname: null, baseline: false }).novel).toBe(0);
    expect(named({}, { hoursSinceSameAlertname: 3, baseline: true }).novel).toBe(0);
  });

  it("burst compares the last 10 minutes with the average 10 minutes of the day, only with a baseline", () => {
    expect(named({}, { serviceFires10m: 5, serviceFires24h: 144, baseline: true }).burst).toBeCloseTo(
      Math.log(3),
      12,
    );
    expect(named({}, { serviceFires10m: 0, serviceFires24h: 0, baseline: true }).burst).toBe(0);
    expect(named({}, { serviceFires10m: 5, serviceFires24h: 144, baseline: false }).burst).toBe(0);
  });

  it("changes are two flags", () => {
    const f = named({}, { change30m: false, change60m: true });
    expect([f.change_30m, f.change_60m]).toEqual([0, 1]);
    const g = named({}, { change30m: true, change60m: true });
    expect([g.change_30m, g.change_60m]).toEqual([1, 1]);
  });
});

describe("time of day in the service's time zone", () => {
  const angle = (h: number) => (2 * Math.PI * h) / 24;

  it("Monday 08:30 UTC is 09:30 in Berlin: business hours", () => {
    const f = named({ at: MONDAY_0830Z, timezone: "Europe/Berlin" });
    expect(f.business_hours).toBe(1);
    expect(f.weekend).toBe(0);
    expect(f.hour_sin).toBeCloseTo(Math.sin(angle(9.5)), 12);
    expect(f.hour_cos).toBeCloseTo(Math.cos(angle(9.5)), 12);
  });

  it("the same instant is outside business hours in UTC (08:30) and New York (03:30)", () => {
    const u = named({ at: MONDAY_0830Z, timezone: "UTC" });
    expect([u.business_hours, u.weekend]).toEqual([0, 0]);
    expect(u.hour_sin).toBeCloseTo(Math.sin(angle(8.5)), 12);
    const ny = named({ at: MONDAY_0830Z, timezone: "America/New_York" });
    expect([ny.business_hours, ny.weekend]).toEqual([0, 0]);
    expect(ny.hour_cos).toBeCloseTo(Math.cos(angle(3.5)), 12);
  });

  it("business hours are 09:00 to 17:00 local, ends excluded", () => {
    const berlin = (iso: string) => named({ at: Date.parse(iso), timezone: "Europe/Berlin" }).business_hours;
    expect(berlin("2026-11-30T07:59:00Z")).toBe(0); // 08:59
    expect(berlin("2026-11-30T08:00:00Z")).toBe(1); // 09:00
    expect(berlin("2026-11-30T15:59:00Z")).toBe(1); // 16:59
    expect(berlin("2026-11-30T16:00:00Z")).toBe(0); // 17:00
  });

  it("weekend follows the local day: Sunday 23:30 UTC is Monday 08:30 in Tokyo", () => {
    const at = Date.parse("2026-11-29T23:30:00Z");
    expect(named({ at, timezone: "UTC" }).weekend).toBe(1);
    expect(named({ at, timezone: "Asia/Tokyo" }).weekend).toBe(0);
    // Saturday midday in Berlin: weekend, so never business hours.
    const sat = named({ at: Date.parse("2026-11-28T11:00:00Z"), timezone: "Europe/Berlin" });
    expect([sat.weekend, sat.business_hours]).toEqual([1, 0]);
    // Monday 00:30 UTC is 09:30 in Tokyo: business hours there.
    expect(named({ at: Date.parse("2026-11-30T00:30:00Z"), timezone: "Asia/Tokyo" }).business_hours).toBe(1);
  });
});

describe("feature vector properties", () => {
  it("every entry is finite for any input", () => {
    const severity = fc.constantFrom<Severity>("critical", "error", "warning", "info");
    const count = fc.integer({ min: 0, max: 100_000 });
    const rate = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(
        fc.record({
          at: fc.integer({ min: Date.parse("2000-01-01"), max: Date.parse("2100-01-01") }),
          severity,
          tier: fc.integer({ min: 0, max: 3 }),
          serviceKnown: fc.boolean(),
          timezone: fc.constantFrom("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"),
          eventCount: count,
          incidentAlerts: count,
          incidentAlertnames: count,
        }),
        fc.record({
          serviceFires10m: count,
          serviceFires24h: count,
          keyTransitions1h: count,
          keyTransitions24h: count,
          hoursSinceSameAlertname: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true })),
          baseline: fc.boolean(),
          otherAlertnames10m: count,
          otherSources10m: count,
          otherHostAlertnames10m: count,
          change30m: fc.boolean(),
          change60m: fc.boolean(),
          minutesSinceChange: fc.option(fc.double({ min: 0, max: 60, noNaN: true })),
          serviceIncidents24h: count,
          teamOpenIncidents: count,
          teamAlerts1h: count,
        }),
        fc.record({ priorRate: rate, recentRate: rate, upstreamProbability: fc.option(rate) }),
        (i, s, l) => {
          const x = featureVector(input(i), s, l);
          expect(x).toHaveLength(FEATURE_COUNT);
          for (let k = 0; k < FEATURE_COUNT; k++) expect(Number.isFinite(x[k]), FEATURES[k]).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
