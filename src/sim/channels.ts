import type { Clock } from "../core/clock.js";
import { classifyResponse } from "../notify/http.js";
import { makeChannel } from "../notify/index.js";
import type { Channel, ChannelConfig, ChannelKind, DeliveryResult, Message } from "../notify/types.js";

/** One send attempt as a game day saw it, at its virtual time. */
export interface Attempt {
  seq: number;
  at: number;
  /** The outbox channel name ("user-webhook" for a person's own webhook). */
  channel: string;
  channelKind: ChannelKind;
  recipient: string | null;
  message: Message;
  outcome: DeliveryResult["kind"];
  /** Why it was retried or failed; null when delivered. */
  reason: string | null;
}

export interface Outage {
  channel: string;
  from: number;
  until: number;
}

/**
 * The channels a game day's Deliverer uses. Capture mode answers every send itself; deliver mode
 * sends through the real channel. Either way a channel inside an outage answers 503 through the
 * one HTTP outcome rule, so the real outbox backoff and retries run.
 */
export class Switchboard {
  readonly attempts: Attempt[] = [];
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly outages: readonly Outage[],
    private readonly deliver: boolean,
  ) {}

  readonly channelFor = (name: string, config: ChannelConfig): Channel => {
    const real = this.deliver ? makeChannel(config) : null;
    return {
      name: config.name,
      kind: config.kind,
      send: async (message, timeoutMs) => {
        const seq = this.seq++;
        const at = this.clock.now();
        const down = this.outages.some((o) => o.channel === name && o.from <= at && at < o.until);
        let result: DeliveryResult;
        if (down) result = classifyResponse(503, null, "game day: channel outage", at);
        else if (real !== null) result = await real.send(message, timeoutMs);
        else result = { kind: "delivered", detail: "captured" };
        this.attempts.push({
          seq,
          at,
          channel: name,
          channelKind: config.kind,
          recipient: message.recipient?.user ?? null,
          message,
          outcome: result.kind,
          reason: result.kind === "delivered" ? null : result.reason,
        });
        return result;
      },
      close: async () => {
        await real?.close?.();
      },
    };
  };
}
