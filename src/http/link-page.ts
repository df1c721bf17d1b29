import type { Incident } from "../core/incident.js";
import type { LinkClaims } from "../engine/links.js";

/**
 * The small HTML pages behind signed ack/resolve links. A GET only shows what the link would do:
 * mail scanners and chat unfurlers fetch links, so acting takes a POST from the page's button.
 */
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)} - Pagewise</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
button{font-size:1.2rem;padding:.8rem 1.4rem;border-radius:.4rem;border:0;background:#1f6feb;color:#fff}
.muted{color:#666}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

const verb = (a: LinkClaims["action"]) => (a === "acknowledge" ? "Acknowledge" : "Resolve");

function describe(i: Incident | undefined, c: LinkClaims): string {
  if (i === undefined) return `<p>Incident #${c.incidentId}</p>`;
  const where = [i.service, i.team && `team ${i.team}`].filter(Boolean).join(", ");
  return `<p><strong>#${i.id} [${esc(i.severity)}] ${esc(i.summary)}</strong></p>
<p class="muted">${esc(where)} &middot; status ${esc(i.status)}</p>`;
}

export function confirmPage(c: LinkClaims, incident: Incident | undefined): string {
  return page(
    `${verb(c.action)} incident #${c.incidentId}?`,
    `${describe(incident, c)}<form method="post"><button type="submit">${verb(c.action)} as ${esc(c.recipient)}</button></form>`,
  );
}

export function donePage(c: LinkClaims, incident: Incident): string {
  const done = c.action === "acknowledge" ? "Acknowledged" : "Resolved";
  return page(`${done} #${incident.id}`, `${describe(incident, c)}<p>${done} by ${esc(c.recipient)}.</p>`);
}

export function alreadyPage(c: LinkClaims, incident: Incident | undefined): string {
  const state = incident === undefined ? "" : ` It is ${esc(incident.status)}.`;
  return page(
    "Already taken",
    `${describe(incident, c)}<p>This action was already taken: the link works once.${state}</p>`,
  );
}

export function refusedPage(reason: "tampered" | "expired"): string {
  return reason === "expired"
    ? page("Link expired", "<p>This link has expired. Use the newest notification, or the API.</p>")
    : page("Invalid link", "<p>This link is not valid: it was changed or cut short.</p>");
}
