import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { Config, Source } from "../config/types.js";
import { formatProblem, PagewiseError } from "../core/errors.js";
import type { InboundEvent } from "../core/types.js";
import { type GenericMode, parseGenericEvent } from "../ingest/generic.js";

/**
 * History files: JSON Lines (`.jsonl`, or gzip'd `.jsonl.gz`) of generic events plus `outcome`,
 * in time order. Streamed line by line, never loaded whole. A bad line stops the run with its
 * file, line, field and reason.
 */

/** Documented defaults for a source the config does not declare (README, "History files"). */
export function undeclaredSource(name: string): Source {
  return {
    name,
    kind: "generic",
    key: "",
    reliability: 0.1,
    owner: null,
    labels: {},
    groupBy: null,
    serviceLabels: ["service", "job"],
    defaultService: null,
    defaultSeverity: "warning",
    severityMap: {},
    autoResolveAfter: 5 * 60_000,
    resolveTimeout: 5 * 60_000,
    upstreamAnnotations: [],
  };
}

/** The config with every undeclared source added as it is first met; the names are recorded. */
export class HistorySources {
  readonly undeclared = new Set<string>();
  constructor(readonly config: Config) {}

  sourceFor = (name: string): Source => {
    const s = this.config.sources.get(name);
    if (s !== undefined) return s;
    const made = { ...undeclaredSource(name), upstreamAnnotations: this.config.upstreamAnnotations };
    (this.config.sources as Map<string, Source>).set(name, made);
    this.undeclared.add(name);
    return made;
  };
}

export interface HistoryProgress {
  file: string;
  bytesRead: number;
  bytesTotal: number;
  events: number;
}

/** Several files are merged by time (each must be in time order itself). */
export async function* readHistory(
  files: readonly string[],
  sources: HistorySources,
  onProgress?: (p: HistoryProgress) => void,
): AsyncGenerator<InboundEvent & { at: number }> {
  const streams = files.map((f) => readFile(f, sources, onProgress));
  const heads: ({ value: InboundEvent & { at: number } } | null)[] = [];
  for (const s of streams) {
    const r = await s.next();
    heads.push(r.done === true ? null : { value: r.value });
  }
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h != null && (best < 0 || h.value.at < (heads[best] as { value: { at: number } }).value.at))
        best = i;
    }
    if (best < 0) return;
    const head = heads[best] as { value: InboundEvent & { at: number } };
    yield head.value;
    const r = await (streams[best] as AsyncGenerator<InboundEvent & { at: number }>).next();
    heads[best] = r.done === true ? null : { value: r.value };
  }
}

async function* readFile(
  file: string,
  sources: HistorySources,
  onProgress?: (p: HistoryProgress) => void,
): AsyncGenerator<InboundEvent & { at: number }> {
  const mode: GenericMode = { kind: "history", sourceFor: sources.sourceFor };
  let events = 0;
  let lastAt = Number.NEGATIVE_INFINITY;
  let total: number;
  try {
    total = statSync(file).size;
  } catch (err) {
    throw new PagewiseError("PW_INVALID_BODY", `cannot read history file ${file}: ${(err as Error).message}`);
  }
  const raw = createReadStream(file);
  let bytesRead = 0;
  raw.on("data", (chunk) => {
    bytesRead += chunk.length;
  });
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        throw bad(file, lineNo, "", `malformed JSON: ${(err as Error).message}`);
      }
      const r = parseGenericEvent(obj, mode);
      if (!r.ok) {
        const first = r.problems[0];
        throw new PagewiseError(
          "PW_INVALID_EVENT",
          `${file}:${lineNo}: ${first === undefined ? "invalid event" : formatProblem(first)}`,
          r.problems.map((p) => ({ ...p, path: `${file}:${lineNo}: ${p.path}` })),
        );
      }
      const at = r.event.at as number;
      if (at < lastAt)
        throw bad(file, lineNo, "at", "is earlier than the previous event (history must be in time order)");
      lastAt = at;
      events++;
      if (onProgress !== undefined && events % 20_000 === 0)
        onProgress({ file, bytesRead, bytesTotal: total, events });
      yield r.event as InboundEvent & { at: number };
    }
  } catch (err) {
    if (err instanceof PagewiseError) throw err;
    throw bad(file, lineNo, "", `cannot read: ${(err as Error).message}`);
  } finally {
    raw.destroy();
  }
  onProgress?.({ file, bytesRead: total, bytesTotal: total, events });
}

function bad(file: string, line: number, field: string, reason: string): PagewiseError {
  const path = `${file}:${line}${field === "" ? "" : `: ${field}`}`;
  return new PagewiseError("PW_INVALID_EVENT", `${path}: ${reason}`, [{ path, reason }]);
}
