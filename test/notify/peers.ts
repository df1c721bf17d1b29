import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { expect } from "vitest";
import type { Message } from "../../src/notify/types.js";

/** Real peers for the channel tests: an HTTP server and an SMTP server, both recording. */

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

export interface HttpPeer {
  url: string;
  requests: Recorded[];
  /** The n-th request's body as JSON. */
  json(n?: number): unknown;
  close(): Promise<void>;
}

export async function httpPeer(
  reply: Reply | ((req: Recorded) => Reply) = { status: 200 },
): Promise<HttpPeer> {
  const requests: Recorded[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(rec);
      const r = typeof reply === "function" ? reply(rec) : reply;
      const answer = () => {
        res.writeHead(r.status, r.headers ?? {});
        res.end(r.body ?? "");
      };
      if (r.delayMs === undefined) return answer();
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) answer();
      }, r.delayMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    json: (n = 0) => JSON.parse(requests[n]?.body ?? "null"),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** A port that refuses connections: bound, noted, then closed. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

export interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP reply to refuse with: `{ code: 451, text: "try later" }`. */
export interface SmtpRefusal {
  code: number;
  text: string;
}

export interface SmtpPeer {
  port: number;
  mails: Mail[];
  close(): Promise<void>;
}

function refusal(r: SmtpRefusal): Error {
  return Object.assign(new Error(r.text), { responseCode: r.code });
}

export interface SmtpPeerOptions {
  rcpt?: (address: string) => SmtpRefusal | null;
  /** Answer to the end of DATA; may wait (a slow server). */
  data?: () => SmtpRefusal | null | Promise<SmtpRefusal | null>;
}

export async function smtpPeer(opts: SmtpPeerOptions = {}): Promise<SmtpPeer & { connections: number }> {
  const mails: Mail[] = [];
  let connections = 0;
  const server = new SMTPServer({
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    closeTimeout: 2000,
    onRcptTo(address, _session, callback) {
      const r = opts.rcpt?.(address.address) ?? null;
      callback(r ? refusal(r) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const r = (await opts.data?.()) ?? null;
        if (r) return callback(refusal(r));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        mails.push({
          from,
          to: session.envelope.rcptTo.map((a) => a.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ParsedMail {
  headers: Map<string, string>;
  text: string;
  html: string;
}

/** Just enough MIME to read what nodemailer writes: headers, multipart, QP and base64. */
export function parseMail(raw: string): ParsedMail {
  const out: ParsedMail = { headers: new Map(), text: "", html: "" };
  const walk = (part: string, top: boolean) => {
    const split = part.indexOf("\r\n\r\n");
    const head = new Map<string, string>();
    for (const line of part
      .slice(0, split)
      .replace(/\r\n[ \t]+/g, " ")
      .split("\r\n")) {
      const colon = line.indexOf(":");
      head.set(line.slice(0, colon).toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
    }
    if (top) out.headers = head;
    const body = part.slice(split + 4);
    const type = head.get("content-type") ?? "text/plain";
    const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
    if (boundary !== undefined) {
      for (const child of body.split(`--${boundary}`).slice(1, -1)) walk(child.replace(/^\r\n/, ""), false);
      return;
    }
    const cte = head.get("content-transfer-encoding") ?? "7bit";
    const decoded =
      cte === "base64"
        ? Buffer.from(body, "base64").toString("utf8")
        : cte === "quoted-printable"
          ? fromBytes(
              body
                .replace(/=\r\n/g, "")
                .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
            )
          : body;
    if (type.startsWith("text/html")) out.html = decoded.replace(/\r\n$/, "");
    else if (type.startsWith("text/plain")) out.text = decoded.replace(/\r\n/g, "\n").replace(/\n$/, "");
  };
  walk(raw, true);
  return out;
}

function fromBytes(latin1: string): string {
  return Buffer.from(latin1, "latin1").toString("utf8");
}

/** RFC 2047 encoded words, as in a Subject with non-ASCII characters. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : fromBytes(
            text
              .replace(/_/g, " ")
              .replace(/=([0-9A-F]{2})/gi, (__, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
          ),
    );
}

/** Fails when a TCP socket or server is still open after the peers were closed. */
export async function expectNoSockets(): Promise<void> {
  const open = () =>
    process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap");
  for (let i = 0; i < 100 && open().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(open()).toEqual([]);
}

/** A message with a fact in every field, and characters that need escaping in every format. */
export function sampleMessage(over: Partial<Message> = {}): Message {
  return {
    kind: "page",
    incidentId: 42,
    idempotencyKey: "ntf-42-7-c0ffee",
    title: "Checkout 5xx rate above 5%",
    summary: 'Checkout returns 5xx for 7.2% of requests <eu-1> & "cart" path',
    status: "triggered",
    service: "checkout",
    team: "payments",
    severity: "critical",
    score: 0.9342,
    band: "high",
    rule: "tier0-high-pages",
    rationale: "Tier-0 services with high confidence page the on-call at once",
    reasons: [
      "+0.84 corroborated by 2 other sources",
      "+0.41 error budget burning 14x",
      "-0.12 deploy 3 minutes ago",
      "+0.05 weekday business hours",
      "+0.03 source reliability high",
      "+0.01 the sixth reason, beyond the top five",
    ],
    links: [
      { href: "https://grafana.example/d/checkout?from=now-1h&var=eu", text: "Dashboard" },
      { href: "https://pagewise.example/incidents/42/decision", text: "Decision" },
      { href: "https://wiki.example/runbooks/checkout-5xx", text: "Runbook" },
    ],
    ackUrl: "https://pagewise.example/a/42/ack?r=alice&exp=1767225600&sig=Zm9vYmFy",
    resolveUrl: "https://pagewise.example/a/42/resolve?r=alice&exp=1767225600&sig=YmF6cXV4",
    recipient: {
      user: "alice",
      email: "alice@example.com",
      slack: "U024BE7LH",
      phone: "+15550100",
      webhook: null,
    },
    note: null,
    ...over,
  };
}

/** The five facts every channel must carry, as they appear in text. */
export const FACTS = [
  "0.93",
  "high",
  "Tier-0 services with high confidence page the on-call at once",
  "+0.84 corroborated by 2 other sources",
  "+0.41 error budget burning 14x",
];
