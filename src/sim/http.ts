import type { ActionHttp, ActionResponse } from "../automation/action-http.js";
import type { Clock } from "../core/clock.js";
import type { HttpAnswer } from "./scenario.js";

/** A runbook step's request as a game day saw it. */
export interface HttpCall {
  seq: number;
  at: number;
  method: string;
  url: string;
  response: ActionResponse;
}

/**
 * Runbook HTTP in capture mode, answered from the scenario's `http:` list. Answers that match the
 * same request are used in turn and the last one repeats, so "500 then 200" is two entries.
 * A request nothing matches gets a 200.
 */
export function scriptedHttp(answers: readonly HttpAnswer[], clock: Clock, calls: HttpCall[]): ActionHttp {
  const used = new Set<HttpAnswer>();
  return async (req) => {
    const method = req.method.toUpperCase();
    const matching = answers.filter((a) => a.url === req.url && (a.method === null || a.method === method));
    const answer = matching.find((a) => !used.has(a)) ?? matching.at(-1);
    if (answer !== undefined) used.add(answer);
    const response: ActionResponse =
      answer === undefined
        ? { kind: "response", status: 200, body: "" }
        : answer.reply.kind === "error"
          ? { kind: "error", reason: answer.reply.reason }
          : { kind: "response", status: answer.reply.status, body: answer.reply.body };
    calls.push({ seq: calls.length, at: clock.now(), method, url: req.url, response });
    return response;
  };
}
