/**
 * How a runbook step reaches the outside world. The service uses real HTTP (fetch); a game day
 * (`pagewise simulate` without --deliver) answers from its scenario instead.
 */
export interface ActionRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
}

export type ActionResponse =
  | { kind: "response"; status: number; body: string }
  | { kind: "error"; reason: string };

export type ActionHttp = (req: ActionRequest) => Promise<ActionResponse>;

const READ_LIMIT = 16 * 1024;

/** Real HTTP: redirects are not followed (an action's URL must name its endpoint). */
export const fetchAction: ActionHttp = async (req) => {
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    const text = await res.text();
    return { kind: "response", status: res.status, body: text.slice(0, READ_LIMIT) };
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string } };
    if (e?.name === "TimeoutError" || e?.name === "AbortError")
      return { kind: "error", reason: `timed out after ${req.timeoutMs} ms` };
    return {
      kind: "error",
      reason: `network error ${e?.cause?.code ?? ""}: ${e?.message ?? String(err)}`.trim(),
    };
  }
};
