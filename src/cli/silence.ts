import { PagewiseError } from "../core/errors.js";

/**
 * `pagewise silence add|list|expire`: a client of the running server's API (as amtool is of
 * Alertmanager's), so silences live in one place. URL and token from flags or PAGEWISE_URL /
 * PAGEWISE_TOKEN.
 */
export interface ApiOptions {
  url?: string;
  token?: string;
}

async function call(opts: ApiOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = opts.url ?? process.env.PAGEWISE_URL ?? "http://127.0.0.1:8080";
  const token = opts.token ?? process.env.PAGEWISE_TOKEN;
  if (token === undefined)
    throw new PagewiseError("PW_UNAUTHORIZED", "give --token or set PAGEWISE_TOKEN (an API token)");
  let res: Response;
  try {
    res = await fetch(new URL(path, url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new PagewiseError("PW_STORE_UNAVAILABLE", `cannot reach ${url}: ${(err as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as {
    error?: { message: string; errors?: { text: string }[] };
  };
  if (!res.ok) {
    const detail = json.error?.errors?.map((e) => e.text).join("; ");
    throw new PagewiseError(
      "PW_INVALID_QUERY",
      `${res.status}: ${json.error?.message ?? res.statusText}${detail ? ` (${detail})` : ""}`,
    );
  }
  return json;
}

export async function silenceAdd(
  opts: ApiOptions & { matcher: string[]; duration?: string; end?: string; start?: string; comment: string },
): Promise<void> {
  const body = {
    matchers: opts.matcher,
    comment: opts.comment,
    ...(opts.start === undefined ? {} : { starts_at: opts.start }),
    ...(opts.end === undefined ? { duration: opts.duration ?? "1h" } : { ends_at: opts.end }),
  };
  const r = (await call(opts, "POST", "/api/v1/silences", body)) as {
    silence: { id: number; ends_at: string };
  };
  console.log(`silence ${r.silence.id} added, until ${r.silence.ends_at}`);
}

export async function silenceList(opts: ApiOptions & { expired?: boolean }): Promise<void> {
  const r = (await call(opts, "GET", `/api/v1/silences${opts.expired === true ? "?expired=true" : ""}`)) as {
    silences: {
      id: number;
      state: string;
      matchers: string[];
      ends_at: string;
      author: string;
      comment: string;
    }[];
  };
  if (r.silences.length === 0) console.log("no silences");
  for (const s of r.silences) {
    console.log(
      `${s.id}\t${s.state}\tuntil ${s.ends_at}\t${s.author}\t${s.matchers.join(", ")}\t${s.comment}`,
    );
  }
}

export async function silenceExpire(opts: ApiOptions & { id: string }): Promise<void> {
  if (!/^\d+$/.test(opts.id))
    throw new PagewiseError("PW_INVALID_QUERY", `silence id "${opts.id}" is not a number`);
  await call(opts, "DELETE", `/api/v1/silences/${opts.id}`);
  console.log(`silence ${opts.id} expired`);
}
