import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed one-time links: a responder acknowledges or resolves from a phone's mail or chat
 * without an API token. The token names the incident, the action, the recipient and an expiry,
 * and carries an HMAC over them; the store remembers used tokens so a link works once.
 */
export type LinkAction = "acknowledge" | "resolve";

export interface LinkClaims {
  incidentId: number;
  action: LinkAction;
  recipient: string;
  expiresAt: number;
}

export class LinkSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlMs: number,
  ) {}

  sign(c: Omit<LinkClaims, "expiresAt">, now: number): string {
    const claims: LinkClaims = { ...c, expiresAt: now + this.ttlMs };
    const body = Buffer.from(
      JSON.stringify([claims.incidentId, claims.action, claims.recipient, claims.expiresAt]),
    ).toString("base64url");
    return `${body}.${this.mac(body)}`;
  }

  /** The claims of a valid, unexpired token; otherwise why not. */
  verify(
    token: string,
    now: number,
  ): { ok: true; claims: LinkClaims } | { ok: false; reason: "tampered" | "expired" } {
    const dot = token.indexOf(".");
    if (dot <= 0) return { ok: false, reason: "tampered" };
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const want = Buffer.from(this.mac(body), "base64url");
    if (given.length !== want.length || !timingSafeEqual(given, want))
      return { ok: false, reason: "tampered" };
    let parts: unknown;
    try {
      parts = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return { ok: false, reason: "tampered" };
    }
    if (!Array.isArray(parts) || parts.length !== 4) return { ok: false, reason: "tampered" };
    const [incidentId, action, recipient, expiresAt] = parts as [number, LinkAction, string, number];
    if (action !== "acknowledge" && action !== "resolve") return { ok: false, reason: "tampered" };
    if (now >= expiresAt) return { ok: false, reason: "expired" };
    return { ok: true, claims: { incidentId, action, recipient, expiresAt } };
  }

  /** A calendar feed's key: calendar apps cannot send a bearer token, so the URL carries this. */
  feedKey(schedule: string): string {
    return this.mac(`ics:${schedule}`).slice(0, 32);
  }

  private mac(body: string): string {
    return createHmac("sha256", this.secret).update(body).digest("base64url");
  }
}
