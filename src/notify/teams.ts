import { guard, postJson } from "./http.js";
import { actions, facts, renderText, titleLine, topReasons } from "./render.js";
import type { Channel, ChannelConfig, DeliveryResult, Message } from "./types.js";

type TeamsConfig = Extract<ChannelConfig, { kind: "teams" }>;

const ATTENTION: Record<string, string> = { critical: "Attention", error: "Attention", warning: "Warning" };

/** `[text](href)` for a TextBlock; brackets in the text would end the link early. */
function link(href: string, text: string): string {
  return `[${text.replace(/[[\]]/g, "")}](${href.replace(/[()]/g, (c) => encodeURIComponent(c))})`;
}

/** The Adaptive Card (1.4, what Teams renders) with Action.OpenUrl buttons for ack/resolve. */
export function teamsCard(m: Message): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    {
      type: "TextBlock",
      text: titleLine(m),
      weight: "Bolder",
      size: "Medium",
      wrap: true,
      color: ATTENTION[m.severity] ?? "Default",
    },
    { type: "TextBlock", text: m.summary, wrap: true },
    { type: "FactSet", facts: facts(m).map(([title, value]) => ({ title, value })) },
  ];
  if (m.note !== null) body.push({ type: "TextBlock", text: m.note, wrap: true });
  if (m.rationale !== null) {
    body.push({ type: "TextBlock", text: `**Why this route:** ${m.rationale}`, wrap: true });
  }
  // One block per reason: markdown lists render differently across Teams clients.
  for (const r of topReasons(m))
    body.push({ type: "TextBlock", text: `• ${r}`, wrap: true, spacing: "None" });
  const links = [...m.links.map((l) => link(l.href, l.text)), `Incident #${m.incidentId}`];
  body.push({ type: "TextBlock", text: links.join(" · "), wrap: true, isSubtle: true, size: "Small" });
  return {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    // Shown in notifications and by clients that cannot render the card.
    fallbackText: renderText(m),
    body,
    actions: actions(m).map((a) => ({ type: "Action.OpenUrl", title: a.text, url: a.href, id: a.action })),
  };
}

export function teamsPayload(m: Message): Record<string, unknown> {
  return {
    type: "message",
    attachments: [
      { contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: teamsCard(m) },
    ],
  };
}

export class TeamsChannel implements Channel {
  readonly kind = "teams";
  readonly name: string;

  constructor(private readonly config: TeamsConfig) {
    this.name = config.name;
  }

  send(message: Message, timeoutMs: number): Promise<DeliveryResult> {
    return guard(() => postJson(this.config.url, teamsPayload(message), {}, timeoutMs));
  }
}
