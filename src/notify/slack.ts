import { guard, postJson } from "./http.js";
import { actions, clip, facts, renderText, titleLine, topReasons } from "./render.js";
import type { Channel, ChannelConfig, DeliveryResult, Message } from "./types.js";

type SlackConfig = Extract<ChannelConfig, { kind: "slack" }>;

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `<url|text>`; the URL may not contain the delimiters, so they are percent-encoded. */
function link(href: string, text: string): string {
  const url = href.replace(/[<>|]/g, (c) => encodeURIComponent(c));
  return `<${url}|${escapeMrkdwn(text).replace(/\|/g, "¦")}>`;
}

/** Only a real member ID becomes a mention; anything else would be injected markup. */
function mention(m: Message): string | null {
  const id = m.recipient?.slack ?? null;
  return id !== null && /^[A-Z0-9]+$/i.test(id) ? `<@${id}>` : null;
}

/** An incoming-webhook payload: Block Kit blocks plus `text`, the notification fallback. */
export function slackPayload(m: Message): Record<string, unknown> {
  const who = mention(m);
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: clip(titleLine(m), 150), emoji: false } },
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip((who ? `${who} ` : "") + escapeMrkdwn(m.summary || "(no summary)"), 3000),
      },
      fields: facts(m).map(([label, value]) => ({
        type: "mrkdwn",
        text: clip(`*${label}*\n${escapeMrkdwn(value)}`, 2000),
      })),
    },
  ];
  const why: string[] = [];
  if (m.note !== null) why.push(escapeMrkdwn(m.note));
  if (m.rationale !== null) why.push(`*Why this route:* ${escapeMrkdwn(m.rationale)}`);
  for (const r of topReasons(m)) why.push(`• ${escapeMrkdwn(r)}`);
  if (why.length > 0)
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(why.join("\n"), 3000) } });
  const context = [`Incident #${m.incidentId}`, ...m.links.map((l) => link(l.href, l.text))];
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: clip(context.join(" · "), 3000) }] });
  // URL buttons: Slack opens the signed link in the browser, no interactivity endpoint needed.
  const buttons = actions(m).map((a) => ({
    type: "button",
    action_id: `pagewise_${a.action}`,
    text: { type: "plain_text", text: a.text },
    url: a.href,
    ...(a.action === "ack" ? { style: "primary" } : {}),
  }));
  if (buttons.length > 0) blocks.push({ type: "actions", elements: buttons });
  const fallback = (who ? `${who} ` : "") + escapeMrkdwn(renderText(m));
  return { text: clip(fallback, 3000), blocks };
}

export class SlackChannel implements Channel {
  readonly kind = "slack";
  readonly name: string;

  constructor(private readonly config: SlackConfig) {
    this.name = config.name;
  }

  send(message: Message, timeoutMs: number): Promise<DeliveryResult> {
    return guard(() => postJson(this.config.url, slackPayload(message), {}, timeoutMs));
  }
}
