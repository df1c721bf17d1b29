import nodemailer from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import { excerpt, guard } from "./http.js";
import { actions, facts, renderText, scoreText, titleLine, topReasons } from "./render.js";
import type { Channel, ChannelConfig, DeliveryResult, Message } from "./types.js";

type EmailConfig = Extract<ChannelConfig, { kind: "email" }>;

export const IDEMPOTENCY_HEADER = "X-Pagewise-Idempotency-Key";

/** Errors nodemailer raises before talking to the server: retrying cannot fix them. */
const PERMANENT = new Set(["EENVELOPE", "EMESSAGE", "ECONFIG", "ENOAUTH", "EFILEACCESS", "EURLACCESS"]);

/**
 * SMTP's classification, the one exception to http.ts: its reply codes are not HTTP's. A 4xx
 * reply is transient and retries, a 5xx reply is permanent and fails, and an error without a
 * reply (connection refused, reset, timed out) retries unless it is a local mistake.
 */
export function classifySmtpError(err: unknown): DeliveryResult {
  const e = (err ?? {}) as { responseCode?: unknown; code?: unknown; message?: unknown };
  const reply = typeof e.responseCode === "number" ? e.responseCode : null;
  const reason = `SMTP ${reply ?? e.code ?? "error"}: ${excerpt(String(e.message ?? err))}`;
  if (reply !== null && reply >= 400 && reply < 500) return { kind: "retry", reason, afterMs: null };
  if (reply !== null && reply >= 500) return { kind: "failed", reason };
  if (typeof e.code === "string" && PERMANENT.has(e.code)) return { kind: "failed", reason };
  return { kind: "retry", reason, afterMs: null };
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Only http(s) links become anchors: an alert's own link could be `javascript:`. */
function anchor(href: string, text: string): string {
  return /^https?:\/\//i.test(href)
    ? `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`
    : escapeHtml(text);
}

export function renderHtml(m: Message): string {
  const parts = [`<h2>${escapeHtml(titleLine(m))}</h2>`, `<p>${escapeHtml(m.summary)}</p>`];
  const rows = facts(m).map(
    ([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`,
  );
  parts.push(`<table>${rows.join("")}</table>`);
  if (m.note !== null) parts.push(`<p>${escapeHtml(m.note)}</p>`);
  if (m.rationale !== null) parts.push(`<p><b>Why this route:</b> ${escapeHtml(m.rationale)}</p>`);
  const reasons = topReasons(m);
  if (reasons.length > 0) parts.push(`<ul>${reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`);
  if (m.links.length > 0) parts.push(`<p>${m.links.map((l) => anchor(l.href, l.text)).join(" · ")}</p>`);
  const acts = actions(m);
  if (acts.length > 0) parts.push(`<p><b>${acts.map((a) => anchor(a.href, a.text)).join(" · ")}</b></p>`);
  parts.push(`<p><small>Incident #${m.incidentId}</small></p>`);
  return `<!doctype html><html><body>${parts.join("\n")}</body></html>`;
}

/** A Message-ID from the key, so a resent notification is recognisably the same mail. */
function messageId(key: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? "pagewise.invalid";
  return `<pagewise.${key.replace(/[^A-Za-z0-9._-]/g, "-")}@${domain}>`;
}

export function emailOptions(m: Message, config: EmailConfig): nodemailer.SendMailOptions {
  const to = m.recipient?.email ? [m.recipient.email] : config.to;
  return {
    from: config.from,
    to,
    subject: `${titleLine(m)} · score ${scoreText(m)}`.replace(/\s+/g, " "),
    text: renderText(m),
    html: renderHtml(m),
    messageId: messageId(m.idempotencyKey, config.from),
    headers: { [IDEMPOTENCY_HEADER]: m.idempotencyKey, "X-Pagewise-Incident": String(m.incidentId) },
  };
}

export class EmailChannel implements Channel {
  readonly kind = "email";
  readonly name: string;
  private readonly transport: nodemailer.Transporter<SMTPPool.SentMessageInfo>;

  constructor(private readonly config: EmailConfig) {
    this.name = config.name;
    // Pooled: a burst of pages reuses a few connections instead of a handshake per mail.
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 2,
      host: config.host,
      port: config.port,
      secure: config.secure,
      auth: config.user !== null ? { user: config.user, pass: config.pass ?? "" } : undefined,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
    });
  }

  send(message: Message, timeoutMs: number): Promise<DeliveryResult> {
    return guard(async () => {
      const options = emailOptions(message, this.config);
      if (Array.isArray(options.to) && options.to.length === 0) {
        return { kind: "failed", reason: "no recipient: the user has no email and the channel no `to`" };
      }
      let timer: NodeJS.Timeout | undefined;
      // nodemailer has no per-send deadline; past ours the mail may still go out (at least once).
      const late = new Promise<DeliveryResult>((resolve) => {
        timer = setTimeout(() => resolve({ kind: "retry", reason: "timed out", afterMs: null }), timeoutMs);
      });
      const sent = this.transport.sendMail(options).then(
        (info): DeliveryResult => ({
          kind: "delivered",
          detail:
            info.rejected.length > 0
              ? `${info.response}; rejected ${info.rejected.map(String).join(", ")}`
              : info.response,
        }),
        classifySmtpError,
      );
      try {
        return await Promise.race([sent, late]);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
